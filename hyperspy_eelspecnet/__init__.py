"""EELSpecNet deconvolution of near-zero-loss EELS spectrum images.

Importing this package adds three methods to exspy's ``EELSSpectrum`` and
``LazyEELSSpectrum``:

- ``s.deconvolve_eelspecnet(model="nzeels-2048")``: the EELSpecNet
  restoration (Mousavi et al., Sci. Rep. 12, 17462, 2022) with a model
  shipped in the package or exported by :mod:`hyperspy_eelspecnet.training`;
- ``s.richardson_lucy(psf, iterations=50)``: batched Richardson-Lucy, for
  a side-by-side comparison;
- ``s.line_profile(line, width=7)``: a modal-evolution map (position along
  a line x energy) averaged across the line's width.

Importing the package does not import TensorFlow or Keras, the generator
or the training code: a network is loaded when it is first used, once
per process, and the subpackages below load when first named.

Subpackages
-----------
signals
    The HyperSpy glue: the signal methods and their input checks.
inference
    Restoration of plain arrays: alignment, value scale, domain, blocks.
models
    The shipped models, the registry and the custom layers.
restoration
    Richardson-Lucy and the PSF helpers.
simulation
    The spectrum generator and the nanowire map.
training
    Configuration, network, losses, training and export.
evaluation
    Generated evaluation sets, real-data checks, plots.
tools
    Batch processing and the demo.
io, data
    The DM4 writer; the bundled example map.
"""

from importlib import import_module
from importlib.metadata import version as _version

from hyperspy_eelspecnet.models.registry import list_models
from hyperspy_eelspecnet.signals.register import register_methods

__version__ = _version("hyperspy_eelspecnet")

_SUBMODULES = ("data", "evaluation", "inference", "io", "metrics", "models",
               "restoration", "signals", "simulation", "tools", "training")

__all__ = ["__version__", "list_models", "register_methods", *_SUBMODULES]

register_methods()


def __getattr__(name):
    if name in _SUBMODULES:
        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
