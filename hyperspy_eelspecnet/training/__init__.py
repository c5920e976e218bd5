"""Training: configuration, the U-Net builder, losses, training, export.

The spectra it trains on come from :mod:`hyperspy_eelspecnet.simulation`.
Nothing outside this subpackage imports it, and importing it does not
import Keras: the network builder and the trainer import Keras when they
are first used.

Modules
-------
config
    :class:`TrainingConfig`, the versioned YAML recipe of a model.
network
    The 1D U-Net builder and its presets.
losses
    The asinh-scale loss with its linear and difference terms.
run_dir
    The files of a run directory, shared by training and export.
train
    Training with checkpoints and bit-exact resume.
export
    Export of a training run to a model directory with its card.
"""

from hyperspy_eelspecnet.training.config import (
    NetworkConfig,
    OptimiserConfig,
    TrainingConfig,
)

__all__ = ["NetworkConfig", "OptimiserConfig", "TrainingConfig"]
