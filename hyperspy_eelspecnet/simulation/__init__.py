"""Simulated spectra: the training generator and the nanowire map.

Used by training, evaluation, the bundled data, the tests and the
benchmarks; the inference path imports nothing from here.

Modules
-------
config
    :class:`GeneratorConfig`, the typed ranges of the generated spectra.
generator
    :class:`SpectrumGenerator`: ground truths put through jitter, the
    optical transfer function and detector noise, for whole batches.
nanowire
    The synthetic silver-nanowire spectrum image of the demo.
"""

from hyperspy_eelspecnet.simulation.config import (
    ContinuumConfig,
    CropConfig,
    GeneratorConfig,
    NearZlpPeaks,
    PeakShapeWeights,
    ReferenceConfig,
    ShapeWeights,
)
from hyperspy_eelspecnet.simulation.generator import (
    GeneratedSet,
    SpectrumGenerator,
    load_measured_zlp,
)

__all__ = [
    "ContinuumConfig",
    "CropConfig",
    "GeneratedSet",
    "GeneratorConfig",
    "NearZlpPeaks",
    "PeakShapeWeights",
    "ReferenceConfig",
    "ShapeWeights",
    "SpectrumGenerator",
    "load_measured_zlp",
]
