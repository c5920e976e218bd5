"""Warnings for spectra outside what a model was trained on.

A network restores only what looks like its training data. Each model
card has a ``domain`` section (the ZLP widths in channels it was trained
for, how many channels past the ZLP it saw, the channel counts it was
validated on); :class:`DomainReport`
compares every block of spectra with it and warns once per call and
reason, with numbers. For a model that takes a vacuum reference, it also
checks that the reference matches the spectra's ZLP
(:mod:`~hyperspy_eelspecnet.inference.reference_match`).
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass, field

import numpy as np

from hyperspy_eelspecnet.inference.reference_match import MISMATCH_LIMIT, gain_side_mismatch
from hyperspy_eelspecnet.metrics import fwhm, highpass_noise_sigma
from hyperspy_eelspecnet.models.card import Domain


class OutOfDomainWarning(UserWarning):
    """Spectra differ from the data a model was trained on."""


class ReferenceMismatchWarning(OutOfDomainWarning):
    """The vacuum reference's ZLP does not match the spectra's."""


#: A ZLP is "found" when the maximum stands this far above the median level.
_ZLP_PROMINENCE = 10.0

#: The loss region starts this many ZLP FWHM past the ZLP's maximum.
_LOSS_START_FWHM = 3.0

#: Channels at the end of the loss region whose level is judged.
_DARK_LEVEL_CHANNELS = 256

#: A loss region whose mean or median lies this many noise sigmas below
#: zero there is below zero beyond its noise (an over-subtracted dark level).
_DARK_LEVEL_SIGMAS = 3.0

#: Loss regions of fewer channels are not judged (too few for the noise).
_MIN_LOSS_CHANNELS = 32


@dataclass
class _Tally:
    count: int = 0
    total: int = 0
    low: float | np.ndarray = np.inf
    high: float | np.ndarray = -np.inf

    def add(self, values: np.ndarray, total: int) -> None:
        """Count the spectra of ``values`` (one value or one row each) and their range."""
        self.count += len(values)
        self.total += total
        if len(values):
            self.low = np.fmin(self.low, np.min(values, axis=0))
            self.high = np.fmax(self.high, np.max(values, axis=0))


@dataclass
class DomainReport:
    """Tallies out-of-domain spectra over the blocks of one call.

    Parameters
    ----------
    model_name
        Name of the model (or method), for the messages.
    domain
        The model card's ``domain``; None for a method without one
        (Richardson-Lucy), whose reference alone is checked.
    immediate
        Warn at the first block that shows a problem (lazy signals, whose
        blocks are computed later, one by one) instead of once at the end
        with totals (:meth:`emit`, eager signals).
    """

    model_name: str
    domain: Domain | None
    immediate: bool = False
    _tallies: dict[str, _Tally] = field(default_factory=dict)
    _warned: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_lock")
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def check(self, spectra: np.ndarray, reference: np.ndarray | None = None) -> None:
        """Check a block of spectra, shape (n, channels), and the reference they are given.

        ``reference``: one vacuum recording (m,) or one per spectrum (n, m),
        for a method that takes one: its energy-gain side is compared with
        the block's (:func:`~.reference_match.gain_side_mismatch`).
        """
        n = len(spectra)
        found = [] if self.domain is None else self._out_of_domain(spectra)
        mismatch = np.nan if reference is None else gain_side_mismatch(spectra, reference)
        found.append(("reference", np.full(n if mismatch > MISMATCH_LIMIT else 0, mismatch)))
        with self._lock:
            for reason, values in found:
                self._tallies.setdefault(reason, _Tally()).add(values, n)
            if self.immediate:
                self._emit_locked()

    def _out_of_domain(self, spectra: np.ndarray) -> list[tuple[str, np.ndarray]]:
        """Each reason of the card's domain, with the values of the spectra it concerns."""
        peak = spectra.max(axis=1)
        level = np.median(np.abs(spectra), axis=1)
        no_zlp = ~(peak > _ZLP_PROMINENCE * level)
        widths = fwhm(spectra[~no_zlp])
        lo, hi = self.domain.zlp_fwhm_channels
        odd_width = widths[~((widths >= lo) & (widths <= hi))]
        negative = spectra.min(axis=1) / np.where(peak > 0, peak, 1)
        negative = negative[negative < -0.01]
        extent = spectra.shape[1] - 1 - spectra.argmax(axis=1)
        long = extent[extent > self.domain.channels_past_zlp]
        dark = _loss_region_below_zero(spectra[~no_zlp], widths)
        return [("no_zlp", peak[no_zlp]), ("zlp_width", odd_width), ("negative", negative),
                ("extent", long), ("dark_level", dark)]

    def emit(self) -> None:
        """Warn once for each reason found so far."""
        with self._lock:
            self._emit_locked()

    def _emit_locked(self) -> None:
        for reason, tally in self._tallies.items():
            if tally.count and reason not in self._warned:
                self._warned.add(reason)
                category = (ReferenceMismatchWarning if reason == "reference"
                            else OutOfDomainWarning)
                warnings.warn(self._message(reason, tally), category, stacklevel=4)

    def _message(self, reason: str, t: _Tally) -> str:
        where = f"{t.count} of {t.total} spectra"
        if self.immediate:
            where += " (in the first block that showed it; later blocks not counted)"
        name = self.model_name
        if reason == "no_zlp":
            return (
                f"{where} show no zero-loss peak (maximum under "
                f"{_ZLP_PROMINENCE:g}x the median level): {name} aligns and "
                "scales each spectrum on its ZLP, so these restorations are "
                "meaningless. Crop the energy axis to include the ZLP "
                "(s.isig[...]) or mask those pixels."
            )
        if reason == "zlp_width":
            lo, hi = self.domain.zlp_fwhm_channels
            return (
                f"{where} have a ZLP FWHM of {t.low:.1f} to {t.high:.1f} "
                f"channels, outside the {lo:.1f} to {hi:.1f} channels {name} "
                "was trained for; the restoration may be wrong there. Rebin "
                "(s.rebin) or interpolate the energy axis to bring the ZLP "
                "width into range, or train a model for these widths."
            )
        if reason == "extent":
            return (
                f"{where} extend {t.low:.0f} to {t.high:.0f} channels past the ZLP; "
                f"{name} was trained on at most {self.domain.channels_past_zlp}: "
                "the channels beyond are restored from no training at all. Crop "
                "the energy axis (s.isig[:end]) or rebin it, or train a model on "
                "longer spectra."
            )
        if reason == "dark_level":
            (mean_lo, median_lo, sigmas_lo), (mean_hi, median_hi, sigmas_hi) = t.low, t.high
            return (
                f"{where} lie below zero past the ZLP: over the end of their loss "
                f"region (its last {_DARK_LEVEL_CHANNELS} channels, from "
                f"{_LOSS_START_FWHM:g} ZLP FWHM past the maximum at the nearest) the "
                f"mean is {mean_lo:.3g} to {mean_hi:.3g} counts and the median "
                f"{median_lo:.3g} to {median_hi:.3g}, {sigmas_lo:.3g} to {sigmas_hi:.3g} "
                "noise sigmas below zero. Counts do not average below zero: the dark "
                "level was over-subtracted (a dark reference of another exposure or "
                f"gain, or subtracted twice?), and {name} was trained on noise around "
                "zero only. Check the dark reference and the dark subtraction, or add "
                "the excess back (s + offset), before deconvolving."
            )
        if reason == "reference":
            return (
                f"{where}: the vacuum reference does not match their ZLP. On the "
                "energy-gain side, where a spectrum holds the ZLP's tail alone, the "
                "reference scaled to the ZLP's core misses the spectra's mean by "
                f"{t.low:.2f} to {t.high:.2f} of it (recordings of one session miss by "
                f"under 0.1; over {MISMATCH_LIMIT:g} it is taken for another instrument's "
                f"or setting's ZLP), and a wrong reference misleads {name} near the ZLP. "
                "Pass psf= a vacuum recording of this session, with the same settings "
                "and binning"
                + ("." if self.domain is None else
                   ", or use a blind model (no psf=) such as 'nzeels-2048'. A refined "
                   "model (card preprocessing.refinement) skips its refinement for such "
                   "a block and returns its network's blind restoration.")
            )
        return (
            f"{where} have negative counts down to {-t.high:.3g} to "
            f"{-t.low:.3g} of their maximum (dark-subtracted data?); {name} "
            "was trained on noise around zero only. Check the dark reference "
            "or add back the dark level before deconvolving."
        )


def _loss_region_below_zero(spectra: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """The spectra whose loss region ends below zero beyond its noise.

    A spectrum's loss region runs from `_LOSS_START_FWHM` times its ZLP
    FWHM past its maximum to its last channel. Its end, the last
    `_DARK_LEVEL_CHANNELS` channels of it (or all of it if shorter), holds
    the least loss signal, so it shows the dark level best; there its
    mean and median are compared with its noise sigma
    (:func:`~hyperspy_eelspecnet.metrics.highpass_noise_sigma`). It lies
    below zero when the mean or the median is more than
    `_DARK_LEVEL_SIGMAS` noise sigmas below zero: noise around zero does
    not do that, an over-subtracted dark level does (and the ZLP,
    thousands of times higher, keeps the spectrum's minimum a small
    fraction of its maximum).

    Parameters
    ----------
    spectra
        Spectra with a ZLP, shape (n, channels).
    widths
        Their ZLP FWHM in channels, shape (n,); a spectrum whose FWHM is
        NaN, or whose loss region has fewer than `_MIN_LOSS_CHANNELS`
        channels, is not judged.

    Returns
    -------
    numpy.ndarray
        One row (mean, median, noise sigmas below zero of the lower of
        the two) per spectrum below zero, shape (k, 3).
    """
    channels = spectra.shape[1]
    window = min(channels, _DARK_LEVEL_CHANNELS)
    reach = np.ceil(_LOSS_START_FWHM * np.where(np.isfinite(widths), widths, channels))
    first = spectra.argmax(axis=1) + reach - (channels - window)
    region = np.arange(window)[None, :] >= first[:, None]
    judged = region.sum(axis=1) >= _MIN_LOSS_CHANNELS
    end, region = spectra[judged, channels - window :], region[judged]
    if not len(end):
        return np.empty((0, 3))
    values = np.where(region, end, np.nan)
    mean, median = np.nanmean(values, axis=1), np.nanmedian(values, axis=1)
    sigma = highpass_noise_sigma(end, region)
    lower = np.minimum(mean, median)
    below = lower < -_DARK_LEVEL_SIGMAS * sigma
    with np.errstate(divide="ignore"):
        sigmas = -lower[below] / sigma[below]
    return np.column_stack([mean[below], median[below], sigmas])
