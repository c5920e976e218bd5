"""Figures of merit of a restoration, vectorised over many spectra.

The paper's measures (Mousavi et al., Sci. Rep. 2022): widths of the
zero-loss peak (FWHM, FWTM) and how much of their broadening a
restoration undoes (recovery rate, relative error), the noise variance
far from the ZLP, fidelity as MSE and as SSIM of energy-resolved maps,
and one measure that needs no ground truth: how well the restoration,
blurred again by the PSF, explains the measured spectrum, in units of
the noise.

Every function takes arrays of shape (n_spectra, n_channels) or one
spectrum of shape (n_channels,), and returns one value per spectrum
(shape (n_spectra,) or a scalar array).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.ndimage import median_filter, uniform_filter1d
from skimage.metrics import structural_similarity

from hyperspy_eelspecnet.restoration.richardson_lucy import convolve_psf

#: Height, in rows, of the image a spectrum is turned into for SSIM; equal
#: to skimage's default window, so each spectrum's window spans its image.
SSIM_IMAGE_HEIGHT = 7

#: Standard deviation of a Gaussian per unit of median absolute deviation.
MAD_TO_STD = 1.482602218505602

#: Spectra compared per call of skimage in `ssim` (bounds the memory).
SSIM_BATCH = 128


def _spectra(values: np.ndarray) -> np.ndarray:
    """Return ``values`` as a float64 array of shape (n, channels)."""
    return np.atleast_2d(np.asarray(values, dtype=np.float64))


def _per_spectrum(result: np.ndarray, *inputs: np.ndarray) -> np.ndarray:
    """Reshape per-spectrum results to the inputs' shape less channels."""
    return result.reshape(np.broadcast_shapes(*(np.shape(a) for a in inputs))[:-1])


def _masked(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``values`` with NaN outside ``mask`` (broadcast to their shape)."""
    mask = np.broadcast_to(np.asarray(mask, dtype=bool), values.shape)
    return np.where(mask, values, np.nan)


def peak_width(
    spectra: np.ndarray, fraction: float = 0.5, dispersion: float = 1.0
) -> np.ndarray:
    """Full width of the main peak at ``fraction`` of its maximum.

    The main peak is the spectrum's maximum. From it, the nearest channel
    on each side whose value falls below ``fraction * maximum`` is found,
    and each crossing is placed between that channel and its inner
    neighbour by linear interpolation.

    Parameters
    ----------
    spectra
        Array of shape (n, channels) or (channels,).
    fraction
        Level, as a fraction of the maximum, in (0, 1).
    dispersion
        Width of a channel, in the unit wanted for the result.

    Returns
    -------
    numpy.ndarray
        Widths of shape (n,) (or a scalar array), in units of
        ``dispersion``. NaN where a side has no crossing (the peak runs
        off the spectrum), or the maximum is not positive and finite.

    Raises
    ------
    ValueError
        If ``fraction`` is not in (0, 1).
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}.")
    y = _spectra(spectra)
    idx = np.arange(y.shape[-1])
    top = y.argmax(axis=-1)[:, None]
    peak = np.take_along_axis(y, top, axis=-1)
    level = fraction * peak
    below = y < level
    left = np.where(below & (idx < top), idx, -1).max(axis=-1, keepdims=True)
    right = np.where(below & (idx > top), idx, y.shape[-1]).min(axis=-1, keepdims=True)
    found = (left >= 0) & (right < y.shape[-1]) & np.isfinite(peak) & (peak > 0)
    left, right = np.where(found, left, 0), np.where(found, right, 1)
    x_left = _crossing(y, left, level)
    x_right = _crossing(y, right - 1, level)
    width = np.where(found, x_right - x_left, np.nan)[:, 0] * dispersion
    return _per_spectrum(width, spectra)


def _crossing(y: np.ndarray, i: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Where ``y`` reaches ``level`` between channels ``i`` and ``i + 1``."""
    y_i = np.take_along_axis(y, i, axis=-1)
    step = np.take_along_axis(y, i + 1, axis=-1) - y_i
    return i + (level - y_i) / np.where(step != 0, step, 1.0)


def peak_centroid(spectra: np.ndarray, half_width: int = 3) -> np.ndarray:
    """Centroid (in channels) of each spectrum's main peak.

    The intensity-weighted mean channel over ``2 * half_width + 1``
    channels centred on the maximum (cut at the spectrum's ends): the
    sub-channel position of a sharpened ZLP.

    Parameters
    ----------
    spectra
        Array of shape (n, channels) or (channels,).
    half_width
        Channels taken on each side of the maximum.

    Returns
    -------
    numpy.ndarray
        Per-spectrum centroid, a channel index with a fraction.
    """
    y = _spectra(spectra)
    channels = y.argmax(1)[:, None] + np.arange(-half_width, half_width + 1)[None, :]
    inside = (channels >= 0) & (channels < y.shape[1])
    channels = np.clip(channels, 0, y.shape[1] - 1)
    window = np.where(inside, np.take_along_axis(y, channels, axis=1), 0.0)
    return _per_spectrum((window * channels).sum(1) / window.sum(1), spectra)


def fwhm(spectra: np.ndarray, dispersion: float = 1.0) -> np.ndarray:
    """Full width at half maximum of the main peak.

    Parameters
    ----------
    spectra
        Array of shape (n, channels) or (channels,).
    dispersion
        Width of a channel, in the unit wanted for the result.

    Returns
    -------
    numpy.ndarray
        Widths, as returned by `peak_width` with ``fraction=0.5``.
    """
    return peak_width(spectra, 0.5, dispersion)


def fwtm(spectra: np.ndarray, dispersion: float = 1.0) -> np.ndarray:
    """Full width at tenth maximum of the main peak.

    Parameters
    ----------
    spectra
        Array of shape (n, channels) or (channels,).
    dispersion
        Width of a channel, in the unit wanted for the result.

    Returns
    -------
    numpy.ndarray
        Widths, as returned by `peak_width` with ``fraction=0.1``.
    """
    return peak_width(spectra, 0.1, dispersion)


def recovery_rate(
    w_distorted: np.ndarray, w_restored: np.ndarray, w_original: np.ndarray
) -> np.ndarray:
    """Share of the broadening undone: (Wd - Wr) / (Wd - Wo), elementwise.

    Parameters
    ----------
    w_distorted, w_restored, w_original
        Widths (any broadcastable shapes) of the measured, restored and
        original peaks.

    Returns
    -------
    numpy.ndarray
        1 for a perfect restoration, 0 for none; inf or NaN where
        ``w_distorted == w_original`` (nothing to undo).
    """
    widths = (w_distorted, w_restored, w_original)
    w_d, w_r, w_o = (np.asarray(w, dtype=np.float64) for w in widths)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (w_d - w_r) / (w_d - w_o)


def relative_error(w_restored: np.ndarray, w_original: np.ndarray) -> np.ndarray:
    """Relative error of a width: ``|Wr - Wo| / Wo``, elementwise.

    Parameters
    ----------
    w_restored, w_original
        Widths (broadcastable shapes) of the restored and original peaks.

    Returns
    -------
    numpy.ndarray
        Relative errors; inf or NaN where ``w_original`` is 0.
    """
    w_r, w_o = np.asarray(w_restored, dtype=np.float64), np.asarray(w_original, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(w_r - w_o) / w_o


def noise_variance(spectra: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Variance of ``spectra - reference`` over the channels in ``mask``.

    Parameters
    ----------
    spectra
        Array of shape (n, channels) or (channels,).
    reference
        Noise-free reference, broadcastable to ``spectra``.
    mask
        Boolean array of shape (channels,) (shared) or of ``spectra``'s
        shape (per spectrum): the channels to use, e.g. those far from
        the ZLP.

    Returns
    -------
    numpy.ndarray
        Per-spectrum variance (population variance, mean removed), NaN
        where the mask selects no channel.
    """
    residual = _spectra(spectra) - np.asarray(reference, dtype=np.float64)
    return _per_spectrum(_nan_stat(np.nanvar, _masked(residual, mask)), spectra, reference)


def _nan_stat(stat: Callable[..., np.ndarray], values: np.ndarray) -> np.ndarray:
    """Apply a nan-aware reduction over channels, NaN for all-NaN rows."""
    result = np.full(values.shape[0], np.nan)
    rows = ~np.all(np.isnan(values), axis=-1)
    result[rows] = stat(values[rows], axis=-1)
    return result


def mse(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean squared difference over channels, per spectrum.

    Parameters
    ----------
    a, b
        Arrays of shape (n, channels) or (channels,), broadcastable.

    Returns
    -------
    numpy.ndarray
        Per-spectrum mean of ``(a - b) ** 2``.
    """
    diff = _spectra(a) - _spectra(b)
    return _per_spectrum(np.mean(diff**2, axis=-1), a, b)


def ssim(spectra: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """SSIM between each spectrum and its reference, as images.

    Each spectrum is turned into an energy-resolved map, a grey-level
    image of `SSIM_IMAGE_HEIGHT` (7) identical rows with energy along
    the columns, and compared with the reference's map by
    ``skimage.metrics.structural_similarity`` (7 x 7 uniform window) with
    ``data_range`` fixed from the reference: its maximum minus its
    minimum. Since the rows are identical, this is the SSIM of the
    spectra with a 7-channel sliding window, averaged over the channels
    a full window covers. Identical spectra give exactly 1.

    Parameters
    ----------
    spectra
        Restored spectra, shape (n, channels) or (channels,), at least 7
        channels.
    reference
        Reference spectra of the same shape.

    Returns
    -------
    numpy.ndarray
        Per-spectrum SSIM (at most 1), NaN where the reference is
        constant (no data range).

    Notes
    -----
    All spectra of a batch are stacked into one image (each in its own
    7-row band) and skimage is called once per batch: the SSIM map on
    each band's middle row sees only that band. Each pair is first
    divided by its reference's data range, which leaves its SSIM
    unchanged and lets the batch share ``data_range=1``.
    """
    x, y = np.broadcast_arrays(_spectra(spectra), _spectra(reference))
    scale = np.ptp(y, axis=-1, keepdims=True)
    valid = (scale > 0)[:, 0]
    scale = np.where(scale > 0, scale, 1.0)
    result = np.full(x.shape[0], np.nan)
    rows = np.flatnonzero(valid)
    for start in range(0, rows.size, SSIM_BATCH):
        batch = rows[start : start + SSIM_BATCH]
        result[batch] = _ssim_batch(x[batch] / scale[batch], y[batch] / scale[batch])
    return _per_spectrum(result, spectra, reference)


def _ssim_batch(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """SSIM of unit-range spectra, one skimage call for the whole batch."""
    height = SSIM_IMAGE_HEIGHT
    image_x = np.repeat(x, height, axis=0)
    image_y = np.repeat(y, height, axis=0)
    _, full = structural_similarity(image_x, image_y, win_size=height, data_range=1.0, full=True)
    half = height // 2
    return full[half::height, half : x.shape[-1] - half].mean(axis=-1)


def high_pass(spectra: np.ndarray, window: int) -> np.ndarray:
    """Each spectrum minus its ``window``-channel moving average.

    Parameters
    ----------
    spectra
        Array whose last axis is the channels.
    window
        Channels of the moving average (edges reflected).

    Returns
    -------
    numpy.ndarray
        The high-passed spectra, of the shape of ``spectra``.
    """
    return spectra - uniform_filter1d(spectra, size=window, axis=-1)


def highpass_noise_sigma(spectra: np.ndarray, region: np.ndarray, window: int = 9) -> np.ndarray:
    """Noise standard deviation of each spectrum from a high-pass filter.

    The high-pass is the spectrum minus its ``window``-channel moving
    average: a smooth signal is removed up to its curvature, white noise
    is kept. For white noise of variance s**2 the high-passed value
    ``h_i = n_i - (1/w) sum_k n_k`` (the sum over the window, ``n_i``
    included) is ``(1 - 1/w) n_i`` minus ``1/w`` times ``w - 1`` other
    independent values, so
    ``var(h) = ((w - 1)**2 / w**2 + (w - 1) / w**2) s**2 = (w - 1) / w s**2``,
    and the noise is ``std(h) * sqrt(w / (w - 1))``: ``sqrt(9/8)`` for
    9 channels.

    ``std(h)`` is estimated robustly, as 1.4826 times the median absolute
    deviation of ``h`` over the region, so that the few channels where a
    sharp peak's curvature survives the filter (the ZLP's flanks) do not
    count as noise, as long as they are fewer than about a tenth of the
    region.

    Parameters
    ----------
    spectra
        Array of shape (n, channels) or (channels,).
    region
        Boolean mask of shape (channels,) or of ``spectra``'s shape: the
        channels to estimate over. Channels within ``window // 2`` of
        either end (where the window does not fit) are left out.
    window
        Odd window length, at least 3.

    Returns
    -------
    numpy.ndarray
        Per-spectrum noise standard deviation, NaN where no channel is
        usable.

    Raises
    ------
    ValueError
        If ``window`` is not an odd integer >= 3.
    """
    if window < 3 or window % 2 == 0:
        raise ValueError(f"window must be an odd integer >= 3, got {window}.")
    y = _spectra(spectra)
    highpass = high_pass(y, window)
    half = window // 2
    inside = np.zeros(y.shape[-1], dtype=bool)
    inside[half : y.shape[-1] - half] = True
    masked = _masked(highpass, np.asarray(region, dtype=bool) & inside)
    sigma = _nan_stat(_robust_std, masked) * np.sqrt(window / (window - 1))
    return _per_spectrum(sigma, spectra)


def _robust_std(values: np.ndarray, axis: int) -> np.ndarray:
    """Gaussian standard deviation from the median absolute deviation."""
    centre = np.nanmedian(values, axis=axis, keepdims=True)
    return MAD_TO_STD * np.nanmedian(np.abs(values - centre), axis=axis)


def local_noise_sigma(spectra: np.ndarray, window: int = 9, span: int = 41) -> np.ndarray:
    """Noise standard deviation channel by channel, from a high-pass filter.

    Counting noise grows with the signal, so one figure for a whole
    spectrum misjudges both its bright and its dim channels. Here the
    ``window``-channel high-pass of :func:`highpass_noise_sigma` is
    measured robustly (1.4826 times the median absolute value) over a
    running ``span`` of channels around each channel.

    Parameters
    ----------
    spectra
        Array of shape (n, channels) or (channels,).
    window
        Odd length of the high-pass's moving average, at least 3.
    span
        Channels over which each channel's noise is estimated.

    Returns
    -------
    numpy.ndarray
        Noise standard deviation of the shape of ``spectra``.
    """
    y = _spectra(spectra)
    highpass = np.abs(high_pass(y, window))
    sigma = MAD_TO_STD * median_filter(highpass, size=(1, span), mode="nearest")
    return (sigma * np.sqrt(window / (window - 1))).reshape(np.shape(spectra))


def reconvolution_residual(
    restored: np.ndarray,
    measured: np.ndarray,
    psf: np.ndarray,
    region: np.ndarray,
    noise_sigma: float | np.ndarray | str | None = None,
) -> np.ndarray:
    """RMS of (measured - PSF * restored) over ``region``, in units of noise.

    The restoration is convolved ('same' size) with the PSF normalised
    to unit sum and centred on its maximum, as in Richardson-Lucy (see
    `hyperspy_eelspecnet.restoration.richardson_lucy.convolve_psf`). Each channel's
    residual is divided by the noise there; the RMS of that over
    ``region`` is about 1 for a restoration that explains the
    measurement, and much more than 1 when the restoration, blurred
    again, does not give back what was measured.

    Parameters
    ----------
    restored
        Restored spectra, shape (n, channels) or (channels,).
    measured
        Measured spectra, same shape, on the same scale as ``restored``.
    psf
        PSF of shape (n_psf,) or (n, n_psf).
    region
        Boolean mask of shape (channels,) or of ``measured``'s shape: the
        channels compared.
    noise_sigma
        Noise standard deviation of ``measured``: a scalar, one per
        spectrum, or one per channel. None estimates one figure per
        spectrum over ``region`` with :func:`highpass_noise_sigma`
        (dominated by the dim channels, where counting noise is lowest);
        ``"local"`` estimates it channel by channel with
        :func:`local_noise_sigma` (fair to counting noise, but lenient
        next to the ZLP, whose curvature counts as noise there).

    Returns
    -------
    numpy.ndarray
        Per-spectrum RMS of the residual in units of the noise.
    """
    measured_2d = _spectra(measured)
    residual = measured_2d - convolve_psf(_spectra(restored), psf)
    if noise_sigma is None:
        sigma = highpass_noise_sigma(measured_2d, region).reshape(-1, 1)
    elif isinstance(noise_sigma, str) and noise_sigma == "local":
        sigma = local_noise_sigma(measured_2d)
    else:
        sigma = np.asarray(noise_sigma, dtype=np.float64)
        sigma = sigma.reshape(-1, 1) if sigma.ndim <= 1 else _spectra(sigma)
    normalised = _masked(residual / sigma, region)
    return _per_spectrum(np.sqrt(_nan_stat(np.nanmean, normalised**2)), restored, measured)


def summarize(values: np.ndarray) -> dict[str, float]:
    """Median and 5th and 95th percentiles of all values, ignoring NaN.

    Parameters
    ----------
    values
        Array of any shape.

    Returns
    -------
    dict
        ``{"median": ..., "p5": ..., "p95": ...}`` as floats, all NaN if
        every value is NaN.
    """
    values = np.ravel(np.asarray(values, dtype=np.float64))
    values = values[~np.isnan(values)]
    if values.size == 0:
        return {"median": np.nan, "p5": np.nan, "p95": np.nan}
    p5, median, p95 = np.percentile(values, [5, 50, 95])
    return {"median": float(median), "p5": float(p5), "p95": float(p95)}
