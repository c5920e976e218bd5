"""The near-ZLP set: phonons, coupled states and doublets beside the ZLP.

Shaped after the paper's silver-nanowire results (Figs. 7d, 8): spectra
averaged over 7 x 7 pixel boxes, 2048 channels at 5 meV, the ZLP near
channel 400, 5e4 counts at the measured ZLP's maximum, seen through a
real vacuum ZLP shape (:mod:`~hyperspy_eelspecnet.evaluation.responses`)
at a total resolution (FWHM of the measured vacuum ZLP) of 30, 45 and
65 meV. Every box holds the truth's quasi-Dirac ZLP, two surface
plasmons (SP1 near 0.6 eV, about 0.15 eV wide, 1/400 of the ZLP; SP2
near 1.05 eV) and one of the cases:

- ``phonon``: a peak near 0.10 eV, 30 meV wide, 1/1200 of the ZLP;
- ``coupled``: 0.8 of that peak's area moved to a coupled state C near
  0.16 eV (35 meV wide), the rest left at 0.10 eV;
- ``doublet-1.0``, ``doublet-1.5``: two equal peaks 20 to 30 meV wide,
  the first at 0.10 to 0.15 eV, apart by 1 and 1.5 times the total
  resolution.

Heights are fractions of the truth's ZLP maximum. Each box draws its own
ZLP channel (400 +- 6, a fraction of a channel off the grid), peak
shapes (Lorentzian fraction 0 to 1), positions (+-10 meV), widths
(+-15 %) and heights (x 0.8 to 1.25); its 49 pixels share the truth and
differ in their counting noise.

Richardson-Lucy and the models that take a vacuum reference are given
each box's vacuum recording through the same response; through a
response of :data:`~.responses.SESSION_RECORDINGS` they also restore the
boxes given another recording of that instrument in its place
(:func:`another_recording`), the reference a user would have.

Measures per box, for each band (a peak's centre +- its FWHM, split at
the midpoint between neighbouring peaks), every method and the truth on
the measured counts' scale (see
:mod:`~hyperspy_eelspecnet.evaluation.comparison`):

- ``<band>_counts``: the box's counts in the band over the truth's;
- ``<band>_pixel_error``: median over pixels of the relative error of
  each pixel's counts in the band;
- ``<band>_shift_eV``: the band's centroid (box sum) minus the truth's;
- ``<band>_rise``: in the box sum smoothed by a 3-channel boxcar, how
  far the maximum inside the band rises above the higher of its edges,
  over the same for the truth; ``<band>_visible`` if that is at least
  :data:`VISIBLE` (not for doublets; NaN where the truth's own rise is
  under :data:`MIN_TRUTH_RISE` of its maximum there);
- doublets: ``dip_ratio``, the minimum between the two peaks' maxima of
  the smoothed box sum over their mean; ``dip_kept``, the depth of that
  dip (1 - ratio) over the truth's; ``dip_visible`` if at least
  :data:`VISIBLE` of it is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d

from hyperspy_eelspecnet.evaluation.comparison import (
    NEAR_ZLP_RL_ITERATIONS,
    Scores,
    SetResult,
    example_curves,
    method_names,
    restore_with_methods,
    score_methods,
    subset_rng,
)
from hyperspy_eelspecnet.evaluation.generated import EVALUATION_SEED
from hyperspy_eelspecnet.evaluation.responses import (
    MAIN_RESPONSE,
    REALDATA,
    RESPONSES,
    SESSION_RECORDINGS,
    Measurement,
    extended_energy,
    load_recording,
    load_response_shape,
    measure,
    pseudo_voigt,
    quasi_dirac,
    response_for,
)
from hyperspy_eelspecnet.models.registry import ModelSpec

DISPERSION = 0.005
CHANNELS = 2048
ZLP_CHANNEL = 400
#: Total resolutions: FWHM (eV) of the measured vacuum ZLP.
RESOLUTIONS_EV = (0.030, 0.045, 0.065)
#: The resolution of the boxes the figure shows.
EXAMPLE_RESOLUTION_EV = 0.045
CASES = ("phonon", "coupled", "doublet-1.0", "doublet-1.5")
#: Pixels of a box: 7 x 7.
PIXELS = 49
#: Boxes per response, resolution and case.
BOXES = 4
ZLP_COUNTS = 5e4
#: Share of the truth's rise (or dip) a restoration must keep to show the peak.
VISIBLE = 0.3
#: A band's peak is scored where the truth's rise is at least this share of its maximum.
MIN_TRUTH_RISE = 0.05
#: Channels of the boxcar smoothing of the visibility and dip measures.
SMOOTHING = 3
#: Share of the phonon's area moved to the coupled state C.
COUPLED_WEIGHT = 0.8
#: Energy range (eV) of the figure's panels.
EXAMPLE_WINDOW_EV = (-0.15, 0.9)


@dataclass(frozen=True)
class Peak:
    """A pseudo-Voigt peak: energy and FWHM in eV, height a fraction of the ZLP's."""

    centre: float
    fwhm: float
    height: float
    eta: float


@dataclass(frozen=True)
class Band:
    """An energy band (eV) scored on its own; ``peak``: its visibility is scored."""

    name: str
    low: float
    high: float
    peak: bool


@dataclass(frozen=True)
class Box:
    """The truth of one box: its peaks, bands and, for doublets, the pair."""

    zlp_channel: float
    peaks: tuple[Peak, ...]
    bands: tuple[Band, ...]
    doublet: tuple[Peak, Peak] | None = None


def _vary(rng: np.random.Generator, nominal: float, spread: float = 0.15) -> float:
    return nominal * rng.uniform(1 - spread, 1 + spread)


def _height(rng: np.random.Generator, nominal: float) -> float:
    return nominal * float(np.exp(rng.uniform(np.log(0.8), np.log(1.25))))


def _near(rng: np.random.Generator, centre: float, width: float, height: float,
          eta: float) -> Peak:
    return Peak(centre + rng.uniform(-0.01, 0.01), _vary(rng, width), height, eta)


def _phonon(rng, eta: float, resolution: float) -> dict[str, Peak]:
    return {"phonon": _near(rng, 0.10, 0.030, _height(rng, 1 / 1200), eta)}


def _coupled(rng, eta: float, resolution: float) -> dict[str, Peak]:
    phonon = _near(rng, 0.10, 0.030, _height(rng, 1 / 1200), eta)
    centre, width = 0.16 + rng.uniform(-0.01, 0.01), _vary(rng, 0.035)
    # One shape for both: a share of the area is that share of height x width.
    height = COUPLED_WEIGHT * phonon.height * phonon.fwhm / width
    return {"phonon": Peak(phonon.centre, phonon.fwhm, (1 - COUPLED_WEIGHT) * phonon.height, eta),
            "C": Peak(centre, width, height, eta)}


def _doublet(separation: float) -> Callable[..., dict[str, Peak]]:
    def peaks(rng, eta: float, resolution: float) -> dict[str, Peak]:
        width, height = rng.uniform(0.020, 0.030), _height(rng, 1 / 1200)
        first = rng.uniform(0.10, 0.15)
        return {"low": Peak(first, width, height, eta),
                "high": Peak(first + separation * resolution, width, height, eta)}
    return peaks


#: Case to the builder of its peaks near the ZLP, by name:
#: ``(rng, Lorentzian fraction, total resolution in eV) -> {name: Peak}``.
_CASE_PEAKS = {"phonon": _phonon, "coupled": _coupled,
               "doublet-1.0": _doublet(1.0), "doublet-1.5": _doublet(1.5)}


def _bands(near: dict[str, Peak], peak: bool) -> list[Band]:
    """Each peak's centre +- FWHM, split at the midpoint where neighbours overlap."""
    names = sorted(near, key=lambda name: near[name].centre)
    edges = [[near[n].centre - near[n].fwhm, near[n].centre + near[n].fwhm] for n in names]
    for i in range(len(names) - 1):
        if edges[i][1] > edges[i + 1][0]:
            edges[i][1] = edges[i + 1][0] = 0.5 * (near[names[i]].centre
                                                  + near[names[i + 1]].centre)
    return [Band(n, low, high, peak) for n, (low, high) in zip(names, edges, strict=True)]


def draw_box(case: str, resolution: float, rng: np.random.Generator) -> Box:
    """The truth of one box of a case at a total resolution (eV)."""
    zlp_channel = ZLP_CHANNEL + int(rng.integers(-6, 7)) + rng.uniform(-0.5, 0.5)
    near = _CASE_PEAKS[case](rng, rng.uniform(0, 1), resolution)
    sp1 = Peak(0.6 + rng.uniform(-0.03, 0.03), _vary(rng, 0.15), _height(rng, 1 / 400), 1.0)
    sp2 = Peak(1.05 + rng.uniform(-0.05, 0.05), _vary(rng, 0.2), _height(rng, 1 / 800), 1.0)
    doublet = case.startswith("doublet")
    bands = _bands(near, peak=not doublet)
    if case == "phonon":
        bands.append(Band("SP1", sp1.centre - sp1.fwhm, sp1.centre + sp1.fwhm, True))
    return Box(zlp_channel, (*near.values(), sp1, sp2), tuple(bands),
               (near["low"], near["high"]) if doublet else None)


def draw_subset(case: str, resolution: float, response: np.ndarray, boxes: int,
                rng: np.random.Generator) -> tuple[list[Box], Measurement]:
    """Boxes of one case at one resolution, measured through ``response``.

    Parameters
    ----------
    case
        One of :data:`CASES`.
    resolution
        Total resolution (eV) that ``response`` gives.
    response
        The response (:func:`~hyperspy_eelspecnet.evaluation.responses.response_for`).
    boxes
        Boxes to draw.
    rng
        Random stream of the boxes and their noise.

    Returns
    -------
    tuple
        The boxes' truths and their measurement, :data:`PIXELS` pixels each.
    """
    drawn = [draw_box(case, resolution, rng) for _ in range(boxes)]
    pad = len(response)
    energy = extended_energy(CHANNELS, np.array([b.zlp_channel for b in drawn]), DISPERSION, pad)
    loss = np.array([sum(p.height * pseudo_voigt(e, p.centre, p.fwhm, p.eta) for p in b.peaks)
                     for e, b in zip(energy, drawn, strict=True)])
    measurement = measure(energy, quasi_dirac(energy / DISPERSION), loss, response, pad,
                          ZLP_COUNTS, rng, pixels=PIXELS)
    return drawn, measurement


def another_recording(response: np.ndarray, drawn: list[Box],
                      rng: np.random.Generator) -> np.ndarray:
    """Each box's vacuum recording made through another response.

    The truth's ZLP alone, at each box's ZLP channel, through
    ``response`` and counted as :func:`draw_subset` counts the set's own
    vacuum recordings (:data:`~.responses.VACUUM_DOSE` times the dose).

    Returns
    -------
    numpy.ndarray
        Shape (boxes, :data:`CHANNELS`), the shape of ``Measurement.vacuum``.
    """
    pad = len(response)
    energy = extended_energy(CHANNELS, np.array([b.zlp_channel for b in drawn]), DISPERSION, pad)
    return measure(energy, quasi_dirac(energy / DISPERSION), np.zeros_like(energy), response,
                   pad, ZLP_COUNTS, rng).vacuum


def band_weights(energy: np.ndarray, low, high, dispersion: float) -> np.ndarray:
    """Share of each channel (``dispersion`` wide, centred on ``energy``) in [low, high].

    ``low`` and ``high`` broadcast with ``energy``: band sums with these
    weights do not depend on where the band's edges fall on the grid.
    """
    half = dispersion / 2
    inside = np.clip(energy + half, low, high) - np.clip(energy - half, low, high)
    return inside / dispersion


def _rise(smoothed: np.ndarray, energy: np.ndarray, band: Band) -> tuple[float, float]:
    """How far the band's maximum rises above its higher edge, and that maximum."""
    top = smoothed[(energy > band.low) & (energy < band.high)].max()
    return float(top - np.interp([band.low, band.high], energy, smoothed).max()), float(top)


def _dip(smoothed: np.ndarray, energy: np.ndarray, pair: tuple[Peak, Peak]) -> float:
    """The minimum between the doublet's two maxima over their mean.

    Each maximum is sought from the peak's half maximum on its outer side
    to the doublet's midpoint; one found at either end of its range (a
    slope, such as the ZLP's tail) is no peak, and there is then no dip
    (ratio 1). NaN where the maxima are not positive.
    """
    low, high = pair
    mid = 0.5 * (low.centre + high.centre)
    first = np.flatnonzero((energy >= low.centre - low.fwhm / 2) & (energy <= mid))
    second = np.flatnonzero((energy >= mid) & (energy <= high.centre + high.fwhm / 2))
    i, j = first[np.argmax(smoothed[first])], second[np.argmax(smoothed[second])]
    peaks = 0.5 * (smoothed[i] + smoothed[j])
    if not peaks > 0:
        return np.nan
    if i in (first[0], first[-1]) or j in (second[0], second[-1]):
        return 1.0
    return float(smoothed[i:j + 1].min() / peaks)


def _kept(restored: float, truth: float) -> tuple[float, float]:
    """Share of the truth's rise or dip kept, and whether it counts as visible."""
    if not truth > 0:
        return np.nan, np.nan
    share = restored / truth
    return share, float(share >= VISIBLE)


def score_box(restored: np.ndarray, truth: np.ndarray, energy: np.ndarray,
              box: Box) -> dict[str, float]:
    """The measures of one box (see the module's docstring).

    Parameters
    ----------
    restored
        Shape (pixels, channels): the box's restored pixels, counts.
    truth
        Shape (channels,): what they are compared with.
    energy
        Shape (channels,): eV from the box's ZLP centre.
    box
        The box's truth.
    """
    pixels = restored.shape[0]
    box_sum, box_truth = restored.sum(0), truth * pixels
    smooth = lambda s: uniform_filter1d(s, SMOOTHING, mode="nearest")  # noqa: E731
    out = {}
    for band in box.bands:
        weights = band_weights(energy, band.low, band.high, DISPERSION)
        expected, per_pixel = weights @ truth, restored @ weights
        out[f"{band.name}_counts"] = per_pixel.sum() / (pixels * expected)
        out[f"{band.name}_pixel_error"] = float(np.median(np.abs(per_pixel / expected - 1)))
        weighted = weights @ box_sum
        centroid = (weights * energy) @ box_sum / weighted if weighted > 0 else np.nan
        out[f"{band.name}_shift_eV"] = centroid - (weights * energy) @ box_truth / (
            weights @ box_truth)
        if band.peak:
            rise, truth_rise = (_rise(smooth(s), energy, band) for s in (box_sum, box_truth))
            clear = truth_rise[0] >= MIN_TRUTH_RISE * truth_rise[1]
            out[f"{band.name}_rise"], out[f"{band.name}_visible"] = _kept(
                rise[0], truth_rise[0] if clear else np.nan)
    if box.doublet is not None:
        dip, dip_truth = (_dip(smooth(s), energy, box.doublet) for s in (box_sum, box_truth))
        out["dip_ratio"] = dip
        out["dip_kept"], out["dip_visible"] = _kept(1 - dip, 1 - dip_truth)
        if np.isnan(dip):  # no positive peaks: the doublet is gone
            out["dip_visible"] = 0.0
    return out


def score_boxes(restored: np.ndarray, reference: np.ndarray, energy: np.ndarray,
                drawn: list[Box]) -> Scores:
    """:func:`score_box` of every box: ``{measure: (boxes,) array}``."""
    rows = [score_box(r, t, e, b) for r, t, e, b in zip(restored, reference, energy, drawn,
                                                         strict=True)]
    return {name: np.array([row[name] for row in rows]) for name in rows[0]}


def evaluate_near_zlp(specs: list[ModelSpec], *, size: int = BOXES,
                      seed: int = EVALUATION_SEED, realdata=REALDATA,
                      rl_iterations: tuple[int, ...] = NEAR_ZLP_RL_ITERATIONS,
                      precision: str = "float32") -> SetResult:
    """Every model and Richardson-Lucy on the near-ZLP set.

    Parameters
    ----------
    specs
        Resolved models.
    size
        Boxes per response, resolution and case.
    seed
        Seed of the set (each subset draws from it and its labels).
    realdata
        The realdata folder (see
        :func:`~hyperspy_eelspecnet.evaluation.responses.check_realdata`).
    rl_iterations
        Richardson-Lucy iteration counts.
    precision
        Arithmetic of the networks.

    Returns
    -------
    SetResult
        Subsets (response, resolution, case); the figure shows one box
        of each case at 45 meV through the main response.
    """
    result = SetResult(
        "near-zlp", f"{size} boxes of {PIXELS} pixels per response, resolution and case; "
        f"{CHANNELS} channels at {DISPERSION * 1e3:g} meV, {ZLP_COUNTS:g} counts at the "
        "ZLP maximum", ("response", "resolution", "case"),
        method_names(specs, rl_iterations, other_reference=True, another_recording=True),
        pivot="resolution")
    shapes = {name: load_response_shape(name, realdata) for name in RESPONSES}
    for name, shape in shapes.items():
        other_shape = next(s for other, s in shapes.items() if other != name)
        session = SESSION_RECORDINGS.get(name)
        session_shape = None if session is None else load_recording(session, realdata)
        for resolution in RESOLUTIONS_EV:
            response = response_for(shape, resolution / DISPERSION)
            other_reference = response_for(other_shape, resolution / DISPERSION)
            session_response = (None if session_shape is None
                                else response_for(session_shape, resolution / DISPERSION))
            for case in CASES:
                labels = (name, f"{resolution * 1e3:g} meV", case)
                rng = subset_rng(seed, result.name, *labels)
                drawn, measurement = draw_subset(case, resolution, response, size, rng)
                session_vacuum = (None if session_response is None
                                  else another_recording(session_response, drawn, rng))
                restorations = restore_with_methods(measurement, specs, rl_iterations, precision,
                                                    other_reference, session_vacuum)
                result.values[labels] = score_methods(
                    measurement, restorations,
                    lambda r, ref, m=measurement, d=drawn: score_boxes(r, ref, m.energy, d))
                if name == MAIN_RESPONSE and resolution == EXAMPLE_RESOLUTION_EV:
                    result.examples[labels] = example_curves(measurement, restorations,
                                                             EXAMPLE_WINDOW_EV)
    return result
