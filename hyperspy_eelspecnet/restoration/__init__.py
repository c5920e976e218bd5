"""Classical restoration: Richardson-Lucy and the PSF helpers.

Modules
-------
convolution
    FFT convolution of spectra with a kernel given by its transfer
    function, shared by the simulations, the metrics and Richardson-Lucy.
richardson_lucy
    Batched Richardson-Lucy on plain arrays, PSF normalising and centring,
    FFT convolution with a PSF.
"""

from hyperspy_eelspecnet.restoration.convolution import fft_convolve
from hyperspy_eelspecnet.restoration.richardson_lucy import (
    check_iterations,
    convolve_psf,
    richardson_lucy_kernel,
)

__all__ = ["check_iterations", "convolve_psf", "fft_convolve", "richardson_lucy_kernel"]
