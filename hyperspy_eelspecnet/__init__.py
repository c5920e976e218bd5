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

Importing the package does not import TensorFlow or Keras: a network is
loaded when it is first used, once per process.
"""

from importlib import import_module

from ._register import register_methods
from .registry import list_models

__all__ = ["list_models", "register_methods", "data", "metrics", "training"]

register_methods()


def __getattr__(name):
    if name in ("data", "metrics", "training"):
        return import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
