"""FFT convolution of spectra with a kernel given by its transfer function.

The one FFT convolution of the package outside Richardson-Lucy's inner
loop: the training-spectrum generator, the synthetic nanowire, the
metrics' reconvolution (through
:func:`hyperspy_eelspecnet.restoration.richardson_lucy.convolve_psf`)
and Richardson-Lucy's set-up all call :func:`fft_convolve`.
"""

from __future__ import annotations

import numpy as np
from scipy import fft


def fft_convolve(
    spectra: np.ndarray, transfer: np.ndarray, n_fft: int, start: int = 0
) -> np.ndarray:
    """Convolve spectra with a kernel through the FFT.

    Each spectrum is zero-padded to ``n_fft`` channels and its real FFT
    multiplied by ``transfer``; channels ``start`` to
    ``start + n_channels`` of the inverse FFT are returned. With
    ``transfer = scipy.fft.rfft(kernel, n_fft)`` this is the circular
    convolution of length ``n_fft`` with ``kernel``, which equals the
    linear convolution when ``n_fft`` is at least ``n_channels`` plus the
    kernel's length minus 1 (nothing wraps round onto the channels kept).

    Parameters
    ----------
    spectra
        Array of shape (..., n_channels).
    transfer
        The kernel's transfer function, broadcastable with shape
        (..., n_fft // 2 + 1): the real FFT of a kernel at length
        ``n_fft``, a product of such (the kernels applied one after the
        other), or one given in closed form.
    n_fft
        Length of the FFTs, at least ``start + n_channels``.
    start
        First channel of the circular convolution returned. For a kernel
        whose zero shift sits at index ``m``, ``start=m`` gives the
        'same'-size convolution centred on it; for a kernel laid out
        circularly (zero shift at index 0), ``start=0``.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape (..., n_channels), the leading axes
        broadcast from ``spectra`` and ``transfer``:
        ``out[..., i] = sum_j spectra[..., j] kernel[(i + start - j) % n_fft]``.

    Raises
    ------
    ValueError
        If ``n_fft`` is shorter than ``start + n_channels``.
    """
    spectra = np.asarray(spectra, dtype=np.float64)
    n_channels = spectra.shape[-1]
    if n_fft < start + n_channels:
        raise ValueError(
            f"n_fft={n_fft} is shorter than start + n_channels = {start + n_channels}; "
            "pass a longer FFT length."
        )
    spectrum = fft.rfft(spectra, n=n_fft, axis=-1) * transfer
    return fft.irfft(spectrum, n=n_fft, axis=-1, overwrite_x=True)[..., start : start + n_channels]
