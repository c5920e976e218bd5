"""The eelspecnet command: importable without TensorFlow, its errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hyperspy_eelspecnet.cli import main
from hyperspy_eelspecnet.training.config import shipped_configs


def test_the_command_line_imports_without_tensorflow():
    code = (
        "import sys\n"
        "from hyperspy_eelspecnet.cli import build_parser\n"
        "build_parser().parse_args(['train', 'nzeels-2048', '--run-dir', 'run'])\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


def test_train_with_an_unknown_config_names_the_shipped_ones(tmp_path):
    with pytest.raises(SystemExit) as error:
        main(["train", "no-such-config", "--run-dir", str(tmp_path / "run")])
    message = str(error.value.code)
    assert message.startswith("no training config 'no-such-config': give a YAML file")
    assert all(name in message for name in shipped_configs())
    assert not (tmp_path / "run").exists()


def test_export_of_a_folder_without_a_run_fails_before_writing(tmp_path):
    with pytest.raises(FileNotFoundError, match="holds no checkpoint"):
        main(["export", str(tmp_path), "--out", str(tmp_path / "model")])
    assert not (tmp_path / "model").exists()


def test_export_refined_records_its_command(tmp_path, capsys):
    from hyperspy_eelspecnet.models.card import ModelCard

    out = tmp_path / "refined"
    assert main(["export-refined", "nzeels-2048-nozlp", "--name", "refined",
                 "--iterations", "7", "--reach-fwhm", "20", "--significance", "3",
                 "--out", str(out)]) == 0
    card = ModelCard.read(out / "card.json")
    assert card.preprocessing.refinement.iterations == 7
    assert card.preprocessing.refinement.significance == 3.0
    assert card.training.reproduce.startswith("eelspecnet export-refined nzeels-2048-nozlp")
    assert "refined with 7 iterations" in capsys.readouterr().out
