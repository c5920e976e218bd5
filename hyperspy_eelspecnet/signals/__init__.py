"""The HyperSpy glue: the methods this package adds to exspy's EELS signals.

Each method checks its input, hands plain arrays to a kernel in
:mod:`hyperspy_eelspecnet.inference` or
:mod:`hyperspy_eelspecnet.restoration` and returns a signal with the
input's axes and metadata.

Modules
-------
register
    Attaches the methods to ``EELSSpectrum`` when the package is imported.
deconvolution
    ``s.deconvolve_eelspecnet`` and ``s.richardson_lucy``.
line_profile
    ``s.line_profile``: modal-evolution maps along a line.
"""

from hyperspy_eelspecnet.signals.register import register_methods

__all__ = ["register_methods"]
