"""The gain-side set: the specimen's temperature from vibrational gain and loss peaks.

Vibrational spectra, 2048 channels at 0.5 and at 1 meV per channel, the
ZLP near channel 400, a total resolution of 13 meV (26 channels at
0.5 meV) through a real vacuum ZLP shape
(:mod:`~hyperspy_eelspecnet.evaluation.responses`), 1e6 counts at the
measured ZLP maximum. The truth's quasi-Dirac ZLP is joined by 1 to 3
Gaussian loss peaks at E = 20 to 80 meV (at least 15 meV apart), 3 to
6 meV wide, 1/3000 to 1/300 of the ZLP's maximum, and by their gain
partners, mirror images at -E weighted by exp(-E / kT) (detailed
balance, as the training generator draws them), at T = 200, 300, 400 and
600 K. Gaussian peaks keep each band to its own peak: the long tails of
Lorentzians would mix a neighbour's gain into a band by a weight that
differs from its loss side's, and bias even the truth's temperature.

The measure (:func:`fit_temperature`): for each peak, the counts in
bands E +- FWHM on the gain and loss sides, their ratio r, and 1/T from
the weighted least-squares fit of -ln r = E / (k T) over the peaks (the
weights: each ratio's Poisson precision from the truth's counts); the
table gives ``T_ratio``, the temperature recovered over the one drawn
(at most :data:`T_RATIO_CEILING`).
The raw measurement's ratio is pushed up by the ZLP's tail, which adds
to both sides, and so its temperature.
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
from hyperspy_eelspecnet.evaluation.near_zlp import band_weights
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
from hyperspy_eelspecnet.simulation.generator import BOLTZMANN_EV

DISPERSIONS_EV = (0.0005, 0.001)
CHANNELS = 2048
ZLP_CHANNEL = 400
#: Total resolution (eV): FWHM of the measured vacuum ZLP.
RESOLUTION_EV = 0.013
TEMPERATURES_K = (200.0, 300.0, 400.0, 600.0)
#: Spectra per response, dispersion and temperature.
SPECTRA = 12
ZLP_COUNTS = 1e6
#: Loss energies (eV) of the peaks, their least spacing, FWHM (eV) and heights.
PEAK_ENERGY_EV = (0.020, 0.080)
PEAK_SPACING_EV = 0.015
PEAK_FWHM_EV = (0.003, 0.006)
PEAK_HEIGHT = (1 / 3000, 1 / 300)
#: A gain side restored to zero or below counts as this gain/loss ratio.
SMALLEST_RATIO = 1e-12
#: Recovered over drawn temperatures above this (a fit with no positive
#: 1/T, the gain side as strong as the loss side, included) are shown as it.
T_RATIO_CEILING = 100.0
#: The figure: spectra at this dispersion, within this energy range (eV).
EXAMPLE_DISPERSION_EV = 0.0005
EXAMPLE_WINDOW_EV = (-0.1, 0.1)


def draw_peaks(rng: np.random.Generator) -> np.ndarray:
    """(loss energy, FWHM, height) of one spectrum's 1 to 3 loss peaks, shape (k, 3)."""
    count = int(rng.integers(1, 4))
    while True:
        energies = np.sort(rng.uniform(*PEAK_ENERGY_EV, count))
        if np.all(np.diff(energies) >= PEAK_SPACING_EV):
            break
    heights = np.exp(rng.uniform(*np.log(PEAK_HEIGHT), count))
    return np.column_stack([energies, rng.uniform(*PEAK_FWHM_EV, count), heights])


def gain_and_loss(energy: np.ndarray, peaks: np.ndarray, temperature: float) -> np.ndarray:
    """Loss peaks (``peaks`` as :func:`draw_peaks` gives) and their gain partners at ``energy``."""
    weight = np.exp(-peaks[:, 0] / (BOLTZMANN_EV * temperature))
    return sum(h * (pseudo_voigt(energy, e, w, 0.0) + g * pseudo_voigt(energy, -e, w, 0.0))
               for (e, w, h), g in zip(peaks, weight, strict=True))


def draw_subset(dispersion: float, temperature: float, response: np.ndarray, spectra: int,
                rng: np.random.Generator) -> tuple[np.ndarray, Measurement]:
    """Spectra at one dispersion (eV) and temperature (K) through ``response``.

    Returns
    -------
    tuple
        The peaks, shape (spectra, 3, 3), NaN-padded past each spectrum's
        count (see :func:`draw_peaks`), and the measurement.
    """
    peaks = np.full((spectra, 3, 3), np.nan)
    for row in peaks:
        drawn = draw_peaks(rng)
        row[:len(drawn)] = drawn
    pad = len(response)
    energy = extended_energy(CHANNELS, ZLP_CHANNEL + rng.uniform(-0.5, 0.5, spectra),
                             dispersion, pad)
    loss = np.array([gain_and_loss(e, p[~np.isnan(p[:, 0])], temperature)
                     for e, p in zip(energy, peaks, strict=True)])
    return peaks, measure(energy, quasi_dirac(energy / dispersion), loss, response, pad,
                          ZLP_COUNTS, rng)


def band_counts(spectra: np.ndarray, energy: np.ndarray, centres: np.ndarray,
                widths: np.ndarray, dispersion: float) -> np.ndarray:
    """Counts of each spectrum in the bands ``centres`` +- ``widths``, shape (n, k).

    ``centres`` and ``widths`` have shape (n, k), eV; a NaN band gives NaN.
    """
    return np.stack([(band_weights(energy, (c - w)[:, None], (c + w)[:, None], dispersion)
                      * spectra).sum(1) for c, w in zip(centres.T, widths.T, strict=True)], 1)


def fit_temperature(spectra: np.ndarray, energy: np.ndarray, peaks: np.ndarray,
                    precision: np.ndarray, dispersion: float) -> np.ndarray:
    """The temperature (K) of each spectrum from its gain/loss band ratios.

    Parameters
    ----------
    spectra
        Shape (n, channels), counts.
    energy
        Shape (n, channels): eV from each ZLP's centre.
    peaks
        Shape (n, k, 3): (loss energy, FWHM, height) of each spectrum's
        loss peaks, NaN-padded.
    precision
        Shape (n, k): the weight of each peak's ln ratio (0 leaves it out).
    dispersion
        eV per channel.

    Returns
    -------
    numpy.ndarray
        Shape (n,): T from the weighted fit of -ln(gain / loss) = E / (k T)
        through the origin; a gain band with no positive counts counts as
        :data:`SMALLEST_RATIO`, a loss band without as no peak; inf where
        the fit gives no positive 1/T, NaN where no peak is left.
    """
    centres, widths = peaks[..., 0], peaks[..., 1]
    loss = band_counts(spectra, energy, centres, widths, dispersion)
    gain = band_counts(spectra, energy, -centres, widths, dispersion)
    usable = np.isfinite(loss) & (loss > 0)
    ratio = np.clip(np.where(usable, gain, 1.0) / np.where(usable, loss, 1.0), SMALLEST_RATIO, None)
    x = np.where(usable, centres / BOLTZMANN_EV, 0.0)
    y = -np.log(ratio)
    weight = np.where(usable, precision, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = (weight * x * y).sum(1) / (weight * x**2).sum(1)
        return np.where(inverse > 0, 1 / inverse, np.where(np.isnan(inverse), np.nan, np.inf))


def poisson_precision(truth: np.ndarray, energy: np.ndarray, peaks: np.ndarray,
                      dispersion: float) -> np.ndarray:
    """Weight of each peak's ln(gain / loss): 1 / (1/gain + 1/loss) of the truth's counts."""
    centres, widths = peaks[..., 0], peaks[..., 1]
    loss = band_counts(truth, energy, centres, widths, dispersion)
    gain = band_counts(truth, energy, -centres, widths, dispersion)
    return np.nan_to_num(1 / (1 / gain + 1 / loss))


def score_spectra(restored: np.ndarray, reference: np.ndarray, energy: np.ndarray,
                  peaks: np.ndarray, temperature: float, dispersion: float) -> Scores:
    """``T_ratio``: the temperature recovered from each restoration over the one drawn.

    At most :data:`T_RATIO_CEILING`, so that unbounded fits still rank in
    the summaries' percentiles.
    """
    precision = poisson_precision(reference, energy, peaks, dispersion)
    found = fit_temperature(restored[:, 0], energy, peaks, precision, dispersion)
    return {"T_ratio": np.minimum(found / temperature, T_RATIO_CEILING)}


def evaluate_gain_side(specs: list[ModelSpec], *, size: int = SPECTRA,
                       seed: int = EVALUATION_SEED, realdata=REALDATA,
                       rl_iterations: tuple[int, ...] = NEAR_ZLP_RL_ITERATIONS,
                       precision: str = "float32") -> SetResult:
    """Every model and Richardson-Lucy on the gain-side set.

    Parameters
    ----------
    specs
        Resolved models.
    size
        Spectra per response, dispersion and temperature.
    seed, realdata, rl_iterations, precision
        See :func:`~hyperspy_eelspecnet.evaluation.near_zlp.evaluate_near_zlp`.

    Returns
    -------
    SetResult
        Subsets (response, dispersion, temperature); the figure shows one
        spectrum at each temperature, 0.5 meV per channel, through the
        main response.
    """
    result = SetResult(
        "gain-side", f"{size} spectra per response, dispersion and temperature; total "
        f"resolution {RESOLUTION_EV * 1e3:g} meV, {ZLP_COUNTS:g} counts at the ZLP maximum",
        ("response", "dispersion", "temperature"),
        method_names(specs, rl_iterations))
    for name in RESPONSES:
        shape = load_response_shape(name, realdata)
        for dispersion in DISPERSIONS_EV:
            response = response_for(shape, RESOLUTION_EV / dispersion)
            for temperature in TEMPERATURES_K:
                labels = (name, f"{dispersion * 1e3:g} meV/ch", f"{temperature:g} K")
                peaks, measurement = draw_subset(dispersion, temperature, response, size,
                                                 subset_rng(seed, result.name, *labels))
                restorations = restore_with_methods(measurement, specs, rl_iterations, precision)
                result.values[labels] = score_methods(
                    measurement, restorations,
                    lambda r, ref, m=measurement, p=peaks, t=temperature, d=dispersion:
                    score_spectra(r, ref, m.energy, p, t, d))
                if name == MAIN_RESPONSE and dispersion == EXAMPLE_DISPERSION_EV:
                    result.examples[labels] = example_curves(measurement, restorations,
                                                             EXAMPLE_WINDOW_EV)
    return result
