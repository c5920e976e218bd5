"""Network builder, training, resume, export and reload."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from conftest import TINY_GENERATOR, tiny_config
from pydantic import ValidationError

from hyperspy_eelspecnet.cli import main
from hyperspy_eelspecnet.models.registry import load_network, resolve_model
from hyperspy_eelspecnet.training import TrainingConfig
from hyperspy_eelspecnet.training.network import PRESETS, build_unet, count_parameters
from hyperspy_eelspecnet.training.train import train

#: A tiny run in mixed bfloat16 with the asinh loss of the shipped recipes.
BFLOAT16_ASINH = dict(
    precision="mixed_bfloat16", value_scale="asinh", loss="mse", linear_loss_weight=100.0,
    difference_loss_weight=10.0, difference_loss_zlp_margin=4,
    network=PRESETS["tiny-6"].model_copy(update={"output_activation": "linear"}),
)

#: A tiny run whose blocks alternate between a 192- and a 256-channel window.
WINDOWS = dict(window_lengths=(192, 256))


def _history(run_dir):
    with open(run_dir / "history.csv") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_paper_network_has_the_papers_parameter_count():
    model = build_unet(PRESETS["paper-10x10"], 2048)
    assert count_parameters(model) == 218_094_209
    assert model.output_shape == (None, 2048, 1)


def test_compact_preset_is_small_enough_to_ship():
    assert count_parameters(build_unet(PRESETS["compact-10"], 2048)) * 4 < 20e6


@pytest.mark.parametrize(
    "decoder, flat",
    [({}, False), ({"upsampling": "resize"}, True),
     ({"upsampling": "resize", "resize_steps": 2}, True), ({"nyquist_filter": True}, True)],
    ids=["transposed", "resize", "resize-finest-2", "nyquist-filter"],
)
def test_flat_spectrum_stays_flat_without_transposed_ripple(decoder, flat):
    """The last transposed convolution prints a period-2 ripple on a flat
    input; resize steps or the final fixed filter keep it out."""
    import keras

    from hyperspy_eelspecnet.training import NetworkConfig

    keras.utils.set_random_seed(0)
    config = NetworkConfig(filters=(4, 8, 8, 8, 8, 8), output_activation="linear", **decoder)
    model = build_unet(config, 512)
    middle = model.predict_on_batch(np.ones((1, 512, 1), np.float32))[0, 128:384, 0]
    ripple = np.abs(middle[::2] - middle[1::2]).mean() / np.abs(middle).mean()
    assert (ripple < 0.01) if flat else (ripple > 0.1)


@pytest.mark.slow
def test_resize_and_filtered_network_exports_and_reloads(tmp_path):
    from hyperspy_eelspecnet.training.export import export_model

    network = {"filters": (4, 8, 8, 8, 8, 8), "upsampling": "resize", "resize_steps": 2,
               "nyquist_filter": True}
    config = tiny_config(steps=4, network=network)
    result = train(config, tmp_path / "run", show_progressbar=False)
    spec = resolve_model(export_model(result.model, config, tmp_path / "model"))
    loaded = load_network(str(spec.path), spec.sha256)
    test_input = np.load(spec.path / "test_input.npy")
    np.testing.assert_allclose(loaded.predict_on_batch(test_input),
                               np.load(spec.path / "test_output.npy"), rtol=1e-5, atol=1e-7)
    architecture = spec.card.architecture
    assert (architecture.upsampling, architecture.resize_steps) == ("resize", 2)
    assert architecture.nyquist_filter is True
    # The two finest steps resize; the coarser ones stay transposed.
    layers = {layer.name: type(layer).__name__ for layer in loaded.layers}
    assert layers["to_spectrum"] == layers["up_0"] == "Sequential"
    assert layers["up_1"] == "Conv1DTranspose"
    with pytest.raises(ValidationError, match="resize_steps needs upsampling"):
        TrainingConfig(name="x", network={"resize_steps": 2})


@pytest.mark.slow
def test_loss_falls(tmp_path):
    config = tiny_config(steps=96, checkpoint_every=48, optimiser={"learning_rate": 3e-3})
    train(config, tmp_path, show_progressbar=False)
    rows = _history(tmp_path)
    assert [int(r["step"]) for r in rows] == [48, 96]
    assert float(rows[-1]["val_loss"]) < float(rows[0]["val_loss"])


@pytest.mark.slow
@pytest.mark.parametrize("changes", [{}, BFLOAT16_ASINH, WINDOWS],
                         ids=["float32", "mixed_bfloat16", "two-windows"])
def test_same_seed_same_weights_and_resume_continues(tmp_path, changes):
    config = tiny_config(**changes)
    whole = train(config, tmp_path / "whole", show_progressbar=False).model
    first = train(config, tmp_path / "split", show_progressbar=False, stop_after=8)
    assert first.steps == 8
    state = json.loads((tmp_path / "split" / "state.json").read_text())
    assert state["step"] == 8
    resumed = train(config, tmp_path / "split", show_progressbar=False)
    assert resumed.steps == 16
    for a, b in zip(whole.get_weights(), resumed.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert [int(r["step"]) for r in _history(tmp_path / "split")] == [8, 16]


@pytest.mark.slow
def test_blocks_drawn_in_parallel_give_the_same_weights_and_resume(tmp_path):
    config = tiny_config(draws="blocks")
    alone = train(config, tmp_path / "alone", show_progressbar=False).model
    train(config, tmp_path / "split", show_progressbar=False, stop_after=8, workers=2)
    resumed = train(config, tmp_path / "split", show_progressbar=False, workers=2)
    assert resumed.steps == 16
    for a, b in zip(alone.get_weights(), resumed.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_each_block_has_its_own_spectra():
    from hyperspy_eelspecnet.simulation.generator import SpectrumGenerator
    from hyperspy_eelspecnet.training.draws import drawn_blocks

    config = tiny_config(draws="blocks", steps=24)
    generator = SpectrumGenerator(config.generator, seed=config.seed)
    blocks = [x for _, (x, _) in drawn_blocks(generator, config, 0, 24)]
    assert len(blocks) == 3 and not np.array_equal(blocks[0], blocks[1])
    later = [x for _, (x, _) in drawn_blocks(generator, config, 8, 24)]
    np.testing.assert_array_equal(later[0], blocks[1])  # a resumed run draws the same


def test_a_single_stream_refuses_parallel_workers(tmp_path, capsys):
    config = tiny_config()
    with pytest.raises(ValueError, match="draws: blocks"):
        train(config, tmp_path / "run", show_progressbar=False, workers=2)
    path = tmp_path / "stream.yaml"
    config.to_yaml(path)
    assert main(["train", str(path), "--run-dir", str(tmp_path / "cli"), "--workers", "2"]) == 2
    assert "draws: stream" in capsys.readouterr().err
    assert not (tmp_path / "cli").exists()


@pytest.mark.slow
def test_mixed_bfloat16_trains_in_bfloat16_and_exports_float32_with_its_precision(tmp_path):
    import keras

    from hyperspy_eelspecnet.training.export import export_model

    config = tiny_config(steps=8, precision="mixed_bfloat16")
    model = train(config, tmp_path / "run", show_progressbar=False).model
    assert keras.config.dtype_policy().name == "float32"  # the caller's policy is left alone
    assert model.get_layer("down_0").dtype_policy.name == "mixed_bfloat16"
    assert model.get_layer("positive_tanh").dtype_policy.name == "float32"
    assert model.output.dtype == "float32"
    spec = resolve_model(export_model(model, config, tmp_path / "model"))
    assert spec.card.training.precision == "mixed_bfloat16"
    assert TrainingConfig.from_yaml(spec.path / "config.yaml").precision == "mixed_bfloat16"
    exported = load_network(str(spec.path), spec.sha256)
    assert {layer.dtype_policy.name for layer in exported.layers} == {"float32"}


@pytest.mark.slow
def test_fine_tuning_starts_from_the_exported_weights_and_its_card_says_so(tiny_model, tmp_path):
    from hyperspy_eelspecnet.training.export import export_model

    config = tiny_config(steps=1, init_from=str(tiny_model), optimiser={"learning_rate": 1e-9})
    tuned = train(config, tmp_path / "run", show_progressbar=False).model
    start = load_network(str(tiny_model), resolve_model(tiny_model).sha256)
    for a, b in zip(start.get_weights(), tuned.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    card = resolve_model(export_model(tuned, config, tmp_path / "model")).card
    assert card.training.init_from == str(tiny_model)


@pytest.mark.slow
def test_run_directory_of_another_config_is_refused(tmp_path):
    train(tiny_config(steps=8), tmp_path, show_progressbar=False)
    with pytest.raises(ValueError, match="different configuration"):
        train(tiny_config(steps=8, seed=99), tmp_path, show_progressbar=False)


def test_export_then_load_predicts_identically(tiny_model):
    spec = resolve_model(tiny_model)
    network = load_network(str(spec.path), spec.sha256)
    test_input = np.load(tiny_model / "test_input.npy")
    expected = np.load(tiny_model / "test_output.npy")
    np.testing.assert_allclose(network.predict_on_batch(test_input), expected, rtol=1e-5, atol=1e-7)
    card = spec.card
    assert card.architecture.trainable_parameters == 3329
    assert card.training.seed == 0
    assert card.preprocessing.zlp_channel == 50
    assert card.weights_sha256 == spec.sha256
    lo, hi = card.domain.zlp_fwhm_channels
    assert 0 < lo < hi


def test_domain_spans_the_training_lengths():
    from hyperspy_eelspecnet.training.export import _domain

    domain = _domain(tiny_config(generator=TINY_GENERATOR.model_copy(update={"min_channels": 150})))
    assert domain.channels == (75, 512)  # half the shortest, twice the longest
    assert domain.channels_past_zlp == 256 - 1 - 50
    assert _domain(tiny_config()).channels == (128, 512)
    from hyperspy_eelspecnet.simulation import CropConfig

    cropped = TINY_GENERATOR.model_copy(update={"crop": CropConfig(
        probability=0.3, channels_before_zlp=(16, 40), length=(100, 200))})
    domain = _domain(tiny_config(generator=cropped))
    # Crops of 100 channels with the ZLP from channel 16 were trained on.
    assert domain.channels == (50, 512) and domain.zlp_channel_range == (16, 50)


def test_exported_network_accepts_other_lengths(tiny_model):
    spec = resolve_model(tiny_model)
    network = load_network(str(spec.path), spec.sha256)
    assert network.predict_on_batch(np.zeros((1, 512, 1), np.float32)).shape == (1, 512, 1)


def test_config_yaml_round_trip_and_typos_rejected(tmp_path):
    config = tiny_config()
    config.to_yaml(tmp_path / "c.yaml")
    assert TrainingConfig.from_yaml(tmp_path / "c.yaml") == config
    (tmp_path / "bad.yaml").write_text("version: 1\nbatch_sise: 8\n")
    with pytest.raises(ValidationError, match="batch_sise"):
        TrainingConfig.from_yaml(tmp_path / "bad.yaml")


def test_shipped_training_configs_are_valid():
    from pathlib import Path

    import hyperspy_eelspecnet.training as training

    configs = sorted(Path(training.__file__).parent.glob("configs/*.yaml"))
    assert {c.stem for c in configs} >= {"nzeels-2048", "nzeels-2048-nozlp"}
    for path in configs:  # a later stage of a model is named <model>-<stage>
        assert path.stem.startswith(TrainingConfig.from_yaml(path).name)


@pytest.mark.slow
def test_train_command_records_itself(tmp_path):
    config = tiny_config(steps=8)
    config.to_yaml(tmp_path / "tiny.yaml")
    assert main(["train", str(tmp_path / "tiny.yaml"), "--run-dir", str(tmp_path / "run")]) == 0
    assert "eelspecnet train" in (tmp_path / "run" / "commands.txt").read_text()
    assert (tmp_path / "run" / "checkpoint.keras").exists()


def test_fine_tuned_card_records_every_earlier_stage(tiny_model, tmp_path):
    from hyperspy_eelspecnet.training.export import export_model

    first = resolve_model(tiny_model).card
    assert first.training.earlier_stages is None
    models = [tiny_model]
    for stage in (2, 3):
        config = tiny_config(steps=2, seed=stage, init_from=str(models[-1]))
        result = train(config, tmp_path / f"run{stage}", show_progressbar=False)
        models.append(export_model(result.model, config, tmp_path / f"stage{stage}"))
    stages = resolve_model(models[-1]).card.training.earlier_stages
    # Stage 3 lists stage 1 (the tiny model) and stage 2, first first.
    assert [s["weights_sha256"] for s in stages] == [
        first.weights_sha256, resolve_model(models[1]).card.weights_sha256]
    assert [s["seed"] for s in stages] == [first.training.seed, 2]
    assert stages[1]["init_from"] == str(tiny_model)


def test_shorter_window_holds_what_a_measurement_ending_there_would_give():
    """Spectrum and target cut where the window ends, renormalised as inference does."""
    from hyperspy_eelspecnet.inference.alignment import alignment_shifts, shift_spectra
    from hyperspy_eelspecnet.inference.reference import network_input
    from hyperspy_eelspecnet.inference.value_scale import to_network
    from hyperspy_eelspecnet.simulation import SpectrumGenerator
    from hyperspy_eelspecnet.training.train import network_pairs

    config = tiny_config(**WINDOWS)
    batch = SpectrumGenerator(config.generator, seed=3).generate(6)
    x, y = network_pairs(batch, config, 192)
    assert x.shape == (6, 192, 1) and y.shape == (6, 192, 1)
    pre = config.preprocessing()
    shifts = alignment_shifts(batch.distorted, config.generator.zlp_channel)
    for row, shift in enumerate(shifts):  # the measurement, had it ended at the window's end
        measured = batch.distorted[row, : 192 - shift].astype(float)
        held = measured.sum()
        expected = network_input(measured[None] / held, shifts[row:row + 1], 192, pre)
        np.testing.assert_allclose(x[row], expected[0], atol=1e-6)
        target = shift_spectra(batch.target[row:row + 1] / held, shifts[row:row + 1], 192)
        np.testing.assert_allclose(y[row, :, 0], to_network(target, pre)[0], atol=1e-5)
    full, _ = network_pairs(batch, config, 256)  # the training length: as before, uncut
    np.testing.assert_array_equal(full, network_pairs(batch, config)[0])


@pytest.mark.slow
def test_windowed_training_cards_its_shortest_window(tmp_path):
    from hyperspy_eelspecnet.training.export import export_model

    config = tiny_config(steps=8, **WINDOWS)
    model = train(config, tmp_path / "run", show_progressbar=False).model
    spec = resolve_model(export_model(model, config, tmp_path / "model"))
    assert spec.preprocessing.min_length == 192
    assert spec.preprocessing.smallest_window == 192
    assert resolve_model(export_model(model, tiny_config(steps=8), tmp_path / "plain")
                         ).preprocessing.min_length is None


@pytest.mark.parametrize("windows", [(100,), (320,), (192, 30)])
def test_window_that_the_network_cannot_take_is_refused(windows):
    with pytest.raises(ValidationError, match="must be a multiple of 64"):
        tiny_config(window_lengths=windows)
