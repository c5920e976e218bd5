"""Training submodule: generated spectra, the U-Net builder, training, export.

Nothing here is imported by the inference path; importing this module
does not import Keras either (the network builder and trainer import it
when they are first used).
"""

from .config import (
    ContinuumConfig,
    GeneratorConfig,
    NearZlpPeaks,
    NetworkConfig,
    OptimiserConfig,
    ShapeWeights,
    TrainingConfig,
)
from .generator import GeneratedSet, SpectrumGenerator, load_measured_zlp

__all__ = [
    "ContinuumConfig",
    "GeneratedSet",
    "GeneratorConfig",
    "NearZlpPeaks",
    "NetworkConfig",
    "OptimiserConfig",
    "ShapeWeights",
    "SpectrumGenerator",
    "TrainingConfig",
    "load_measured_zlp",
]
