"""eelspecnet evaluate and export, end to end on tiny inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import tiny_config

from hyperspy_eelspecnet.cli import main
from hyperspy_eelspecnet.evaluation.generated import check_seed, evaluation_sets, measure
from hyperspy_eelspecnet.models.registry import resolve_model

REAL = Path(__file__).parents[3] / "shared" / "realdata" / "ws2_25meV"


def test_evaluate_writes_table_and_plots(tiny_model, tmp_path, capsys):
    out = tmp_path / "ev"
    code = main(["evaluate", "--model", str(tiny_model), "--n", "12",
                 "--rl-iterations", "2", "5", "--out", str(out)])
    assert code == 0
    table = (out / "evaluation.md").read_text()
    assert "eelspecnet evaluate --model" in table and "seed 20221017" in table
    for measure_name in ("fwhm_recovery", "fwtm_error", "ssim", "mse", "noise_variance_ratio"):
        assert measure_name in table
    assert "| tiny-test | RL-2 | RL-5 |" in table
    summary = json.loads((out / "evaluation.json").read_text())
    assert summary["sizes"]["widths"] == 12
    printed = capsys.readouterr().out
    assert table in printed and f"table: {out / 'evaluation.md'}" in printed
    for figure in ("noise_variance.png", "zlp_widths.png", "fidelity.png", "examples.png"):
        assert (out / figure).stat().st_size > 1000
        assert f"figure: {out / figure}" in printed


def test_measures_of_a_perfect_and_of_no_restoration():
    s = evaluation_sets({"widths": 30}, seed=5)[0]
    perfect = measure(s.truth.astype(float), s)
    assert np.nanmedian(perfect["fwhm_recovery"]) == 1
    assert np.nanmedian(perfect["ssim"]) == 1
    none = measure(s.distorted.astype(float), s)
    assert np.nanmedian(none["fwhm_recovery"]) == 0
    # The unrestored OTF tail counts as error on top of the noise.
    assert np.nanmedian(none["noise_variance_ratio"]) < 1
    # A perfect restoration that kept the noise has a ratio of 1.
    noisy_truth = s.truth + (s.distorted - s.clean)
    kept = measure(noisy_truth.astype(float), s)
    assert np.nanmedian(kept["noise_variance_ratio"]) == pytest.approx(1, rel=1e-3)


def test_training_seed_is_refused(tiny_model):
    spec = resolve_model(tiny_model)
    with pytest.raises(ValueError, match="seed 1 was used to train or validate"):
        check_seed(1, [spec])


@pytest.mark.skipif(not REAL.exists(), reason="shared/realdata is not beside the project")
def test_evaluate_real_end_to_end(tiny_model, tmp_path):
    out = tmp_path / "real"
    assert main(["evaluate", "--real", str(REAL), "--dispersion", "0.025013",
                 "--model", str(tiny_model), "--out", str(out)]) == 0
    table = (out / "real_data.md").read_text()
    for row in ("reconvolution_residual", "flat_noise_cut", "zlp_shift_channels",
                "vacuum_zlp_fwhm_eV", "vacuum_tail_ratio"):
        assert row in table
    assert "| none | tiny-test | RL-50 | RL-100 | RL-400 |" in table
    assert "A perfect restoration of the vacuum recordings" in table


@pytest.mark.skipif(not REAL.exists(), reason="shared/realdata is not beside the project")
def test_vacuum_floor_is_zero_for_the_median_recording_and_above_noise_for_real_ones():
    from hyperspy_eelspecnet.evaluation.real_data import load_real_set, vacuum_floor

    real = load_real_set(REAL, 0.025013)
    floors = vacuum_floor(real)
    assert floors.shape == (3,) and np.all(floors > 1)  # real ZLPs drift between recordings
    counts = real.vacuum.sum(1, keepdims=True)
    real.vacuum = np.repeat(np.round(real.kernel * counts[:1] / real.kernel.sum()), 3, axis=0)
    real.vacuum += np.random.default_rng(0).poisson(50, real.vacuum.shape)  # a flat noise floor
    assert np.all(vacuum_floor(real) < 2)  # identical shapes: only noise and the flat level


def test_update_cards_records_figures_and_command(tiny_model, tmp_path, capsys):
    import shutil

    model = shutil.copytree(tiny_model, tmp_path / "model")
    assert main(["evaluate", "--model", str(model), "--n", "6", "--rl-iterations", "2",
                 "--out", str(tmp_path / "ev"), "--update-cards"]) == 0
    assert f"updated {model / 'card.json'} [evaluation]" in capsys.readouterr().out
    card = json.loads((model / "card.json").read_text())
    assert card["evaluation"]["command"].startswith("eelspecnet evaluate --model")
    # The card holds the figures of this run, as evaluation.json has them.
    written = json.loads((tmp_path / "ev" / "evaluation.json").read_text())
    assert card["evaluation"]["seed"] == written["seed"] == 20221017
    assert card["evaluation"]["sizes"] == written["sizes"] == {name: 6 for name in written["sizes"]}
    # Every figure (NaN where undefined: this tiny model's FWHM recovery).
    assert json.dumps(card["evaluation"]["summary"], sort_keys=True) == json.dumps(
        written["summary"], sort_keys=True)
    ssim = card["evaluation"]["summary"]["fidelity"]["tiny-test"]["ssim"]
    assert 0 < ssim["p5"] <= ssim["median"] <= ssim["p95"] <= 1
    # The weights' checksum still matches: only the card changed.
    assert resolve_model(model).sha256 == card["weights_sha256"]


@pytest.mark.slow
def test_export_command(tmp_path):

    config = tiny_config(steps=8)
    config.to_yaml(tmp_path / "tiny.yaml")
    main(["train", str(tmp_path / "tiny.yaml"), "--run-dir", str(tmp_path / "run")])
    assert main(["export", str(tmp_path / "run"), "--out", str(tmp_path / "model")]) == 0
    card = json.loads((tmp_path / "model" / "card.json").read_text())
    assert card["training"]["steps"] == 8
    assert card["training"]["command"].startswith("eelspecnet train")
    assert resolve_model(tmp_path / "model").sha256 == card["weights_sha256"]
    with pytest.raises(FileExistsError):
        main(["export", str(tmp_path / "run"), "--out", str(tmp_path / "model")])


@pytest.mark.skipif(not REAL.exists(), reason="shared/realdata is not beside the project")
def test_vacuum_tail_ratio_falls_as_richardson_lucy_sharpens():
    from hyperspy_eelspecnet.evaluation.real_data import evaluate_real, load_real_set

    results = evaluate_real(load_real_set(REAL, 0.025013), [], rl_iterations=(10, 400))
    np.testing.assert_allclose(results["none"]["vacuum_tail_ratio"], 1.0)
    assert np.all(results["RL-400"]["vacuum_tail_ratio"] < results["RL-10"]["vacuum_tail_ratio"])
    assert np.all(results["RL-10"]["vacuum_tail_ratio"] < 1)
    # Richardson-Lucy's kernel is centred on its maximum: the sharpened ZLP stays
    # within a tenth of a channel of the measured maximum.
    assert np.all(np.abs(results["RL-400"]["zlp_shift_channels"]) < 0.1)


def test_evaluate_passes_the_precision_down_and_records_it(tiny_model, tmp_path):
    summaries = {}
    for precision in ("float32", "bfloat16"):
        out = tmp_path / precision
        assert main(["evaluate", "--model", str(tiny_model), "--n", "4", "--rl-iterations",
                     "--precision", precision, "--out", str(out)]) == 0
        assert f"networks in {precision}" in (out / "evaluation.md").read_text()
        written = json.loads((out / "evaluation.json").read_text())
        assert written["precision"] == precision
        summaries[precision] = written["summary"]["fidelity"]["tiny-test"]["mse"]
    assert summaries["bfloat16"] != summaries["float32"]  # the networks did run in bfloat16


def test_reference_model_is_given_richardson_lucys_kernel(tiny_reference_model, monkeypatch):
    """Generated and real sets hand a reference model the kernel RL gets."""
    from hyperspy_eelspecnet.evaluation import generated, real_data

    given = []
    original = generated.restore_spectra

    def spy(spectra, spec, **kwargs):
        given.append(kwargs.get("reference"))
        return original(spectra, spec, **kwargs)

    monkeypatch.setattr(generated, "restore_spectra", spy)
    result, sets, _ = generated.evaluate([str(tiny_reference_model)], {"widths": 6},
                                         rl_iterations=(2,), show_progressbar=False)
    np.testing.assert_array_equal(given[0], sets[0].psf)
    assert np.isfinite(result.values["widths"]["tiny-reference"]["ssim"]).all()
    if REAL.exists():
        monkeypatch.setattr(real_data, "restore_spectra", spy)
        real = real_data.load_real_set(REAL, 0.025013)
        real_data.evaluate_real(real, [str(tiny_reference_model)], rl_iterations=(2,))
        np.testing.assert_array_equal(given[-1], real.kernel)
