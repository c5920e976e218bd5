"""Classical restoration: Richardson-Lucy and the PSF helpers.

Modules
-------
richardson_lucy
    Batched Richardson-Lucy on plain arrays, PSF normalising and centring,
    FFT convolution with a PSF.
"""

from hyperspy_eelspecnet.restoration.richardson_lucy import (
    convolve_psf,
    richardson_lucy_kernel,
)

__all__ = ["convolve_psf", "richardson_lucy_kernel"]
