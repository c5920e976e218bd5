"""Whether a vacuum reference matches the spectra it is given with.

A reference model (:mod:`~hyperspy_eelspecnet.inference.reference`) takes
the vacuum recording for the instrument's response. One from another
instrument, monochromator setting or binning misleads it: given another
instrument's ZLP at the same width, ``candidates/nzeels-2048-nozlp-psf``
keeps less of the near-ZLP set's phonon than the blind model does
(``docs/vacuum_reference.rst``). The energy-gain side of a spectrum shows
the mismatch: there the spectrum holds the ZLP's tail and next to nothing
else (gain peaks are weaker than their loss partners by exp(-E/kT)), so
the reference, scaled to the spectrum's ZLP core, should lie on it.

:func:`gain_side_mismatch` measures how far it does not, over the mean of
a block's aligned spectra, with the noise smoothed away and judged.
Measured (``python scripts/reference_mismatch.py``): on the near-ZLP set
(:mod:`~hyperspy_eelspecnet.evaluation.near_zlp`) a box's own vacuum
recording and another of its session miss by 0.05 at most, a pixel's as
a box's; the gain-side set's spectra, whose gain partners at 600 K lie
on the tail, their own recording by 0.29 at most; WS2 specimen spectra
(``ws2_25meV``) their session's vacuum median by 0.24 to 0.29; another
instrument's ZLP, stretched to the same width, misses by 0.70 and more.
:data:`MISMATCH_LIMIT` lies between.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from hyperspy_eelspecnet.inference.alignment import fractional_shift, zlp_core_centre
from hyperspy_eelspecnet.inference.reference import subtract_reference

#: A reference whose gain-side mismatch exceeds this is taken for a wrong one.
MISMATCH_LIMIT = 0.5
#: The gain side is judged where the higher of spectrum and reference lies between
#: these shares of the reference's maximum: the ZLP's tail, past the steep flank,
#: where a fraction of a channel of alignment would weigh more than the shape.
TAIL_RANGE = (1e-3, 3e-2)
#: Gain sides of fewer channels (a spectrum cropped just before its ZLP) are not judged.
MIN_TAIL_CHANNELS = 4
#: A mismatch is judged only where it is this many times what the noise alone gives.
NOISE_FACTOR = 3.0


def _aligned_mean(rows: np.ndarray, target: float, length: int) -> tuple[np.ndarray, np.ndarray]:
    """The mean of unit-integral rows, each moved so that its ZLP centre is at ``target``.

    Returned with the mask of the channels every row covers (a
    spectrum cropped just before its ZLP has no gain side to compare).

    The shift is by a fraction of a channel too (a phase ramp of the
    Fourier transform, over ``length`` channels so that nothing wraps):
    whole channels would broaden the mean, and its flank would then miss
    the reference's by more than their shapes differ.
    """
    rows = np.asarray(rows, np.float64)
    totals = rows.sum(axis=1, keepdims=True)
    rows = rows / np.where(totals > 0, totals, 1)
    shifts = target - zlp_core_centre(rows)  # all finite: every row has a positive maximum
    mean = fractional_shift(rows, shifts, length).mean(axis=0)
    channels = np.arange(length)
    covered = (channels > shifts.max() + 1) & (channels < shifts.min() + rows.shape[1] - 2)
    return mean, covered


def gain_side_mismatch(spectra: np.ndarray, references: np.ndarray) -> float:
    """How far the references' ZLP tail misses the spectra's on the energy-gain side.

    Both are brought to unit integral, aligned on their ZLP centres and
    averaged. The mean reference is scaled to fit the mean spectrum over
    its core (the channels of at least half its maximum:
    :func:`~hyperspy_eelspecnet.inference.reference.subtract_reference`).
    Over the gain side, the channels before the core that every spectrum
    covers and where the higher of the two lies within
    :data:`TAIL_RANGE` of the reference's maximum, the difference is
    smoothed over the core's width, so that counting noise averages out
    and a different tail does not.

    Parameters
    ----------
    spectra
        Spectra of shape (n, channels), ZLP included, in counts or any
        multiple of them.
    references
        The vacuum references they are given, shape (1, m) or (n, m).

    Returns
    -------
    float
        The smoothed difference's absolute sum over the sum of the higher
        of the two there (0 for a match, near 1 where one has tails and
        the other none); NaN where the gain side has fewer than
        :data:`MIN_TAIL_CHANNELS` channels, or where the difference is
        within :data:`NOISE_FACTOR` times what noise alone would give
        (too noisy to judge, or a match).
    """
    spectra, references = np.atleast_2d(spectra), np.atleast_2d(references)
    if not (spectra.max(axis=1) > 0).all() or not (references.max(axis=1) > 0).all():
        return np.nan  # no ZLP to align on: the domain report says so
    channels = max(spectra.shape[1], references.shape[1])
    target, length = float(channels), 3 * channels
    (s, covered), (r, _) = (_aligned_mean(spectra, target, length),
                            _aligned_mean(references, target, length))
    core = r >= 0.5 * r.max()
    residual = subtract_reference(s[None], r[None])[0]
    r = s - residual  # the reference scaled to the spectra's ZLP core
    gain = np.arange(length) < np.flatnonzero(core)[0]
    low, high = TAIL_RANGE
    upper = np.maximum(s, r)  # a reference without the spectrum's tails has no window of its own
    tail = np.flatnonzero(gain & covered & (upper >= low * r.max()) & (upper <= high * r.max()))
    if len(tail) < MIN_TAIL_CHANNELS:
        return np.nan
    width = max(3, int(core.sum()))
    smooth = uniform_filter1d(residual, width)
    # white noise of sigma leaves sigma * sqrt(1 - 1/width) about its boxcar mean
    sigma = np.std((residual - smooth)[tail]) / np.sqrt(1 - 1 / width)
    smooth = smooth[tail]
    noise_sum = len(tail) * sigma * np.sqrt(2 / np.pi / width)
    mismatch = np.abs(smooth).sum()
    if not mismatch > NOISE_FACTOR * noise_sum:
        return np.nan
    return float(mismatch / upper[tail].sum())
