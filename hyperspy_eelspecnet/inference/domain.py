"""Warnings for spectra outside what a model was trained on.

A network restores only what looks like its training data. Each model
card has a ``domain`` section (the ZLP widths in channels it was trained
for, how many channels past the ZLP it saw, the channel counts it was
validated on); :class:`DomainReport`
compares every block of spectra with it and warns once per call and
reason, with numbers.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass, field

import numpy as np

from hyperspy_eelspecnet.metrics import fwhm


class OutOfDomainWarning(UserWarning):
    """Spectra differ from the data a model was trained on."""


#: A ZLP is "found" when the maximum stands this far above the median level.
_ZLP_PROMINENCE = 10.0


@dataclass
class _Tally:
    count: int = 0
    total: int = 0
    low: float = np.inf
    high: float = -np.inf

    def add(self, values: np.ndarray, total: int) -> None:
        self.count += int(values.size)
        self.total += total
        if values.size:
            self.low = min(self.low, float(np.min(values)))
            self.high = max(self.high, float(np.max(values)))


@dataclass
class DomainReport:
    """Tallies out-of-domain spectra over the blocks of one call.

    Parameters
    ----------
    model_name
        Name of the model, for the messages.
    domain
        The ``domain`` section of the model card.
    immediate
        Warn at the first block that shows a problem (lazy signals, whose
        blocks are computed later, one by one) instead of once at the end
        with totals (:meth:`emit`, eager signals).
    """

    model_name: str
    domain: dict
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

    def check(self, spectra: np.ndarray) -> None:
        """Check a block of spectra, shape (n, channels)."""
        n = len(spectra)
        peak = spectra.max(axis=1)
        level = np.median(np.abs(spectra), axis=1)
        no_zlp = ~(peak > _ZLP_PROMINENCE * level)
        widths = fwhm(spectra[~no_zlp])
        lo, hi = self.domain["zlp_fwhm_channels"]
        odd_width = widths[~((widths >= lo) & (widths <= hi))]
        negative = spectra.min(axis=1) / np.where(peak > 0, peak, 1)
        negative = negative[negative < -0.01]
        extent = spectra.shape[1] - 1 - spectra.argmax(axis=1)
        long = extent[extent > self.domain.get("channels_past_zlp", np.inf)]
        with self._lock:
            for reason, values in (("no_zlp", peak[no_zlp]), ("zlp_width", odd_width),
                                   ("negative", negative), ("extent", long)):
                self._tallies.setdefault(reason, _Tally()).add(values, n)
            if self.immediate:
                self._emit_locked()

    def emit(self) -> None:
        """Warn once for each reason found so far."""
        with self._lock:
            self._emit_locked()

    def _emit_locked(self) -> None:
        for reason, tally in self._tallies.items():
            if tally.count and reason not in self._warned:
                self._warned.add(reason)
                warnings.warn(self._message(reason, tally), OutOfDomainWarning,
                              stacklevel=4)

    def _message(self, reason: str, t: _Tally) -> str:
        where = f"{t.count} of {t.total} spectra"
        if self.immediate:
            where += " (in the first block that showed it; later blocks not counted)"
        lo, hi = self.domain["zlp_fwhm_channels"]
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
                f"{name} was trained on at most {self.domain['channels_past_zlp']}: "
                "the channels beyond are restored from no training at all. Crop "
                "the energy axis (s.isig[:end]) or rebin it, or train a model on "
                "longer spectra."
            )
        return (
            f"{where} have negative counts down to {-t.high:.3g} to "
            f"{-t.low:.3g} of their maximum (dark-subtracted data?); {name} "
            "was trained on noise around zero only. Check the dark reference "
            "or add back the dark level before deconvolving."
        )
