"""Add this package's methods to exspy's EELS signal classes."""

from __future__ import annotations

_METHODS = ("deconvolve_eelspecnet", "richardson_lucy")


def register_methods() -> None:
    """Attach the methods to ``EELSSpectrum`` (``LazyEELSSpectrum`` inherits).

    Called when :mod:`hyperspy_eelspecnet` is imported, as xarray and
    pandas register accessors. Idempotent.
    """
    from exspy.signals import EELSSpectrum

    from . import signal_methods

    for name in _METHODS:
        setattr(EELSSpectrum, name, getattr(signal_methods, name))
