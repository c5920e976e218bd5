"""Import cost, registration with HyperSpy, the model registry."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import hyperspy_eelspecnet
from hyperspy_eelspecnet.models.registry import resolve_model

#: Imports ``hyperspy.api`` and this package, failing on any warning but
#: exspy 0.3's own deprecation notice for hyperspy 2.5's private imports.
_IMPORT_WITHOUT_WARNINGS = """
import warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import hyperspy.api as hs
    import hyperspy_eelspecnet
others = [str(w.message) for w in caught if not str(w.message).startswith("Importing `")]
assert not others, others
"""


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _IMPORT_WITHOUT_WARNINGS + code],
                          capture_output=True, text=True, timeout=300)


def test_import_does_not_pull_in_tensorflow_or_keras():
    result = _run(
        "import sys, hyperspy_eelspecnet, hyperspy_eelspecnet.training, "
        "hyperspy_eelspecnet.metrics\n"
        "bad = [m for m in sys.modules\n"
        "       if m.split('.')[0] in ('tensorflow', 'keras', 'jax', 'torch')]\n"
        "assert not bad, bad[:5]"
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_methods_registered_on_eager_and_lazy_eels_signals():
    result = _run(
        "import hyperspy.api as hs, numpy as np, exspy, hyperspy_eelspecnet\n"
        "s = hs.signals.Signal1D(np.ones((2, 100))); s.set_signal_type('EELS')\n"
        "for sig in (s, s.as_lazy()):\n"
        "    assert callable(sig.deconvolve_eelspecnet) and callable(sig.richardson_lucy)\n"
        "print(type(s.as_lazy()).__name__)"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "LazyEELSSpectrum" in result.stdout


def test_extension_yaml_is_found_and_loads_without_warnings():
    names = [e.name for e in entry_points(group="hyperspy.extensions")]
    assert "hyperspy_eelspecnet" in names
    result = _run("")
    assert result.returncode == 0, result.stderr[-2000:]


def test_shipped_models_have_cards_and_valid_weights():
    models = hyperspy_eelspecnet.list_models()
    assert {"nzeels-2048", "nzeels-2048-nozlp"} <= set(models)
    for name, card in models.items():
        spec = resolve_model(name)
        assert spec.card.name == card.name == name
        assert spec.sha256 == card.weights_sha256
        assert (spec.path / "model.keras").stat().st_size < 20e6
        assert card.evaluation is not None and card.real_data is not None
        assert card.training.command.startswith("eelspecnet train")
