"""The cropped set: short spectra whose window starts just before the ZLP.

After a published ground-truth test (simulated plasmons of a silver rod
seen through a measured PSF of about 70 meV): the truth's quasi-Dirac ZLP
and Lorentzian plasmon modes, one near 0.2 eV and 3 to 6 more between
0.35 and 3.5 eV, 0.1 to 0.3 eV wide, each 1/3000 to 1/300 of the ZLP's
maximum; a total resolution of 70 meV; 1e4 to 1e5 counts at the ZLP
maximum. The base window is 441 channels of 10 meV from -0.4 eV (the ZLP
at channel 40); the variants (:data:`VARIANTS`) put the ZLP at channel
16 or 64, make the window 256 or 700 channels long, or take 5 meV per
channel. The measurement is that of the whole spectrum, cropped to the
window: what lies outside it (the ZLP's gain-side tail, modes past its
end) is lost to every method.

Measures per spectrum, over the region :data:`REGION_EV` (or to the
window's end), restorations on the measured counts' scale (see
:mod:`~hyperspy_eelspecnet.evaluation.comparison`):

- ``relative_rms``: RMS of restored - truth over the truth's maximum;
- ``zero_stretch``: the longest run of channels (in channels) where the
  truth is above :data:`TRUTH_LEVEL` of its maximum and the restoration
  below :data:`ZERO_LEVEL` of the truth: restored zeros where the truth
  has counts.

``RL-best`` is, spectrum by spectrum, Richardson-Lucy at the iteration
count of :data:`RL_CANDIDATES` that gives the lowest ``relative_rms``
(chosen against the truth: better than any one count can do), with that
count as ``iterations``.
"""

from __future__ import annotations

import numpy as np

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
    Measurement,
    extended_energy,
    load_response_shape,
    measure,
    pseudo_voigt,
    quasi_dirac,
    response_for,
)
from hyperspy_eelspecnet.models.registry import ModelSpec

#: Variant name: (eV per channel, channels, ZLP channel).
VARIANTS = {
    "441 ch, ZLP at 40": (0.010, 441, 40),
    "441 ch, ZLP at 16": (0.010, 441, 16),
    "441 ch, ZLP at 64": (0.010, 441, 64),
    "256 ch, ZLP at 40": (0.010, 256, 40),
    "700 ch, ZLP at 40": (0.010, 700, 40),
    "5 meV, 881 ch, ZLP at 80": (0.005, 881, 80),
}
#: Total resolution (eV): FWHM of the measured vacuum ZLP.
RESOLUTION_EV = 0.070
#: Energy range (eV) scored.
REGION_EV = (0.1, 4.0)
#: Richardson-Lucy iteration counts ``RL-best`` chooses from.
RL_CANDIDATES = (5, 10, 15, 25, 50, 100, 200)
#: Spectra per response and variant.
SPECTRA = 24
#: Counts at the measured ZLP maximum, drawn log-uniformly.
ZLP_COUNTS = (1e4, 1e5)
#: Restored values below this share of the truth count as zeros ...
ZERO_LEVEL = 0.01
#: ... where the truth is above this share of its maximum.
TRUTH_LEVEL = 0.05


def _log_uniform(rng: np.random.Generator, low: float, high: float, size=None):
    return np.exp(rng.uniform(np.log(low), np.log(high), size))


def _modes(rng: np.random.Generator) -> np.ndarray:
    """(centre, FWHM, height) of the plasmon modes of one rod, in eV and of the ZLP."""
    count = int(rng.integers(3, 7))
    while True:  # modes at least 0.15 eV apart
        centres = np.sort(rng.uniform(0.35, 3.5, count))
        if np.all(np.diff(centres) >= 0.15):
            break
    centres = np.concatenate([[0.2 + rng.uniform(-0.02, 0.02)], centres])
    return np.column_stack([centres, rng.uniform(0.1, 0.3, count + 1),
                            _log_uniform(rng, 1 / 3000, 1 / 300, count + 1)])


def draw_subset(variant: str, response: np.ndarray, spectra: int,
                rng: np.random.Generator,
                zlp_counts: tuple[float, float] = ZLP_COUNTS) -> Measurement:
    """Spectra of one variant (a key of :data:`VARIANTS`) through ``response``.

    ``zlp_counts`` is the range of counts at the measured ZLP maximum,
    drawn log-uniformly: the same ``rng`` draws the same truths at any
    range.
    """
    dispersion, channels, zlp_channel = VARIANTS[variant]
    pad = len(response)
    energy = extended_energy(channels, zlp_channel + rng.uniform(-0.5, 0.5, spectra),
                             dispersion, pad)
    loss = np.array([sum(h * pseudo_voigt(e, c, w, 1.0) for c, w, h in _modes(rng))
                     for e in energy])
    return measure(energy, quasi_dirac(energy / dispersion), loss, response, pad,
                   _log_uniform(rng, *zlp_counts, spectra), rng)


def score_spectra(restored: np.ndarray, reference: np.ndarray, energy: np.ndarray) -> Scores:
    """``relative_rms`` and ``zero_stretch`` of each spectrum (one pixel each)."""
    restored = restored[:, 0]
    region = (energy >= REGION_EV[0]) & (energy <= REGION_EV[1])
    top = np.where(region, reference, -np.inf).max(1, keepdims=True)
    zeros = region & (reference > TRUTH_LEVEL * top) & (restored < ZERO_LEVEL * reference)
    return {"relative_rms": relative_rms(restored, reference, energy),
            "zero_stretch": np.array([_longest_run(row) for row in zeros], dtype=float)}


def relative_rms(restored: np.ndarray, reference: np.ndarray, energy: np.ndarray,
                 band: tuple[float, float] = REGION_EV) -> np.ndarray:
    """RMS of ``restored - reference`` over ``band`` (eV), over the reference's maximum.

    Parameters
    ----------
    restored, reference, energy
        Arrays of shape (n, channels); ``energy`` in eV from each ZLP.
    band
        The energies whose error is measured; the maximum is always taken
        over :data:`REGION_EV`, so that the bands of one spectrum share it.

    Returns
    -------
    numpy.ndarray
        Shape (n,).
    """
    region = (energy >= REGION_EV[0]) & (energy <= REGION_EV[1])
    top = np.where(region, reference, -np.inf).max(1)
    inside = (energy >= band[0]) & (energy <= band[1])
    squared = np.where(inside, (restored - reference) ** 2, 0).sum(1) / inside.sum(1)
    return np.sqrt(squared) / top


def _longest_run(flags: np.ndarray) -> int:
    """Length of the longest run of True in a 1D boolean array."""
    edges = np.diff(np.concatenate([[0], flags.astype(int), [0]]))
    return int(np.max(np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1), initial=0))


def best_of(scores: dict[str, Scores], candidates: tuple[int, ...]) -> Scores:
    """Spectrum by spectrum, the Richardson-Lucy count with the lowest ``relative_rms``."""
    names = [f"RL-{i}" for i in candidates]
    choice = np.argmin(np.array([scores[n]["relative_rms"] for n in names]), axis=0)
    picked = {measure: np.choose(choice, [scores[n][measure] for n in names])
              for measure in scores[names[0]]}
    return picked | {"iterations": np.asarray(candidates, dtype=float)[choice]}


def evaluate_cropped(specs: list[ModelSpec], *, size: int = SPECTRA,
                     seed: int = EVALUATION_SEED, realdata=REALDATA,
                     rl_iterations: tuple[int, ...] = NEAR_ZLP_RL_ITERATIONS,
                     precision: str = "float32") -> SetResult:
    """Every model, Richardson-Lucy and its best count on the cropped set.

    Parameters
    ----------
    specs
        Resolved models.
    size
        Spectra per response and variant.
    seed, realdata, precision
        See :func:`~hyperspy_eelspecnet.evaluation.near_zlp.evaluate_near_zlp`.
    rl_iterations
        Richardson-Lucy iteration counts shown besides ``RL-best``.

    Returns
    -------
    SetResult
        Subsets (response, variant); the figure shows one spectrum of
        each variant through the main response.
    """
    result = SetResult(
        "cropped", f"{size} spectra per response and variant; total resolution "
        f"{RESOLUTION_EV * 1e3:g} meV; scored from {REGION_EV[0]:g} to {REGION_EV[1]:g} eV "
        "(or the window's end)", ("response", "variant"),
        [*method_names(specs, rl_iterations), "RL-best"])
    iterations = tuple(sorted(set(rl_iterations) | set(RL_CANDIDATES)))
    shown = set(result.methods)
    for name in RESPONSES:
        shape = load_response_shape(name, realdata)
        for variant, (dispersion, _, _) in VARIANTS.items():
            labels = (name, variant)
            measurement = draw_subset(variant, response_for(shape, RESOLUTION_EV / dispersion),
                                      size, subset_rng(seed, result.name, *labels))
            restorations = restore_with_methods(measurement, specs, iterations, precision)
            scores = score_methods(measurement, restorations,
                                   lambda r, ref, e=measurement.energy: score_spectra(r, ref, e))
            best = best_of(scores, RL_CANDIDATES)
            result.values[labels] = {m: v for m, v in scores.items() if m in shown} | {
                "RL-best": best}
            if name == MAIN_RESPONSE:
                curves = example_curves(measurement, restorations, (-np.inf, np.inf))
                curves["RL-best"] = curves[f"RL-{int(best['iterations'][0])}"]
                result.examples[labels] = {m: v for m, v in curves.items()
                                           if m in shown or m == "energy"}
    return result
