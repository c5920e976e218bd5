"""Add this package's methods to exspy's EELS signal classes."""

from __future__ import annotations

import warnings
from importlib import import_module

#: Method name to the module (in this package) that defines it.
_METHODS = {
    "deconvolve_eelspecnet": "deconvolution",
    "richardson_lucy": "deconvolution",
    "line_profile": "line_profile",
}


def register_methods() -> None:
    """Attach the methods to ``EELSSpectrum`` (``LazyEELSSpectrum`` inherits).

    Called when :mod:`hyperspy_eelspecnet` is imported, as xarray and
    pandas register accessors. Idempotent.
    """
    with warnings.catch_warnings():
        # exspy 0.3 imports HyperSpy 2.5's lazy classes from their old
        # modules; that notice is for exspy's developers, not our users.
        warnings.filterwarnings("ignore", message="Importing `Lazy")
        from exspy.signals import EELSSpectrum

    for name, module in _METHODS.items():
        setattr(EELSSpectrum, name, getattr(import_module(f".{module}", __package__), name))
