"""The near-ZLP set, the real responses it is seen through, and eelspecnet evaluate --near-zlp."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from hyperspy_eelspecnet.cli import main
from hyperspy_eelspecnet.evaluation import near_zlp
from hyperspy_eelspecnet.evaluation.comparison import (
    ANOTHER_RECORDING,
    OTHER_REFERENCE,
    method_names,
    restore_with_methods,
    subset_rng,
)
from hyperspy_eelspecnet.evaluation.report import report_near_zlp
from hyperspy_eelspecnet.evaluation.responses import (
    MAIN_RESPONSE,
    RESPONSES,
    SESSION_RECORDINGS,
    load_recording,
    load_response_shape,
    measured_zlp_fwhm,
    pseudo_voigt,
    quasi_dirac,
    response_for,
)
from hyperspy_eelspecnet.inference.restore import restore_spectra
from hyperspy_eelspecnet.models.registry import resolve_model
from hyperspy_eelspecnet.restoration.richardson_lucy import richardson_lucy_kernel

REALDATA = Path(__file__).parents[3] / "shared" / "realdata"
needs_realdata = pytest.mark.skipif(not REALDATA.exists(),
                                    reason="shared/realdata is not beside the project")


def _subset(case: str, resolution: float = 0.045, boxes: int = 3, response=MAIN_RESPONSE):
    shape = load_response_shape(response, REALDATA)
    return near_zlp.draw_subset(case, resolution, response_for(shape, resolution / 0.005),
                                boxes, subset_rng(1, case))


@pytest.fixture
def specs(tiny_model, tiny_reference_model):
    """The tiny blind model and the tiny reference model, resolved."""
    return [resolve_model(str(tiny_model)), resolve_model(str(tiny_reference_model))]


def _truth_as_restored(measurement) -> np.ndarray:
    return np.repeat(measurement.truth[:, None, :], near_zlp.PIXELS, axis=1)


def _peak_counts(measurement, peak: near_zlp.Peak) -> np.ndarray:
    """One peak of the truths, in their counts (the ZLP sets their scale)."""
    energy, top = measurement.energy, measurement.zlp.argmax(1)[:, None]
    scale = np.take_along_axis(measurement.zlp, top, 1) / quasi_dirac(
        np.take_along_axis(energy, top, 1) / near_zlp.DISPERSION)
    return scale * peak.height * pseudo_voigt(energy, peak.centre, peak.fwhm, peak.eta)


@needs_realdata
@pytest.mark.parametrize("name", list(RESPONSES))
def test_a_real_shape_is_stretched_to_the_total_resolution_asked_for(name):
    shape = load_response_shape(name, REALDATA)
    for channels in (6.0, 13.0, 26.0):
        response = response_for(shape, channels)
        assert measured_zlp_fwhm(response) == pytest.approx(channels, rel=1e-3)
        assert response.sum() == pytest.approx(1) and response.min() >= 0
    with pytest.raises(ValueError, match="not wider than the truth's"):
        response_for(shape, 2.0)


def test_a_missing_realdata_folder_names_it_and_the_fix(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="--realdata DIR") as error:
        load_response_shape(MAIN_RESPONSE, tmp_path)
    assert str(tmp_path) in str(error.value) and "vacuum_23.txt" in str(error.value)
    assert main(["evaluate", "--near-zlp", "--realdata", str(tmp_path),
                 "--out", str(tmp_path / "out")]) == 2
    assert f"lacks {RESPONSES[MAIN_RESPONSE]}" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@needs_realdata
@pytest.mark.parametrize("case", near_zlp.CASES)
def test_the_truth_scores_perfectly(case):
    drawn, measurement = _subset(case)
    scores = near_zlp.score_boxes(_truth_as_restored(measurement), measurement.truth,
                                  measurement.energy, drawn)
    for name, values in scores.items():
        if name.endswith("_shift_eV") or name.endswith("_pixel_error"):
            np.testing.assert_allclose(values, 0, atol=1e-12, err_msg=name)
        elif name != "dip_ratio":  # NaN: the truth has no clear peak (coupled's phonon)
            assert np.allclose(values[~np.isnan(values)], 1), name
    visible = [name for name in scores if name.endswith("_visible")]
    assert visible and all(np.isfinite(scores[name]).any() for name in visible
                           if name != "phonon_visible" or case != "coupled")
    if case.startswith("doublet"):
        assert np.all(scores["dip_ratio"] < 0.9)  # the truth's doublet has a dip


@needs_realdata
def test_the_zlp_tail_fills_the_raw_phonon_band_and_hides_the_peak():
    drawn, measurement = _subset("phonon")
    raw = near_zlp.score_boxes(measurement.measured, measurement.truth, measurement.energy,
                               drawn)
    assert np.all(raw["phonon_counts"] > 2)
    assert np.all(raw["phonon_visible"] == 0) and np.all(raw["phonon_shift_eV"] < 0)
    assert np.allclose(raw["SP1_counts"], 1, atol=0.02)  # far from the ZLP, the counts stay


@needs_realdata
def test_a_restoration_without_the_phonon_scores_near_zero_and_shows_no_peak():
    drawn, measurement = _subset("phonon")
    erased = measurement.truth - np.stack([_peak_counts(measurement, box.peaks[0])[i]
                                           for i, box in enumerate(drawn)])
    scores = near_zlp.score_boxes(np.repeat(erased[:, None], near_zlp.PIXELS, axis=1),
                                  measurement.truth, measurement.energy, drawn)
    assert np.all(scores["phonon_counts"] < 0.25)  # what is left: the plasmons' tails
    assert np.all(scores["phonon_rise"] <= 0) and np.all(scores["phonon_visible"] == 0)
    assert np.allclose(scores["SP1_counts"], 1, atol=1e-3)  # but the phonon's tail


@needs_realdata
def test_one_peak_in_place_of_a_doublet_has_no_dip():
    drawn, measurement = _subset("doublet-1.5")
    merged = measurement.truth.copy()
    for i, box in enumerate(drawn):
        low, high = box.doublet
        merged[i] -= _peak_counts(measurement, low)[i] + _peak_counts(measurement, high)[i]
        middle = near_zlp.Peak((low.centre + high.centre) / 2, 2 * low.fwhm, low.height, low.eta)
        merged[i] += _peak_counts(measurement, middle)[i]
    scores = near_zlp.score_boxes(np.repeat(merged[:, None], near_zlp.PIXELS, axis=1),
                                  measurement.truth, measurement.energy, drawn)
    assert np.all(scores["dip_visible"] == 0) and np.all(scores["dip_kept"] < 0.3)


@needs_realdata
def test_every_subset_draws_its_own_seeded_boxes():
    first, again = _subset("phonon"), _subset("phonon")
    np.testing.assert_array_equal(first[1].measured, again[1].measured)
    assert len({box.zlp_channel for box in first[0]}) == 3  # the boxes differ
    assert len({box.peaks[0].height for box in first[0]}) == 3


@needs_realdata
def test_report_of_one_set_writes_its_table_and_figures(tiny_model, tmp_path):
    report = report_near_zlp(tmp_path, [str(tiny_model)], sets=("cropped",), realdata=REALDATA,
                             size=1, rl_iterations=(2,), plots=True, command="test")
    assert report.section == "near_zlp" and report.cards == []
    assert "## cropped" in report.text and "| response | variant | measure |" in report.text
    assert "| truth | raw | tiny-test | RL-2 | RL-best |" in report.text
    assert report.figures == [tmp_path / "cropped.png"]
    written = json.loads((tmp_path / "near_zlp.json").read_text())
    assert written["sizes"] == {"cropped": 1} and written["seed"] == 20221017
    assert set(written["summary"]["cropped"]) == {
        f"{r} / {v}" for r in RESPONSES for v in ("441 ch, ZLP at 40", "441 ch, ZLP at 16",
                                                   "441 ch, ZLP at 64", "256 ch, ZLP at 40",
                                                   "700 ch, ZLP at 40",
                                                   "5 meV, 881 ch, ZLP at 80")}


@needs_realdata
def test_evaluate_near_zlp_end_to_end_with_card_update(tiny_model, tmp_path, capsys):
    model = shutil.copytree(tiny_model, tmp_path / "model")
    out = tmp_path / "ev"
    assert main(["evaluate", "--near-zlp", "--model", str(model), "--n", "1",
                 "--rl-iterations", "2", "--plots", "--update-cards",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    table = (out / "near_zlp.md").read_text()
    assert table in printed and "eelspecnet evaluate --near-zlp" in table
    for heading in ("## near-zlp", "## cropped", "## gain-side"):
        assert heading in table
    assert "Cells: 30 meV / 45 meV / 65 meV." in table
    assert "| tiny-test | RL-2 | RL-2, another recording |" in table
    for row in ("| vacuum_23 | phonon | phonon_counts |", "| mono_10meV | coupled | C_rise |",
                "| vacuum_23 | doublet-1.5 | dip_visible |",
                "| vacuum_23 | 0.5 meV/ch | 200 K | T_ratio |"):
        assert row in table
    for figure in ("near-zlp.png", "cropped.png", "gain-side.png"):
        assert (out / figure).stat().st_size > 1000 and f"figure: {out / figure}" in printed
    assert f"updated {model / 'card.json'} [near_zlp]" in printed
    card = json.loads((model / "card.json").read_text())["near_zlp"]
    written = json.loads((out / "near_zlp.json").read_text())
    assert card["command"].startswith("eelspecnet evaluate --near-zlp")
    assert card["sizes"] == written["sizes"] == {"near-zlp": 1, "cropped": 1, "gain-side": 1}
    assert json.dumps(card["summary"], sort_keys=True) == json.dumps(written["summary"],
                                                                     sort_keys=True)
    truth = written["summary"]["gain-side"]["vacuum_23 / 1 meV/ch / 600 K"]["truth"]["T_ratio"]
    assert truth["median"] == pytest.approx(1, abs=0.01)


@needs_realdata
def test_a_reference_model_is_also_run_with_another_instruments_reference(specs):
    _, measurement = _subset("phonon", boxes=1)
    other = response_for(load_response_shape("mono_10meV", REALDATA), 0.045 / 0.005)
    restored = restore_with_methods(measurement, specs, (2,), "float32", other_reference=other)
    wrong = "tiny-reference" + OTHER_REFERENCE
    assert list(restored) == method_names(specs, (2,), other_reference=True) == [
        "truth", "raw", "tiny-test", "tiny-reference", wrong, "RL-2"]
    spectra = measurement.measured.reshape(-1, measurement.measured.shape[-1])
    expected = restore_spectra(spectra, specs[1], reference=other)
    np.testing.assert_allclose(restored[wrong][0].reshape(spectra.shape), expected, rtol=1e-6)
    assert not np.allclose(restored[wrong][0], restored["tiny-reference"][0])


@needs_realdata
def test_richardson_lucy_and_a_reference_model_are_also_given_another_recording(specs):
    drawn, measurement = _subset("phonon", boxes=2)
    session = response_for(load_recording(SESSION_RECORDINGS[MAIN_RESPONSE], REALDATA),
                           0.045 / 0.005)
    vacuum = near_zlp.another_recording(session, drawn, np.random.default_rng(0))
    assert vacuum.shape == measurement.vacuum.shape
    # The same ZLP channel and dose, another shape: the user's recording made minutes away.
    np.testing.assert_array_equal(vacuum.argmax(1), measurement.vacuum.argmax(1))
    assert vacuum.max(1) == pytest.approx(measurement.vacuum.max(1), rel=0.05)
    assert not np.allclose(vacuum / vacuum.sum(1, keepdims=True),
                           measurement.vacuum / measurement.vacuum.sum(1, keepdims=True),
                           atol=1e-4)

    restored = restore_with_methods(measurement, specs, (2,), "float32",
                                    another_recording=vacuum)
    assert list(restored) == method_names(specs, (2,), another_recording=True) == [
        "truth", "raw", "tiny-test", "tiny-reference", "tiny-reference" + ANOTHER_RECORDING,
        "RL-2", "RL-2" + ANOTHER_RECORDING]
    spectra = measurement.measured.reshape(-1, measurement.measured.shape[-1])
    kernels = np.repeat(vacuum, near_zlp.PIXELS, axis=0)
    np.testing.assert_allclose(restored["RL-2" + ANOTHER_RECORDING][0].reshape(spectra.shape),
                               richardson_lucy_kernel(spectra, kernels, 2))
    np.testing.assert_allclose(
        restored["tiny-reference" + ANOTHER_RECORDING][0].reshape(spectra.shape),
        restore_spectra(spectra, specs[1], reference=kernels), rtol=1e-6)
    assert not np.allclose(restored["RL-2" + ANOTHER_RECORDING][0], restored["RL-2"][0])
