"""Refining a ZLP-free restoration with the vacuum reference (inference/refinement.py)."""

from __future__ import annotations

import numpy as np
import pytest

from hyperspy_eelspecnet.inference.refinement import (
    near_zlp_weights,
    quasi_dirac_zlp,
    refine_restoration,
    refine_with_reference,
    significance_weights,
)
from hyperspy_eelspecnet.models.card import Preprocessing, Refinement
from hyperspy_eelspecnet.models.registry import resolve_model
from hyperspy_eelspecnet.restoration.richardson_lucy import convolve_psf

CHANNELS, ZLP = 600, 150
PHONON = (ZLP + 14, 2.0)  # centre and sigma (channels): 1.7 ZLP FWHMs out
PLASMON = (ZLP + 120, 12.0)


def _reference(length: int = 81) -> np.ndarray:
    """An asymmetric vacuum ZLP: a Gaussian core, a longer tail on the loss side."""
    x = np.arange(length) - length // 2
    core = np.exp(-0.5 * (x / 2.5) ** 2)
    tail = 0.02 / (1 + (x / 6.0) ** 2) * np.where(x > 0, 1.5, 0.7)
    shape = core + tail
    return shape / shape.sum()


def _peak(centre_sigma, area):
    centre, sigma = centre_sigma
    x = np.arange(CHANNELS)
    return area * np.exp(-0.5 * ((x - centre) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))


def _measured(reference: np.ndarray, zlp_counts: float = 1e6):
    """A noiseless spectrum: the reference as its ZLP, and two loss peaks blurred by it."""
    loss = _peak(PHONON, 2e-3 * zlp_counts) + _peak(PLASMON, 2e-2 * zlp_counts)
    zlp = np.zeros(CHANNELS)
    zlp[int(ZLP)] = zlp_counts  # a delta: the reference is the ZLP measured
    return convolve_psf(zlp + loss, reference), loss


def _band(spectrum, centre_sigma):
    centre, sigma = centre_sigma
    x = np.arange(CHANNELS)
    return spectrum[..., np.abs(x - centre) <= 2.5 * sigma].sum(-1)


def _tail_like_start(loss: np.ndarray) -> np.ndarray:
    """A network's guess beside the ZLP: the phonon smeared into a slope toward the ZLP."""
    x = np.arange(CHANNELS)
    wrong = loss - _peak(PHONON, _band(loss, PHONON))
    slope = np.where((x > ZLP + 3) & (x < ZLP + 9), np.exp(-(x - ZLP) / 4.0), 0)
    return np.clip(wrong + slope / slope.sum() * 2 * _band(loss, PHONON), 0, None)


def test_puts_a_phonon_back_that_the_start_smeared_into_the_tail():
    reference = _reference()
    measured, loss = _measured(reference)
    start = _tail_like_start(loss)
    assert _band(start, PHONON) < 0.7 * _band(loss, PHONON)
    refined, zlp_counts, zlp_channel = refine_with_reference(
        measured[None], start[None], (reference / reference.sum())[None], 1000)
    assert _band(refined[0], PHONON) == pytest.approx(_band(loss, PHONON), rel=0.05)
    slope = (np.arange(CHANNELS) > ZLP + 3) & (np.arange(CHANNELS) < ZLP + 9)
    assert refined[0][slope].sum() < 0.1 * start[slope].sum()
    assert _band(refined[0], PLASMON) == pytest.approx(_band(loss, PLASMON), rel=0.01)
    assert zlp_counts[0] == pytest.approx(1e6, rel=0.01)
    assert zlp_channel[0] == pytest.approx(ZLP, abs=0.1)


def test_a_right_start_stays_right():
    reference = _reference()
    measured, loss = _measured(reference)
    refined, _, _ = refine_with_reference(measured[None], loss[None],
                                          (reference / reference.sum())[None], 30)
    far = np.arange(CHANNELS) > ZLP + 6
    np.testing.assert_allclose(refined[0][far], loss[far], rtol=0.02,
                               atol=1e-3 * loss.max())


def test_the_reference_can_have_any_length_and_offset():
    reference = _reference()
    measured, loss = _measured(reference)
    start = _tail_like_start(loss)[None]
    own = refine_with_reference(measured[None], start, (reference / reference.sum())[None], 50)
    # another window, and one longer than the spectrum either side of the ZLP
    for before, after in ((37, 200), (3 * CHANNELS, 2 * CHANNELS)):
        recorded = np.concatenate([np.zeros(before), reference, np.zeros(after)])
        other = refine_with_reference(measured[None], start, (recorded / recorded.sum())[None],
                                      50)
        np.testing.assert_allclose(other[0], own[0], rtol=1e-3, atol=1e-6 * measured.max())
        np.testing.assert_allclose(other[2], own[2], atol=1e-6)


def test_quasi_dirac_zlp_holds_its_counts_at_its_channel():
    peaks = quasi_dirac_zlp(np.array([1e5, 2.0]), np.array([40.25, 70.0]), 128, 3.0)
    np.testing.assert_allclose(peaks.sum(1), [1e5, 2.0], rtol=1e-6)
    centroid = (peaks * np.arange(128)).sum(1) / peaks.sum(1)
    np.testing.assert_allclose(centroid, [40.25, 70.0], atol=1e-6)
    assert peaks[0].argmax() == 40


def _preprocessing(**changes) -> dict:
    spec = resolve_model("nzeels-2048-nozlp").preprocessing.model_dump()
    return spec | changes


def test_a_card_refines_only_a_blind_zlp_free_network():
    refinement = Refinement(iterations=50, output="quasi_dirac", zlp_fwhm_channels=3.0)
    refined = Preprocessing.model_validate(_preprocessing(refinement=refinement.model_dump()))
    assert refined.takes_reference and refined.input_channels == 1
    assert refined.restores == "quasi_dirac" and refined.target == "zlp_free"
    for wrong in ({"target": "quasi_dirac"}, {"reference": "channel"}):
        with pytest.raises(ValueError, match="blind ZLP-free network"):
            Preprocessing.model_validate(_preprocessing(refinement=refinement.model_dump(),
                                                        **wrong))


def test_the_shipped_reference_model_is_the_zlp_free_network_refined():
    psf, blind = resolve_model("nzeels-2048-psf"), resolve_model("nzeels-2048-nozlp")
    assert psf.sha256 == blind.sha256
    assert psf.preprocessing.refinement.output == "quasi_dirac"
    assert psf.preprocessing.takes_reference and not blind.preprocessing.takes_reference


def _near_zlp_spectra(reference: np.ndarray, n: int = 16, seed: int = 3):
    """Counted spectra of 1024 channels: the ZLP at 200, a phonon 20 channels out, a plasmon."""
    channels, zlp = 1024, 200
    x = np.arange(channels)
    loss = (3e2 * np.exp(-0.5 * ((x - zlp - 20) / 2.5) ** 2)
            + 2e2 * np.exp(-0.5 * ((x - zlp - 160) / 25.0) ** 2))
    truth = loss.copy()
    truth[zlp] += 2e5
    clean = np.clip(convolve_psf(truth, reference), 0, None)
    rng = np.random.default_rng(seed)
    return rng.poisson(np.repeat(clean[None], n, axis=0)).astype(float), loss


def _wide_reference(lorentzian: bool = False) -> np.ndarray:
    x = np.arange(161) - 80
    if lorentzian:  # another instrument: the same core width, far heavier tails
        return 1 / (1 + (x / 4.7) ** 2)
    return np.exp(-0.5 * (x / 4.0) ** 2) + 0.01 / (1 + (x / 12.0) ** 2) * np.where(x > 0, 1.5, 0.7)


@pytest.fixture(scope="module")
def restorations():
    from hyperspy_eelspecnet.inference.restore import restore_spectra

    reference = _wide_reference()
    spectra, loss = _near_zlp_spectra(reference)
    psf, blind = resolve_model("nzeels-2048-psf"), resolve_model("nzeels-2048-nozlp")
    return {"spectra": spectra, "loss": loss,
            "blind": restore_spectra(spectra, blind),
            "refined": restore_spectra(spectra, psf, reference=reference),
            "wrong": restore_spectra(spectra, psf, reference=_wide_reference(lorentzian=True))}


def test_the_refined_model_keeps_the_phonon_and_the_counts(restorations):
    r = restorations
    band = slice(212, 229)
    truth = r["loss"][band].sum()  # the phonon and the plasmon's faint flank
    refined = r["refined"][:, band].sum(1).mean()
    assert refined == pytest.approx(truth, rel=0.1)
    assert abs(refined / truth - 1) < abs(r["blind"][:, band].sum(1).mean() / truth - 1)
    np.testing.assert_allclose(r["refined"].sum(1), r["spectra"].sum(1), rtol=0.01)
    assert np.all(np.abs(np.argmax(r["refined"], axis=1) - 200) <= 1)


def test_a_reference_of_another_instrument_leaves_the_blind_restoration(restorations):
    r = restorations
    past_zlp = slice(215, None)  # beyond the quasi-Dirac ZLP put back
    # the start is the network's restoration with its negative values raised to a floor
    np.testing.assert_allclose(r["wrong"][:, past_zlp], np.clip(r["blind"][:, past_zlp], 0, None),
                               rtol=1e-4, atol=1e-5 * r["blind"].max())


def test_near_zlp_weights_refine_near_the_zlp_only():
    weights = near_zlp_weights(np.array([100.0]), np.array([10.0]), 400, 2.0)[0]
    distance = np.abs(np.arange(400) - 100)
    assert np.all(weights[distance <= 20] == 1) and np.all(weights[distance >= 30] == 0)
    ramp = weights[120:131]
    assert np.all(np.diff(ramp) <= 0) and ramp[5] == pytest.approx(0.5)


def test_near_iterations_go_with_a_near_reach_inside_the_reach():
    base = {"iterations": 10, "output": "quasi_dirac", "zlp_fwhm_channels": 3.0,
            "reach_fwhm": 20.0}
    assert Refinement(**base, near_iterations=5, near_reach_fwhm=4.0).near_iterations == 5
    with pytest.raises(ValueError, match="go together"):
        Refinement(**base, near_iterations=5)
    with pytest.raises(ValueError, match="below reach_fwhm"):
        Refinement(**base, near_iterations=5, near_reach_fwhm=30.0)


def test_more_iterations_near_the_zlp_change_nothing_beyond_their_reach():
    reference = _wide_reference()
    spectra, loss = _near_zlp_spectra(reference, n=4)
    start = np.clip(loss + 50.0, 0, None)[None].repeat(4, axis=0)
    refs = (reference / reference.sum())[None]
    one = Refinement(iterations=20, output="zlp_free", zlp_fwhm_channels=3.0, reach_fwhm=20.0)
    two = one.model_copy(update={"near_iterations": 30, "near_reach_fwhm": 3.0})
    once, twice = (refine_restoration(spectra, start, refs, r) for r in (one, two))
    far = np.abs(np.arange(spectra.shape[1]) - 200) > 1.5 * 3.0 * 9.5
    np.testing.assert_allclose(twice[:, far], once[:, far], rtol=1e-6)
    assert not np.allclose(twice[:, ~far], once[:, ~far], rtol=1e-3)


def _gated(significance):
    return Refinement(iterations=50, output="zlp_free", zlp_fwhm_channels=3.0, reach_fwhm=20.0,
                      significance=significance)


def test_where_the_start_explains_the_measurement_the_gate_keeps_it():
    """A bare ZLP in Gaussian noise, started from its truth: only the noise is left to fit."""
    reference = _wide_reference()
    x = np.arange(1024)
    truth = np.zeros(1024)
    truth[200] = 2e5
    rng = np.random.default_rng(5)
    spectra = convolve_psf(truth, reference)[None] + rng.normal(0, 30.0, (8, 1024))
    start = np.zeros((8, 1024))
    refs = (reference / reference.sum())[None]
    free = refine_restoration(spectra, start, refs, _gated(None))
    gated = refine_restoration(spectra, start, refs, _gated(4.0))
    beside = (x > 230) & (x < 500)  # within the reach, beyond the ZLP's core
    assert np.abs(free[:, beside]).mean() > 1.0  # the iterations fit the noise
    assert np.abs(gated[:, beside]).mean() < 0.1 * np.abs(free[:, beside]).mean()


def test_a_peak_the_start_missed_is_refined_through_the_gate():
    reference = _wide_reference()
    spectra, loss = _near_zlp_spectra(reference, n=4)
    start = np.where(np.abs(np.arange(1024) - 360) < 80, 0.0, loss)[None].repeat(4, axis=0)
    refs = (reference / reference.sum())[None]
    gated = refine_restoration(spectra, start, refs, _gated(4.0))
    plasmon = slice(300, 420)
    assert gated[:, plasmon].sum(1).mean() == pytest.approx(loss[plasmon].sum(), rel=0.1)


def test_significance_weights_follow_the_change_against_the_noise():
    reference = _wide_reference()
    refs = (reference / reference.sum())[None]
    rng = np.random.default_rng(2)
    spectra = 1e3 + rng.normal(0, 10.0, (1, 2000))
    change = np.zeros((1, 2000))
    change[0, 1400:1600] = 50.0  # far above the noise: kept
    change[0, 400:600] = rng.normal(0, 1.0, 200)  # noise-sized wiggles: dropped
    weights = significance_weights(spectra, change, refs, 9.5, 4.0)[0]
    assert np.all(weights[1450:1550] > 0.99) and np.all(weights[450:550] < 0.01)
    assert weights.min() >= 0 and weights.max() <= 1


def test_the_gate_keeps_the_first_stage_within_the_near_reach():
    reference = _wide_reference()
    spectra, loss = _near_zlp_spectra(reference, n=4)
    start = np.clip(loss + 50.0, 0, None)[None].repeat(4, axis=0)
    refs = (reference / reference.sum())[None]
    free = Refinement(iterations=20, output="zlp_free", zlp_fwhm_channels=3.0, reach_fwhm=20.0,
                      near_iterations=1, near_reach_fwhm=3.0)
    shut = free.model_copy(update={"significance": 1e9})  # no change is significant
    kept, gated = (refine_restoration(spectra, start, refs, r) for r in (free, shut))
    # past the near reach on the loss side, where there are counts and so noise (the gain
    # side beyond the reference's 80 channels holds none, and noise-free data are refined)
    loss_side = np.arange(spectra.shape[1]) - 200
    beyond = (loss_side > 1.5 * 3.0 * 9.5) & (loss_side < 150)
    np.testing.assert_allclose(gated[:, beyond], start[:, beyond], rtol=1e-6)
    assert not np.allclose(kept[:, beyond], start[:, beyond], rtol=1e-3)
    # the phonon, 20 channels out, has had the first stage's 20 iterations either way
    band = slice(212, 229)
    np.testing.assert_allclose(gated[:, band].sum(1), kept[:, band].sum(1), rtol=0.05)
    assert not np.allclose(gated[:, band].sum(1), start[:, band].sum(1), rtol=0.05)
