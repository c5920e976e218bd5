"""Run directories: the files training writes and export reads, config lookup."""

from __future__ import annotations

import json

import pytest
from conftest import tiny_config

from hyperspy_eelspecnet.training.config import (
    CONFIGS_DIR,
    TrainingConfig,
    find_config,
    shipped_configs,
)
from hyperspy_eelspecnet.training.export import export_run
from hyperspy_eelspecnet.training.run_dir import RunDir, RunState
from hyperspy_eelspecnet.training.train import train


def test_a_config_is_found_by_shipped_name_or_by_path(tmp_path):
    assert find_config("nzeels-2048") == CONFIGS_DIR / "nzeels-2048.yaml"
    tiny_config().to_yaml(tmp_path / "nzeels-2048")  # a file of that name comes first
    assert find_config(tmp_path / "nzeels-2048") == tmp_path / "nzeels-2048"
    assert {"nzeels-2048", "nzeels-2048-nozlp"} <= set(shipped_configs())


def test_an_unknown_config_name_lists_the_shipped_ones():
    with pytest.raises(FileNotFoundError, match="no training config 'nzeels-4096'") as error:
        find_config("nzeels-4096")
    for name in shipped_configs():
        assert name in str(error.value)


def test_state_and_commands_round_trip(tmp_path):
    run = RunDir(tmp_path / "run")
    assert run.first_command() == "" and not run.has_checkpoint()
    run.record_command("eelspecnet train a.yaml --run-dir run")
    run.record_command("eelspecnet train a.yaml --run-dir run --stop-after 8")
    assert run.first_command() == "eelspecnet train a.yaml --run-dir run"
    state = RunState(8, 1.5, {"bit_generator": "PCG64", "state": {"state": 1, "inc": 3}})
    run.write_state(state)
    assert run.read_state() == state
    assert sorted(p.name for p in run.path.iterdir()) == ["commands.txt", "state.json"]


def test_export_finds_the_files_train_wrote(tmp_path):
    config = tiny_config(steps=8)
    train(config, tmp_path / "run", show_progressbar=False)
    run = RunDir(tmp_path / "run")
    assert run.has_checkpoint() and run.history_file.exists()
    assert run.read_config() == config
    assert run.read_state().step == 8
    assert run.load_checkpoint().output_shape == (None, config.generator.channels, 1)
    # Trained from Python, the run has no commands.txt: the card records no command.
    out = export_run(run.path, tmp_path / "model")
    card = json.loads((out / "card.json").read_text())
    assert card["training"]["steps"] == 8 and card["training"]["command"] == ""
    assert TrainingConfig.from_yaml(out / "config.yaml") == config


def test_export_of_a_folder_without_a_checkpoint_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="holds no checkpoint"):
        export_run(tmp_path, tmp_path / "model")
    assert not (tmp_path / "model").exists()
