"""Refine a ZLP-free network's restoration with the vacuum reference.

A network restores what it can tell apart. Beside the ZLP, a phonon and
a slightly different tail look alike, and a network's best guess there
is an average of what it was trained on: the blind ``nzeels-2048-nozlp``
puts twice the truth's counts in the near-ZLP set's phonon band and half
of them in the coupled state's (``docs/vacuum_reference.rst``).
Richardson-Lucy given the vacuum recording has no such doubt, but it
needs hundreds of iterations to move counts out of the ZLP's tail, and
each iteration lets more noise through.

:func:`refine_with_reference` takes the network's restoration as the
start and fits the measurement as the vacuum reference, laid on the
spectrum's ZLP and scaled (the ZLP), plus the loss spectrum blurred by
the reference (everything else)::

    measured ~ a * reference + reference (*) loss

with the expectation-maximisation steps of Richardson-Lucy for both
parts: the loss spectrum is multiplied by the correlation of the ratio
``measured / model`` with the reference (normalised at the window's
edges), and ``a`` by that ratio's mean over the reference. The ZLP keeps
the reference's shape exactly, so what the measurement holds beyond it
can only go into the loss spectrum: a phonon is not taken for the
ZLP's tail. Starting from the network's restoration, a few tens of
iterations correct the counts near the ZLP while the noise the
iterations let through stays a fraction of Richardson-Lucy's.
:func:`near_zlp_weights` keeps the refinement to the channels near the
ZLP, where the network is in doubt, and the network's denoised
restoration beyond; :func:`significance_weights` keeps a change only
where the measurement asks for it beyond its noise.
"""

from __future__ import annotations

import numpy as np
from scipy import fft
from scipy.ndimage import gaussian_filter1d

from hyperspy_eelspecnet.inference.alignment import (
    fractional_shift,
    shift_spectra,
    zlp_core_centre,
)
from hyperspy_eelspecnet.inference.reference import core_fit_scale
from hyperspy_eelspecnet.inference.reference_match import MISMATCH_LIMIT, gain_side_mismatch
from hyperspy_eelspecnet.metrics import fwhm
from hyperspy_eelspecnet.models.card import Refinement
from hyperspy_eelspecnet.restoration.richardson_lucy import centre_psf, convolve_psf

#: Model values at most this share of a spectrum's largest count give a ratio of 0.
_RATIO_FLOOR = 1e-12
#: With a reach, the channels refined extend this many times the reach past the
#: crossfade's end on either side (and the reference is cut there): the window's
#: edges, where the fit lacks what lies beyond, stay out of the channels kept.
_MARGIN = 0.5
#: Channels either side within which a reference is moved by its last fraction of
#: a channel (:func:`_laid_on`): the ringing of the cut reaches no further.
_SHIFT_PAD = 32
#: The start's loss spectrum is raised to at least this share of a spectrum's
#: counts: a multiplicative step cannot raise a channel that starts at zero.
_START_FLOOR = 1e-9


def refine_restoration(spectra: np.ndarray, loss: np.ndarray, references: np.ndarray,
                       refinement: Refinement) -> np.ndarray:
    """A ZLP-free network's restorations refined with the reference, as the card says.

    Not refined where the reference misses the block's energy-gain side
    (:func:`~.reference_match.gain_side_mismatch` above
    :data:`~.reference_match.MISMATCH_LIMIT`): fitted as the ZLP, another
    instrument's reference would take the counts beside the ZLP for its
    tail, or its tail for losses. The block then keeps the network's
    restoration (negative values raised to a floor), and the signal
    method warns. With ``reach_fwhm``, only the channels near the ZLP
    are refined (:func:`near_zlp_weights`), in a window around them; with
    ``significance``, that change is kept only where it is significant
    (:func:`significance_weights`); with ``near_iterations``, the channels
    within ``near_reach_fwhm`` are then refined further, from that result.

    Parameters
    ----------
    spectra, loss, references
        As for :func:`refine_with_reference`.
    refinement
        The card's ``preprocessing.refinement``.

    Returns
    -------
    numpy.ndarray
        Float64 array of the spectra's shape: the refined loss spectra,
        with the fitted ZLP as a quasi-Dirac peak for output
        ``"quasi_dirac"``.
    """
    mismatched = gain_side_mismatch(spectra, references) > MISMATCH_LIMIT
    refined = np.maximum(np.nan_to_num(np.asarray(loss, np.float64)), 0.0)
    stages = [(refinement.iterations, refinement.reach_fwhm)]
    if refinement.near_iterations is not None:
        stages.append((refinement.near_iterations, refinement.near_reach_fwhm))
    for stage, (iterations, reach) in enumerate(stages):
        refined, zlp_counts, zlp_channel = _refined_within(
            spectra, refined, references, 0 if mismatched else iterations, reach,
            refinement.significance if stage == 0 else None, refinement.near_reach_fwhm)
    if refinement.output == "quasi_dirac":
        refined += quasi_dirac_zlp(zlp_counts, zlp_channel, spectra.shape[1],
                                   refinement.zlp_fwhm_channels)
    return refined


def _refined_within(spectra: np.ndarray, start: np.ndarray, references: np.ndarray,
                    iterations: int, reach: float | None, significance: float | None,
                    kept_within: float | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`refine_with_reference` within ``reach`` ZLP FWHMs, ``start`` kept beyond.

    ``reach`` None refines every channel.

    With ``significance``, the change is kept only where it is significant
    (:func:`significance_weights`), and in full within ``kept_within`` ZLP
    FWHMs of the ZLP, where the ZLP's own curvature inflates the noise
    estimate.

    The channels refined are a window around the block's ZLPs that ends
    ``_MARGIN`` times the reach past the crossfade; the references are cut
    (or zero-padded) to that half-width about their maximum, or to the
    window's length if shorter.
    """
    n, channels = spectra.shape
    width = fwhm(references)
    window = slice(0, channels)
    if reach is not None:
        half = int(np.ceil((1.5 + _MARGIN) * reach * width.max()))
        centres = zlp_core_centre(spectra)
        window = slice(max(0, int(centres.min()) - half),
                       min(channels, int(np.ceil(centres.max())) + half + 1))
        # the same channels about the maximum however the recording was windowed (and
        # none beyond the window's length, which cannot blur one channel into another)
        cut = min(half, window.stop - window.start - 1)
        references = shift_spectra(references, cut - np.argmax(references, axis=1),
                                   2 * cut + 1)
    inside, zlp_counts, zlp_channel = refine_with_reference(
        spectra[:, window], start[:, window], references, iterations)
    zlp_channel = zlp_channel + window.start
    weights = (np.ones_like(inside) if reach is None
               else near_zlp_weights(zlp_channel, width, channels, reach)[:, window])
    if significance is not None:
        keep = significance_weights(spectra[:, window], inside - start[:, window], references,
                                    float(np.median(width)), significance)
        if kept_within is not None:
            near = near_zlp_weights(zlp_channel, width, channels, kept_within)[:, window]
            keep = np.maximum(keep, near)
        weights = weights * keep
    refined = start.copy()
    refined[:, window] = weights * inside + (1 - weights) * start[:, window]
    return refined, zlp_counts, zlp_channel


def significance_weights(spectra: np.ndarray, change: np.ndarray, references: np.ndarray,
                         fwhm: float, threshold: float) -> np.ndarray:
    """Weights of a refinement's change: 1 where it is significant, 0 where it fits noise.

    The change to the loss spectrum, blurred by the reference, is the
    change to the model of the measurement; smoothed by a Gaussian of the
    ZLP's width, it is compared with the noise of the same smoothing,
    estimated from the measurement's channel-to-channel second
    differences (white noise, averaged over 4 ZLP widths). The weight is
    0 below ``threshold`` times that noise, 1 from twice it, linear
    between, and smoothed over 2 ZLP widths so that no edge is made.

    Parameters
    ----------
    spectra
        Measured spectra, shape (n, channels).
    change
        Refined minus start loss spectra, the same shape.
    references
        As for :func:`refine_with_reference`.
    fwhm
        The ZLP's FWHM, in channels.
    threshold
        The card's ``refinement.significance``.

    Returns
    -------
    numpy.ndarray
        Float64 array of the spectra's shape in [0, 1].
    """
    sigma = max(fwhm / np.sqrt(8 * np.log(2)), 1.0)
    model_change = gaussian_filter1d(convolve_psf(change, references), sigma, axis=1)
    d = np.asarray(spectra, np.float64)
    second = np.zeros_like(d)
    second[:, 1:-1] = d[:, 1:-1] - 0.5 * (d[:, :-2] + d[:, 2:])  # variance 1.5x the noise's
    variance = gaussian_filter1d(second**2, 4 * sigma, axis=1) / 1.5
    # a Gaussian smoothing of unit sum divides white noise's variance by 2 sqrt(pi) sigma
    noise = np.sqrt(variance / (2 * np.sqrt(np.pi) * sigma))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(noise > 0, np.abs(model_change) / noise, np.inf)
    return gaussian_filter1d(np.clip(z / threshold - 1, 0, 1), 2 * sigma, axis=1)


def refine_with_reference(spectra: np.ndarray, loss: np.ndarray, references: np.ndarray,
                          iterations: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit the reference as the ZLP, and the loss spectrum from ``loss`` on, to the spectra.

    Parameters
    ----------
    spectra
        Measured spectra of shape (n, channels), counts; negative values
        count as 0.
    loss
        The start: the network's ZLP-free restorations of ``spectra``,
        same shape and scale.
    references
        Unit-integral vacuum references, shape (1, m) for all spectra or
        (n, m), any length and offset
        (:func:`~hyperspy_eelspecnet.inference.reference.reference_rows`).
    iterations
        Expectation-maximisation steps; 0 returns the start (its floor
        raised) with the ZLP fitted to the spectra's core.

    Returns
    -------
    tuple of numpy.ndarray
        The refined loss spectra, float64 of shape (n, channels); the
        ZLP's counts, shape (n,); and where the ZLP lies, shape (n,), in
        channels: the position whose blur by the reference (centred on its
        maximum, as Richardson-Lucy centres it) is the fitted ZLP.
    """
    d = np.clip(np.asarray(spectra, np.float64), 0, None)
    n, channels = d.shape
    refs, extent = _within_reach(np.asarray(references, np.float64), channels)
    zlp, zlp_channel = _laid_on(refs, d, channels)
    a = core_fit_scale(d, zlp)
    z_sum = zlp.sum(axis=1)
    # the shortest length at which nothing wraps onto the channels kept
    n_fft = fft.next_fast_len(channels + extent, real=True)
    transfer = fft.rfft(centre_psf(refs, n_fft), axis=1).astype(np.complex64)
    adjoint = transfer.conj()

    def blur(x, kernel):  # float32: each step's ratio is near 1, its error far below
        return fft.irfft(fft.rfft(x, n_fft, axis=1, workers=-1) * kernel, n_fft, axis=1,
                         workers=-1)[:, :channels]

    edges = blur(np.ones((len(refs), channels), np.float32), adjoint)
    estimate = np.maximum(np.nan_to_num(np.asarray(loss, np.float64)),
                          _START_FLOOR * d.sum(axis=1, keepdims=True)).astype(np.float32)
    d32, zlp32 = d.astype(np.float32), zlp.astype(np.float32)
    floor = np.float32(_RATIO_FLOOR) * d32.max(axis=1, keepdims=True)
    ratio = np.empty_like(d32)
    for _ in range(iterations):
        model = blur(estimate, transfer)
        model += a.astype(np.float32)[:, None] * zlp32
        ratio[...] = 0.0
        np.divide(d32, model, out=ratio, where=model > floor)
        estimate *= blur(ratio, adjoint) / edges
        a *= (zlp32 * ratio).sum(axis=1, dtype=np.float64) / z_sum
    estimate = estimate.astype(np.float64)
    return estimate, a * z_sum, zlp_channel


def _within_reach(references: np.ndarray, channels: int) -> tuple[np.ndarray, int]:
    """References cut to the channels about their maximum that can touch a spectrum.

    Returns the references cut (never padded) to ``2 * extent + 1``
    channels, their maximum at the centre, and ``extent``: at most
    ``channels - 1``, the farthest a reference's value can lie from its
    maximum and still blur one channel of a spectrum into another.
    """
    peak = np.argmax(references, axis=1)
    wings = max(int(peak.max()), int((references.shape[1] - 1 - peak).max()))
    extent = min(channels - 1, wings)
    return shift_spectra(references, extent - peak, 2 * extent + 1), extent


def _laid_on(references: np.ndarray, spectra: np.ndarray,
             channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Each spectrum's reference moved onto its ZLP, and where its delta lies.

    The reference's ZLP centre (:func:`~.alignment.zlp_core_centre`) is
    laid on the spectrum's, by whole channels and then by the fraction
    left (at most half a channel, in ``_SHIFT_PAD`` channels more either
    side); the ringing of the fractional shift is clipped at zero.
    """
    n, m = len(spectra), references.shape[1]
    centres = zlp_core_centre(spectra)
    own = zlp_core_centre(references)
    shifts = centres - own  # broadcast: one reference for all, or one each
    whole = np.broadcast_to(np.round(shifts), (n,)).astype(int)
    rows = shift_spectra(np.broadcast_to(references, (n, m)), whole + _SHIFT_PAD,
                         channels + 2 * _SHIFT_PAD)
    length = fft.next_fast_len(channels + 4 * _SHIFT_PAD)
    moved = fractional_shift(rows, shifts - whole, length)
    laid = np.clip(moved[:, _SHIFT_PAD:_SHIFT_PAD + channels], 0, None)
    return laid, centres - (own - np.argmax(references, axis=1))


def quasi_dirac_zlp(counts: np.ndarray, channel: np.ndarray, channels: int,
                    fwhm: float) -> np.ndarray:
    """ZLPs of ``counts`` as Gaussians of ``fwhm`` channels at ``channel``.

    Parameters
    ----------
    counts, channel
        Shape (n,): each ZLP's counts and its centre, in channels.
    channels
        Channels of the spectra.
    fwhm
        The quasi-Dirac ZLP's FWHM, in channels (the training target's).

    Returns
    -------
    numpy.ndarray
        Float64 array of shape (n, channels); each row sums to its counts
        where the window holds the whole peak.
    """
    sigma = fwhm / np.sqrt(8 * np.log(2))
    offset = np.arange(channels)[None, :] - np.asarray(channel, float)[:, None]
    peak = np.exp(-0.5 * (offset / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    return np.asarray(counts, float)[:, None] * peak


def near_zlp_weights(zlp_channel: np.ndarray, fwhm: np.ndarray, channels: int,
                     reach: float) -> np.ndarray:
    """Weights of the refinement: 1 near the ZLP, 0 far from it.

    Parameters
    ----------
    zlp_channel
        Shape (n,): where each ZLP lies, in channels.
    fwhm
        Shape (n,) or (1,): each ZLP's FWHM, in channels.
    channels
        Channels of the spectra.
    reach
        1 within ``reach`` FWHMs of the ZLP on either side, 0 from
        ``1.5 * reach`` on, and a raised cosine between.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape (n, channels) in [0, 1].
    """
    distance = np.abs(np.arange(channels)[None, :] - np.asarray(zlp_channel)[:, None])
    inner = reach * np.asarray(fwhm, float).reshape(-1, 1)
    ramp = np.clip((distance - inner) / (0.5 * inner), 0, 1)
    return 0.5 + 0.5 * np.cos(np.pi * ramp)
