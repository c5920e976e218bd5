"""The gain-side set: the temperature from the gain/loss ratio of vibrational peaks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hyperspy_eelspecnet.evaluation import gain_side
from hyperspy_eelspecnet.evaluation.comparison import subset_rng
from hyperspy_eelspecnet.evaluation.responses import (
    MAIN_RESPONSE,
    RESPONSES,
    load_response_shape,
    quasi_dirac,
    response_for,
)

REALDATA = Path(__file__).parents[3] / "shared" / "realdata"
needs_realdata = pytest.mark.skipif(not REALDATA.exists(),
                                    reason="shared/realdata is not beside the project")


@pytest.mark.parametrize(("dispersion", "temperature", "offset"),
                         [(0.001, 350.0, 0.0), (0.0005, 250.0, 0.37), (0.001, 800.0, -0.21)])
def test_a_known_temperature_is_found_from_a_noiseless_spectrum(dispersion, temperature, offset):
    peaks = np.array([[0.030, 0.004, 1e-3], [0.062, 0.005, 4e-4]])
    energy = ((np.arange(2048) - 400 - offset) * dispersion)[None, :]
    spectrum = quasi_dirac(energy / dispersion) + gain_side.gain_and_loss(energy, peaks,
                                                                          temperature)
    found = gain_side.fit_temperature(spectrum, energy, peaks[None], np.ones((1, 2)), dispersion)
    assert found[0] == pytest.approx(temperature, rel=1e-3)


def test_an_erased_gain_side_gives_a_temperature_near_zero():
    peaks = np.array([[0.040, 0.004, 1e-3]])
    energy = ((np.arange(1024) - 400) * 0.0005)[None, :]
    spectrum = gain_side.gain_and_loss(energy, peaks, 300.0) * (energy > 0)
    found = gain_side.fit_temperature(spectrum, energy, peaks[None], np.ones((1, 1)), 0.0005)
    assert 0 < found[0] < 30


@needs_realdata
@pytest.mark.parametrize("name", list(RESPONSES))
def test_the_truth_gives_its_temperature_and_the_raw_data_a_higher_one(name):
    shape = load_response_shape(name, REALDATA)
    for dispersion in gain_side.DISPERSIONS_EV:
        response = response_for(shape, gain_side.RESOLUTION_EV / dispersion)
        raw = []
        for temperature in gain_side.TEMPERATURES_K:
            peaks, m = gain_side.draw_subset(dispersion, temperature, response, 6,
                                             subset_rng(2, name, str(temperature)))
            truth = gain_side.score_spectra(m.truth[:, None], m.truth, m.energy, peaks,
                                            temperature, dispersion)["T_ratio"]
            np.testing.assert_allclose(truth, 1, atol=0.01)
            raw.append(gain_side.score_spectra(m.measured, m.truth, m.energy, peaks,
                                               temperature, dispersion)["T_ratio"])
        assert np.median(raw) > 1.05  # the ZLP's tail adds to both sides


@needs_realdata
def test_the_gain_partners_follow_detailed_balance():
    response = response_for(load_response_shape(MAIN_RESPONSE, REALDATA), 26.0)
    peaks, m = gain_side.draw_subset(0.0005, 300.0, response, 4, subset_rng(2, "balance"))
    for energy, truth, drawn in zip(m.energy, m.truth, peaks, strict=True):
        for e, _, _ in drawn[~np.isnan(drawn[:, 0])]:
            loss, gain = np.interp([e, -e], energy, truth)
            assert gain / loss == pytest.approx(np.exp(-e / (gain_side.BOLTZMANN_EV * 300)),
                                                rel=0.02)
