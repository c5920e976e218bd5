"""Add this package's methods to exspy's EELS signal classes."""

from __future__ import annotations

from importlib import import_module

#: Method name to the module (in this package) that defines it.
_METHODS = {
    "deconvolve_eelspecnet": "signal_methods",
    "richardson_lucy": "signal_methods",
    "line_profile": "line_profile",
}


def register_methods() -> None:
    """Attach the methods to ``EELSSpectrum`` (``LazyEELSSpectrum`` inherits).

    Called when :mod:`hyperspy_eelspecnet` is imported, as xarray and
    pandas register accessors. Idempotent.
    """
    from exspy.signals import EELSSpectrum

    for name, module in _METHODS.items():
        setattr(EELSSpectrum, name, getattr(import_module(f".{module}", __package__), name))
