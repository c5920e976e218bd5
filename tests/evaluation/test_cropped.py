"""The cropped set: short windows that start just before the ZLP."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hyperspy_eelspecnet.evaluation import cropped
from hyperspy_eelspecnet.evaluation.comparison import subset_rng
from hyperspy_eelspecnet.evaluation.responses import (
    MAIN_RESPONSE,
    load_response_shape,
    response_for,
)

REALDATA = Path(__file__).parents[3] / "shared" / "realdata"
pytestmark = pytest.mark.skipif(not REALDATA.exists(),
                                reason="shared/realdata is not beside the project")


def _subset(variant: str, spectra: int = 4, zlp_counts=cropped.ZLP_COUNTS):
    dispersion = cropped.VARIANTS[variant][0]
    shape = load_response_shape(MAIN_RESPONSE, REALDATA)
    return cropped.draw_subset(variant, response_for(shape, cropped.RESOLUTION_EV / dispersion),
                               spectra, subset_rng(3, variant), zlp_counts)


@pytest.mark.parametrize("variant", list(cropped.VARIANTS))
def test_the_window_and_its_zlp_are_where_the_variant_puts_them(variant):
    _, channels, zlp_channel = cropped.VARIANTS[variant]
    m = _subset(variant)
    assert m.measured.shape == (4, 1, channels) and m.vacuum.shape == (4, channels)
    assert np.all(np.abs(m.truth.argmax(1) - zlp_channel) <= 1)
    assert np.all(np.abs(m.measured[:, 0].argmax(1) - zlp_channel) <= 3)
    # The 0.2 eV mode is in every truth: the truth past the ZLP peaks near it.
    past = (m.energy > 0.12) & (m.energy < 0.3)
    assert np.all(np.where(past, m.truth, 0).max(1) > 0)


def test_the_truth_scores_perfectly_and_the_raw_measurement_does_not():
    m = _subset("441 ch, ZLP at 40")
    truth = cropped.score_spectra(m.truth[:, None], m.truth, m.energy)
    np.testing.assert_array_equal(truth["relative_rms"], 0)
    np.testing.assert_array_equal(truth["zero_stretch"], 0)
    raw = cropped.score_spectra(m.measured, m.truth, m.energy)
    assert np.all(raw["relative_rms"] > 0.1)  # the ZLP's tail over the 0.2 eV mode


def test_restored_zeros_where_the_truth_has_counts_are_counted():
    m = _subset("441 ch, ZLP at 40")
    region = m.energy >= cropped.REGION_EV[0]
    top = np.where(region, m.truth, 0).argmax(1)[:, None]
    gap = np.abs(np.arange(m.truth.shape[1]) - top) <= 10  # 0.1 eV around the highest mode
    restored = np.where(gap, 0.005 * m.truth, m.truth)
    scores = cropped.score_spectra(restored[:, None], m.truth, m.energy)
    np.testing.assert_array_equal(scores["zero_stretch"], 21)
    assert np.all(scores["relative_rms"] > 0.1)


def test_longest_run():
    assert cropped._longest_run(np.array([1, 1, 0, 1, 1, 1, 0], bool)) == 3
    assert cropped._longest_run(np.zeros(5, bool)) == 0


def test_richardson_lucys_best_is_chosen_spectrum_by_spectrum():
    scores = {"RL-5": {"relative_rms": np.array([0.3, 0.1]), "zero_stretch": np.array([1., 2.])},
              "RL-10": {"relative_rms": np.array([0.2, 0.4]), "zero_stretch": np.array([3., 4.])}}
    best = cropped.best_of(scores, (5, 10))
    np.testing.assert_array_equal(best["relative_rms"], [0.2, 0.1])
    np.testing.assert_array_equal(best["zero_stretch"], [3, 2])
    np.testing.assert_array_equal(best["iterations"], [10, 5])


def test_another_dose_counts_the_same_truths_that_many_times_over():
    # scripts/cropped_by_band.py tells a bias from noise by raising the dose.
    variant = "441 ch, ZLP at 40"
    low, high = cropped.ZLP_COUNTS
    base = _subset(variant, 6)
    dosed = _subset(variant, 6, (100 * low, 100 * high))
    np.testing.assert_array_equal(dosed.energy, base.energy)
    np.testing.assert_allclose(dosed.truth, 100 * base.truth, rtol=1e-9)  # in counts
    ratio = dosed.measured.sum(axis=(1, 2)) / base.measured.sum(axis=(1, 2))
    np.testing.assert_allclose(ratio, 100, rtol=0.05)
