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
`richardson_lucy_kernel` runs most of these FFTs in float32 with float64
corrections (its notes say how, and how accurate it stays).
"""

from __future__ import annotations

import numbers
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import fft

from hyperspy_eelspecnet.restoration.convolution import fft_convolve

#: Spectra iterated together (each FFT call transforms all of them):
#: blocks of this size keep the work arrays in cache.
BLOCK_SPECTRA = 32

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
    return fft_convolve(spectra, _transfer_function(psf, n_fft), n_fft).reshape(shape)


def check_iterations(iterations: int) -> int:
    """Check a Richardson-Lucy iteration count.

    The one check of an iteration count, shared by
    `richardson_lucy_kernel`, the signal method and the batch tool.

    Parameters
    ----------
    iterations
        An integer >= 1: a Python ``int`` or a NumPy integer such as
        ``np.int64(5)``. A bool is not a count and is refused, as are
        floats (even ``10.0``) and strings.

    Returns
    -------
    int
        ``iterations`` as a Python ``int``.

    Raises
    ------
    ValueError
        If ``iterations`` is not an integer, is a bool, or is below 1.
    """
    if isinstance(iterations, bool) or not isinstance(iterations, numbers.Integral):
        raise ValueError(
            f"iterations must be an integer >= 1, got {iterations!r} "
            f"({type(iterations).__name__}); pass e.g. iterations=50."
        )
    if iterations < 1:
        raise ValueError(
            f"iterations must be an integer >= 1, got {iterations}; pass e.g. iterations=50."
        )
    return int(iterations)


def _ratio_minus_one(residual: np.ndarray, blurred: np.ndarray, out: np.ndarray) -> None:
    """Write ``residual / blurred`` into ``out``, -1 where ``blurred`` is negligible.

    With ``residual = data - blurred`` this is ``data / blurred - 1``, the
    ratio counting as 0 where ``|blurred|`` is at most `RATIO_EPSILON`
    times the largest ``|blurred|`` of its spectrum. Arrays of shape
    (n_groups, n_channels, width) (see `_Convolver`).
    """
    low, high = blurred.min(), blurred.max()
    # Every channel is usable if the smallest value is above the floor of
    # the largest magnitude of all spectra: the common case, checked
    # without reducing each spectrum on its own.
    if low > RATIO_EPSILON * max(high, -low):
        np.divide(residual, blurred, out=out)
        return
    magnitude = np.abs(blurred)
    largest = np.ascontiguousarray(magnitude.transpose(0, 2, 1)).max(axis=-1)
    usable = magnitude > RATIO_EPSILON * largest[:, None, :]
    out[...] = -1.0
    np.divide(residual, blurred, out=out, where=usable)


def _is_reference_iteration(iteration: int) -> bool:
    """Whether the blur is computed in float64: at iterations 0, 2, 8, 32, 128, ..."""
    return iteration == 0 or (
        iteration & (iteration - 1) == 0 and iteration.bit_length() % 2 == 0
    )


def _thread_count(workers: int | None) -> int:
    """Threads for ``workers``: None is 1, -1 all CPUs, -2 all but one, ..."""
    if workers is None:
        return 1
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral) or workers == 0:
        raise ValueError(
            f"workers must be a non-zero integer or None, got {workers!r}; pass "
            "e.g. workers=1, or -1 for all CPUs."
        )
    cpus = os.cpu_count() or 1
    threads = int(workers) if workers > 0 else cpus + 1 + int(workers)
    if threads < 1:
        raise ValueError(
            f"workers={workers} leaves no thread on {cpus} CPUs; pass -1 for all CPUs."
        )
    return threads


def _blocks(n_spectra: int, threads: int) -> list[slice]:
    """Rows of at most `BLOCK_SPECTRA` spectra, in a multiple of ``threads`` blocks.

    Blocks of sizes that differ by at most two keep every thread busy to
    the end, on small maps too: 96 spectra on 2 threads are 4 blocks of
    24, not 3 of 32. Every block but the last starts and ends on an even
    row, so the spectra paired in one complex transform are the same
    pairs whatever the thread count, and so are the results.
    """
    n_pairs = -(-n_spectra // 2)
    n_blocks = threads * -(-n_spectra // (threads * BLOCK_SPECTRA))
    n_blocks = min(n_blocks, max(n_pairs, 1))
    bounds = [min(2 * (n_pairs * i // n_blocks), n_spectra) for i in range(n_blocks + 1)]
    return [slice(start, stop) for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]


def richardson_lucy_kernel(
    data: np.ndarray,
    psf: np.ndarray,
    iterations: int,
    *,
    precision: str = "mixed",
    workers: int | None = None,
) -> np.ndarray:
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
    precision
        "mixed" (default): float64 data and estimate, most FFTs in
        float32 with float64 corrections (see the notes); about 1.5 times
        as fast as "float64", where every FFT is float64.
    workers
        Threads deconvolving blocks of `BLOCK_SPECTRA` spectra in
        parallel (each thread takes whole blocks; the FFTs inside a block
        are single-threaded): None (default) or 1 for one thread, -1 for
        all CPUs, -2 for all but one, and so on (as in `scipy.fft`).
        Results do not depend on it.

    Returns
    -------
    numpy.ndarray
        Float64 array of ``data``'s shape.

    Raises
    ------
    ValueError
        If ``iterations`` is not an integer >= 1, ``precision`` is not
        "mixed" or "float64", ``workers`` is not None or a non-zero
        integer (or leaves no thread), the PSF holds NaN or inf or has a
        sum <= 0, or the shapes of ``data`` and ``psf`` do not match.

    Notes
    -----
    Mixed precision: the data and the estimate are float64, but all FFTs
    except a few run in float32 (complex64), each on a quantity small
    next to the one it corrects, since a float32 FFT's error is about
    1e-7 of the norm of what it transforms (a plain float32 kernel's
    error would scale with the ZLP, not with the weak channels):

    - the blurred estimate is computed in float64 at iterations 0, 2, 8,
      32, 128, ... (each four times the last), and in the others as that
      reference plus the float32 blur of the estimate's change since the
      reference (float64 subtraction);
    - the ratio is applied as ``data / blurred - 1`` (near 0 where the
      blur fits the data), formed in float32 from ``data - blurred`` and
      ``blurred``, each float64-accurate to float32's relative
      precision; its correlation runs in float32 and the correlation of
      1, computed once in float64, is added back in float64 before the
      estimate is multiplied.

    The result differs from exspy's by a few 1e-7 (relative) on typical
    EELS data (a sharp ZLP, loss features down to 1e-3 of it), against
    about 1e-5 with plain float32 FFTs; with ``precision="float64"`` by
    round-off only (about 1e-13), at about 1.5 times the time.

    Speed: with one PSF for all spectra, two spectra form the real and
    imaginary parts of one complex FFT (about 10% faster than two real
    FFTs). Each spectrum is first scaled by a power of two near the
    inverse of its maximum, which changes no result (Richardson-Lucy is
    scale-equivariant and the scaling is exact) but keeps the two
    spectra of an FFT at a similar scale, so that neither adds much
    round-off to the other. The spectra are processed in blocks of
    `BLOCK_SPECTRA`, each block vectorised (all its spectra iterate
    together), which bounds the work memory and keeps it in cache. The
    FFT length is the shortest 5-smooth length
    (``scipy.fft.next_fast_len(..., real=True)``) at which nothing wraps
    around; the PSF's transforms are computed once (once per block for
    one PSF per spectrum).

    Division guard: in the ratio ``data / blurred_estimate``, channels
    where the blurred estimate's magnitude is at most `RATIO_EPSILON`
    (1e-12) times the largest magnitude of that spectrum's blurred
    estimate count as zero and give a ratio of 0. exspy divides by them
    (giving inf or NaN where the blurred estimate is exactly 0); above
    the floor both divide alike. The floor also absorbs the FFT's
    round-off where the direct convolution would give exactly 0. An
    all-zero spectrum stays all zero (exspy gives NaN).

    exspy accepts only a PSF of the data's length; for any other length
    the result equals exspy's with the PSF zero-padded to the data's
    length (which leaves the centring on the maximum unchanged).
    """
    iterations = check_iterations(iterations)
    if precision not in ("mixed", "float64"):
        raise ValueError(f'precision must be "mixed" or "float64", got {precision!r}.')
    threads = _thread_count(workers)
    shape = np.shape(data)
    spectra, psf = _checked_rows(data, psf)
    n_channels = spectra.shape[-1]
    n_fft = _fft_length(psf, n_channels)
    width = 2 if psf.shape[0] == 1 else 1
    shared = _Operators(psf, n_channels, n_fft, width) if width == 2 else None
    result = np.empty_like(spectra)

    def deconvolve(rows: slice) -> None:
        operators = shared
        if operators is None:  # one PSF per spectrum: this block's rows
            operators = _Operators(psf[rows], n_channels, n_fft, width)
        result[rows] = _deconvolve_block(spectra[rows], operators, iterations, precision)

    blocks = _blocks(spectra.shape[0], threads)
    if threads == 1 or len(blocks) == 1:
        for rows in blocks:
            deconvolve(rows)
    else:
        with ThreadPoolExecutor(min(threads, len(blocks))) as pool:
            for _ in pool.map(deconvolve, blocks):
                pass
    return result.reshape(shape)


def _as_pairs(array: np.ndarray) -> np.ndarray:
    """Real view of shape (..., n, 2) of a C-contiguous complex (..., n) array."""
    return array.view(array.real.dtype).reshape(array.shape + (2,))


_COMPLEX = {np.float32: np.complex64, np.float64: np.complex128}


class _Convolver:
    """Zero-padded FFT convolutions of a block of spectra, in one precision.

    The block is an array of shape (n_groups, n_channels, width). With
    ``width`` 2 (one PSF for all spectra) the two spectra of a group are
    the real and imaginary parts of one complex FFT; with ``width`` 1
    (one PSF per spectrum) each spectrum has its own real FFT. Write the
    input into ``head``; a call multiplies its FFT by a transfer function
    (from `_Operators`) and returns a view of the result, in the same
    layout (valid until the next call).
    """

    def __init__(
        self, n_groups: int, n_channels: int, width: int, n_fft: int, dtype: type
    ) -> None:
        self.n_fft, self.n_channels, self.paired = n_fft, n_channels, width == 2
        if self.paired:
            self.buffer = np.zeros((n_groups, n_fft), dtype=_COMPLEX[dtype])
            self.head = _as_pairs(self.buffer)[:, :n_channels]
        else:
            self.buffer = np.zeros((n_groups, n_fft), dtype=dtype)
            self.head = self.buffer[:, :n_channels, None]

    def __call__(self, transfer: np.ndarray) -> np.ndarray:
        # Neither transform scales: the transfer functions hold 1 / n_fft.
        if self.paired:
            spectrum = fft.fft(self.buffer, axis=-1)
            spectrum *= transfer
            out = fft.ifft(spectrum, axis=-1, overwrite_x=True, norm="forward")
            return _as_pairs(out)[:, : self.n_channels]
        spectrum = fft.rfft(self.buffer, axis=-1)
        spectrum *= transfer
        out = fft.irfft(spectrum, n=self.n_fft, axis=-1, overwrite_x=True, norm="forward")
        return out[:, : self.n_channels, None]


class _Operators:
    """Transfer functions of one PSF, or of one PSF per spectrum, for `_Convolver`.

    Attributes: ``n_fft``; ``width`` (see `_Convolver`); ``blur64`` and
    ``blur32``, the FFT of the centred PSF divided by ``n_fft`` (full and
    exactly Hermitian for ``width`` 2, the rFFT half for ``width`` 1) in
    complex128 and complex64; ``adjoint64`` and ``adjoint32``, their
    conjugates (the correlation); ``adjoint_of_ones``, the float64
    correlation of 1 over the data's channels, of shape (n_psf_rows,
    n_channels, width).
    """

    def __init__(self, psf: np.ndarray, n_channels: int, n_fft: int, width: int) -> None:
        self.n_fft, self.width = n_fft, width
        half = _transfer_function(psf, n_fft)
        ones = fft_convolve(np.ones((psf.shape[0], n_channels)), half.conj(), n_fft)
        self.adjoint_of_ones = np.repeat(ones[:, :, None], width, axis=-1)
        half /= n_fft  # for `_Convolver`'s unscaled inverse FFT
        if width == 2:
            self.blur64 = np.empty((psf.shape[0], n_fft), dtype=np.complex128)
            self.blur64[:, : half.shape[-1]] = half
            self.blur64[:, half.shape[-1] :] = half[:, 1 : (n_fft + 1) // 2][:, ::-1].conj()
        else:
            self.blur64 = half
        self.blur32 = self.blur64.astype(np.complex64)
        self.adjoint64, self.adjoint32 = self.blur64.conj(), self.blur32.conj()


def _deconvolve_block(
    spectra: np.ndarray, operators: _Operators, iterations: int, precision: str
) -> np.ndarray:
    """Richardson-Lucy on a block of spectra of shape (n, n_channels), float64 out."""
    n_spectra, n_channels = spectra.shape
    width = operators.width
    n_groups = -(-n_spectra // width)
    grouped = np.empty((n_groups * width, n_channels))
    grouped[:n_spectra] = spectra
    grouped[n_spectra:] = spectra[-1]  # an odd spectrum out is paired with a copy
    _, exponent = np.frexp(np.abs(grouped).max(axis=-1, keepdims=True))
    scale = np.ldexp(1.0, -np.clip(exponent, -1000, 1000))
    grouped *= scale
    layout = grouped.reshape(width, n_groups, n_channels).transpose(1, 2, 0)
    estimate = _iterate(np.ascontiguousarray(layout), operators, iterations, precision)
    estimate = estimate.transpose(2, 0, 1).reshape(n_groups * width, n_channels)
    return estimate[:n_spectra] / scale[:n_spectra]


def _iterate(
    data: np.ndarray, operators: _Operators, iterations: int, precision: str
) -> np.ndarray:
    """The Richardson-Lucy iterations on data of shape (n_groups, n_channels, width)."""
    convolve64 = _Convolver(*data.shape, operators.n_fft, np.float64)
    estimate = data.copy()
    factor = np.empty_like(data)
    if precision == "float64":
        residual = np.empty_like(data)
        for _ in range(iterations):
            convolve64.head[...] = estimate
            blurred = convolve64(operators.blur64)
            np.subtract(data, blurred, out=residual)
            _ratio_minus_one(residual, blurred, out=convolve64.head)
            correction = convolve64(operators.adjoint64)
            estimate *= np.add(correction, operators.adjoint_of_ones, out=factor)
        return estimate
    # "mixed": ``reference`` is the last estimate blurred in float64; in
    # between, the blur is its blur plus the float32 blur of the change.
    # The ratio is formed in float32 from float64-accurate parts: ``data -
    # blurred`` and ``blurred`` are each kept to float32's relative
    # precision.
    convolve32 = _Convolver(*data.shape, operators.n_fft, np.float32)
    reference = np.empty_like(data)
    residual_reference = np.empty(data.shape, dtype=np.float32)
    blurred_reference = np.empty(data.shape, dtype=np.float32)
    residual = np.empty(data.shape, dtype=np.float32)
    blurred = np.empty(data.shape, dtype=np.float32)
    for iteration in range(iterations):
        if _is_reference_iteration(iteration):
            convolve64.head[...] = estimate
            exact = convolve64(operators.blur64)
            np.subtract(data, exact, out=residual_reference)
            blurred_reference[...] = exact
            reference[...] = estimate
            _ratio_minus_one(residual_reference, blurred_reference, out=convolve32.head)
        else:
            np.subtract(estimate, reference, out=convolve32.head)
            change = convolve32(operators.blur32)
            np.subtract(residual_reference, change, out=residual)
            np.add(blurred_reference, change, out=blurred)
            _ratio_minus_one(residual, blurred, out=convolve32.head)
        factor[...] = convolve32(operators.adjoint32)  # (faster than a mixed-type add)
        factor += operators.adjoint_of_ones
        estimate *= factor
    return estimate
