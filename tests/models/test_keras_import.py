"""Loading a network prints none of TensorFlow's start-up lines, unless asked."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hyperspy_eelspecnet.models.keras_import import start_up_lines_hidden

#: Loads a shipped network in a fresh process and prints the log level it ran under.
LOAD_A_NETWORK = (
    "import os\n"
    "from hyperspy_eelspecnet.models.registry import load_network, resolve_model\n"
    "spec = resolve_model('nzeels-2048')\n"
    "load_network(str(spec.path), spec.sha256)\n"
    "print(os.environ['TF_CPP_MIN_LOG_LEVEL'])\n"
)


def _load_a_network(**environment: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"} | environment
    result = subprocess.run([sys.executable, "-c", LOAD_A_NETWORK], capture_output=True,
                            text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.mark.slow
def test_loading_a_network_prints_no_tensorflow_start_up_lines():
    result = _load_a_network()
    assert "oneDNN" not in result.stderr
    assert "absl::InitializeLog" not in result.stderr
    assert result.stdout.split() == ["2"]


@pytest.mark.slow
def test_a_log_level_set_by_the_user_is_kept():
    assert _load_a_network(TF_CPP_MIN_LOG_LEVEL="0").stdout.split() == ["0"]


def test_only_start_up_info_and_warning_lines_are_hidden(capfd):
    with start_up_lines_hidden():
        os.write(2, b"I0000 00:00:1796166392.746830    9533 port.cc:153] oneDNN custom "
                    b"operations are on.\n"
                    b"WARNING: All log messages before absl::InitializeLog() is called are "
                    b"written to STDERR\n"
                    b"W0101 12:00:00.000001    9533 plugin.cc:9] a warning\n"
                    b"E0000 00:00:1796166392.746831    9533 loader.cc:7] a real error\n")
        print("a Python warning", file=sys.stderr)
    # (Under pytest, Python's stderr is not file descriptor 2: the order may differ.)
    assert sorted(capfd.readouterr().err.splitlines()) == [
        "E0000 00:00:1796166392.746831    9533 loader.cc:7] a real error",
        "a Python warning",
    ]
