"""Batched Richardson-Lucy deconvolution of blocks of spectra.

A plain-array kernel (no HyperSpy signals) that reproduces exspy's
``EELSSpectrum.richardson_lucy_deconvolution`` for a whole block of
spectra at once. exspy deconvolves one spectrum at a time with direct
``np.convolve`` calls; here every convolution of an iteration is one
batched FFT convolution.

The algorithm, as exspy writes it for a spectrum ``d`` of ``n`` channels
and a kernel ``k`` whose maximum sits at index ``m``::

    e = d
    repeat:
        b[i] = sum_j k[j] e[i + m - j]          # blur, kernel centred on m
        e[i] *= sum_j k[j] (d / b)[i - m + j]   # correlate the ratio back

Both sums are the 'same'-size convolutions (and correlation) with the
kernel centred on its maximum, not on its middle. exspy slices them to
the PSF's length, so it only works when the PSF has as many channels as
the data (otherwise numpy raises a broadcasting error). Here they are
sliced to the data's length, which gives exspy's result whenever exspy
gives one, and for a PSF of any other length the same result as exspy
would give with the PSF zero-padded to the data's length.

Zero-padding the FFTs to ``n_channels`` plus the PSF's longer reach on
either side of its maximum makes the circular FFT convolution equal to
the direct one on the data's channels: nothing wraps around onto them.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy import fft

#: Spectra iterated together: blocks of this size keep the FFT work
#: arrays in cache (about 1.7x faster than 2048 spectra at once).
BLOCK_SPECTRA = 128

#: Blurred-estimate values whose magnitude is at most this fraction of the
#: spectrum's largest blurred value count as zero in the ratio data/blur.
RATIO_EPSILON = 1e-12


def normalise_psf(psf: np.ndarray) -> np.ndarray:
    """Check a PSF, clip its negative values to 0 and scale it to unit sum.

    Parameters
    ----------
    psf
        Array of shape (n_psf,) or (n_spectra, n_psf). Not modified.

    Returns
    -------
    numpy.ndarray
        A float64 copy of the same shape, non-negative, each row summing
        to 1.

    Raises
    ------
    ValueError
        If the PSF is not 1D or 2D, is empty, holds NaN or inf, or a row
        has a sum <= 0 (before clipping).
    """
    psf = np.asarray(psf, dtype=np.float64)
    if psf.ndim not in (1, 2) or psf.shape[-1] == 0:
        raise ValueError(
            f"psf has shape {psf.shape}; pass one PSF of shape (n_psf,) or "
            "one per spectrum of shape (n_spectra, n_psf), with n_psf >= 1."
        )
    if not np.all(np.isfinite(psf)):
        raise ValueError(
            "psf contains NaN or inf values; replace them (e.g. with "
            "numpy.nan_to_num) or use a clean PSF."
        )
    sums = psf.sum(axis=-1)
    if np.any(sums <= 0):
        bad = np.flatnonzero(np.atleast_1d(sums <= 0))
        raise ValueError(
            f"psf sum is <= 0 (rows {bad.tolist()}); a PSF must be a "
            "positive peak: check its sign and background subtraction."
        )
    clipped = np.clip(psf, 0.0, None)
    return clipped / clipped.sum(axis=-1, keepdims=True)


def centre_psf(psf: np.ndarray, length: int) -> np.ndarray:
    """Lay out PSFs for circular convolution, their maximum at index 0.

    ``out[..., (j - argmax(psf)) % length] = psf[..., j]``: the values after
    the maximum follow it, those before it wrap round to the end, and the
    rest is zero. A circular convolution with this array is the
    convolution with the PSF centred on its maximum.

    Parameters
    ----------
    psf
        Array of shape (n_psf,) or (n_spectra, n_psf).
    length
        Length of the output, at least ``n_psf``.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape (..., length).

    Raises
    ------
    ValueError
        If ``length`` is smaller than the PSF.
    """
    psf = np.asarray(psf, dtype=np.float64)
    n_psf = psf.shape[-1]
    if length < n_psf:
        raise ValueError(
            f"length {length} is shorter than the PSF ({n_psf} channels); "
            "pass a length of at least the PSF's size."
        )
    rows = np.atleast_2d(psf)
    target = (np.arange(n_psf) - rows.argmax(axis=-1)[:, None]) % length
    out = np.zeros((rows.shape[0], length))
    np.put_along_axis(out, target, rows, axis=-1)
    return out.reshape(psf.shape[:-1] + (length,))


def _checked_rows(data: np.ndarray, psf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return data as float64 (n_spectra, n_channels) and the checked PSF."""
    data = np.asarray(data, dtype=np.float64)
    if data.ndim not in (1, 2) or data.shape[-1] == 0:
        raise ValueError(
            f"data has shape {data.shape}; pass spectra of shape "
            "(n_spectra, n_channels) or one spectrum of shape (n_channels,)."
        )
    psf = np.atleast_2d(normalise_psf(psf))
    data = np.atleast_2d(data)
    if psf.shape[0] not in (1, data.shape[0]):
        raise ValueError(
            f"psf has {psf.shape[0]} rows but data has {data.shape[0]} "
            "spectra; pass one PSF of shape (n_psf,) or one per spectrum."
        )
    return data, psf


def _fft_length(psf: np.ndarray, n_channels: int) -> int:
    """Shortest fast FFT length at which nothing wraps around.

    With the PSF centred on its maximum ``m``, a 'same'-size convolution
    reaches ``m`` channels past one end of the data and
    ``n_psf - 1 - m`` past the other, so ``n_channels`` plus the longer
    reach (and at least the PSF's length) suffices.
    """
    peak = psf.argmax(axis=-1)
    reach = np.maximum(peak, psf.shape[-1] - 1 - peak).max()
    return fft.next_fast_len(max(psf.shape[-1], n_channels + int(reach)), real=True)


def _transfer_function(psf: np.ndarray, n_fft: int) -> np.ndarray:
    """FFT of the PSFs of shape (n, n_psf), centred on their maximum."""
    return fft.rfft(centre_psf(psf, n_fft), axis=-1)


def _apply(spectra: np.ndarray, transfer: np.ndarray, n_fft: int) -> np.ndarray:
    """Multiply by ``transfer`` in Fourier space, keep the first channels."""
    spectrum = fft.rfft(spectra, n=n_fft, axis=-1)
    spectrum *= transfer
    return fft.irfft(spectrum, n=n_fft, axis=-1, overwrite_x=True)[:, : spectra.shape[-1]]


def convolve_psf(data: np.ndarray, psf: np.ndarray) -> np.ndarray:
    """Convolve spectra with a PSF centred on its maximum, 'same' size.

    The PSF is normalised first (see `normalise_psf`), so the convolution
    preserves the integral of a spectrum away from its edges.

    Parameters
    ----------
    data
        Array of shape (n_spectra, n_channels) or (n_channels,).
    psf
        Array of shape (n_psf,) or (n_spectra, n_psf).

    Returns
    -------
    numpy.ndarray
        Float64 array of ``data``'s shape:
        ``out[i] = sum_j psf[j] data[i + argmax(psf) - j]``, channels
        outside the data counting as zero.
    """
    shape = np.shape(data)
    spectra, psf = _checked_rows(data, psf)
    n_fft = _fft_length(psf, spectra.shape[-1])
    return _apply(spectra, _transfer_function(psf, n_fft), n_fft).reshape(shape)


def _check_iterations(iterations: int) -> None:
    """Raise ValueError unless ``iterations`` is an integer >= 1."""
    if isinstance(iterations, bool) or not isinstance(iterations, numbers.Integral):
        raise ValueError(
            f"iterations must be an integer, got {iterations!r}; pass e.g. "
            "iterations=50."
        )
    if iterations < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations}; pass e.g. 50.")


def _safe_ratio(data: np.ndarray, blurred: np.ndarray) -> np.ndarray:
    """``data / blurred``, 0 where ``|blurred|`` is negligible in its row."""
    magnitude = np.abs(blurred)
    usable = magnitude > RATIO_EPSILON * magnitude.max(axis=-1, keepdims=True)
    return np.divide(data, blurred, out=np.zeros_like(data), where=usable)


def richardson_lucy_kernel(data: np.ndarray, psf: np.ndarray, iterations: int) -> np.ndarray:
    """Richardson-Lucy deconvolution of a block of spectra, as exspy does it.

    Reproduces ``exspy.signals.EELSSpectrum.richardson_lucy_deconvolution``
    (the PSF centred on its maximum, 'same'-size convolutions, the
    estimate started from the data) for all spectra at once, with FFT
    convolutions zero-padded so that they equal the direct ones.

    Parameters
    ----------
    data
        Spectra of shape (n_spectra, n_channels), or one spectrum of shape
        (n_channels,). Used as given: zeros and negative values are not
        altered (a channel that starts at zero stays at zero, as in
        exspy).
    psf
        One PSF of shape (n_psf,) for all spectra, or one per spectrum of
        shape (n_spectra, n_psf). ``n_psf`` may differ from
        ``n_channels``. Not modified: the kernel works on a copy whose
        negative values are clipped to 0 (exspy keeps them: results
        differ only for such PSFs) and which is scaled to unit sum (the
        result does not depend on the PSF's scale, as in exspy).
    iterations
        Number of iterations, an integer >= 1.

    Returns
    -------
    numpy.ndarray
        Float64 array of ``data``'s shape.

    Raises
    ------
    ValueError
        If ``iterations`` is not an integer >= 1, the PSF holds NaN or
        inf or has a sum <= 0, or the shapes of ``data`` and ``psf`` do
        not match.

    Notes
    -----
    Division guard: in the ratio ``data / blurred_estimate``, channels
    where the blurred estimate's magnitude is at most `RATIO_EPSILON`
    (1e-12) times the largest magnitude of that spectrum's blurred
    estimate count as zero and give a ratio of 0. exspy divides by them
    (giving inf or NaN where the blurred estimate is exactly 0); above
    the floor both divide alike. The floor also absorbs the FFT's
    round-off (about 1e-16 of the maximum) where the direct convolution
    would give exactly 0. An all-zero spectrum stays all zero (exspy
    gives NaN).

    The spectra are processed in blocks of `BLOCK_SPECTRA`, each block
    vectorised (all its spectra iterate together), which bounds the work
    memory and keeps it in cache.

    exspy accepts only a PSF of the data's length; for any other length
    the result equals exspy's with the PSF zero-padded to the data's
    length (which leaves the centring on the maximum unchanged).
    """
    _check_iterations(iterations)
    shape = np.shape(data)
    spectra, psf = _checked_rows(data, psf)
    n_fft = _fft_length(psf, spectra.shape[-1])
    result = np.empty_like(spectra)
    for start in range(0, spectra.shape[0], BLOCK_SPECTRA):
        rows = slice(start, start + BLOCK_SPECTRA)
        transfer = _transfer_function(psf if psf.shape[0] == 1 else psf[rows], n_fft)
        result[rows] = _iterate(spectra[rows], transfer, n_fft, iterations)
    return result.reshape(shape)


def _iterate(spectra: np.ndarray, transfer: np.ndarray, n_fft: int, iterations: int) -> np.ndarray:
    """The Richardson-Lucy iterations on one block of spectra."""
    adjoint = transfer.conj()
    estimate = spectra.copy()
    for _ in range(iterations):
        ratio = _safe_ratio(spectra, _apply(estimate, transfer, n_fft))
        estimate *= _apply(ratio, adjoint, n_fft)
    return estimate
