"""The precision option: the processor check, ``"auto"``, bfloat16 networks."""

from __future__ import annotations

import numpy as np
import pytest

from hyperspy_eelspecnet.inference import precision
from hyperspy_eelspecnet.models.registry import load_network, resolve_model

#: The start of a Linux ``/proc/cpuinfo``; ``{extra}`` adds flags.
CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
flags\t\t: fpu vme sse2 avx2 avx512f avx512bw {extra}
vmx flags\t: vnmi preemption_timer
bugs\t\t: spectre_v1 spectre_v2
"""


@pytest.fixture
def cpuinfo(tmp_path, monkeypatch):
    """Write a fake ``/proc/cpuinfo`` with the given extra flags, on Linux."""
    def write(extra: str):
        path = tmp_path / "cpuinfo"
        path.write_text(CPUINFO.format(extra=extra))
        monkeypatch.setattr(precision, "CPUINFO", path)
        monkeypatch.setattr(precision.sys, "platform", "linux")
    return write


@pytest.mark.parametrize("extra, native", [
    ("", False), ("avx512_bf16", True), ("amx_bf16 amx_tile", True), ("avx512_bf16x", False),
])
def test_native_bfloat16_reads_the_cpu_flags(cpuinfo, extra, native):
    cpuinfo(extra)
    assert precision.native_bfloat16() is native


def test_no_native_bfloat16_off_linux_or_without_cpuinfo(cpuinfo, monkeypatch, tmp_path):
    cpuinfo("avx512_bf16 amx_bf16")
    monkeypatch.setattr(precision.sys, "platform", "darwin")
    assert precision.native_bfloat16() is False
    monkeypatch.setattr(precision.sys, "platform", "linux")
    monkeypatch.setattr(precision, "CPUINFO", tmp_path / "missing")
    assert precision.native_bfloat16() is False


def test_auto_is_float32_until_bfloat16_is_shown_to_keep_the_figures(monkeypatch):
    monkeypatch.setattr(precision, "native_bfloat16", lambda: True)
    assert precision.AUTO_USES_BFLOAT16 is False
    assert precision.resolve_precision("auto") == "float32"
    monkeypatch.setattr(precision, "AUTO_USES_BFLOAT16", True)
    assert precision.resolve_precision("auto") == "bfloat16"
    monkeypatch.setattr(precision, "native_bfloat16", lambda: False)
    assert precision.resolve_precision("auto") == "float32"
    assert [precision.resolve_precision(p) for p in ("float32", "bfloat16")] == [
        "float32", "bfloat16"]


def test_unknown_precision_names_the_allowed_values():
    with pytest.raises(ValueError, match="unknown precision 'fp16': give one of "
                                         "'auto', 'float32', 'bfloat16'"):
        precision.resolve_precision("fp16")
    with pytest.raises(ValueError, match="unknown network precision 'auto'"):
        load_network("anywhere", "0", "auto")


def test_bfloat16_network_is_the_saved_network_in_mixed_bfloat16(tiny_model):
    """Same layers and weights; mixed_bfloat16 but for the float32 output.

    Its outputs on the exported test input are within 1 % of the largest
    float32 output (bfloat16 keeps 8 bits of mantissa: 0.4 % a value).
    """
    import keras

    spec = resolve_model(tiny_model)
    single = load_network(str(spec.path), spec.sha256, "float32")
    half = load_network(str(spec.path), spec.sha256, "bfloat16")
    assert load_network(str(spec.path), spec.sha256, "bfloat16") is half  # cached
    assert keras.config.dtype_policy().name == "float32"
    policies = {layer.name: layer.dtype_policy.name for layer in half.layers
                if not isinstance(layer, keras.layers.InputLayer)}
    assert policies.pop(half.output_names[0]) == "float32"
    assert set(policies.values()) == {"mixed_bfloat16"}
    assert [layer.name for layer in half.layers] == [layer.name for layer in single.layers]
    for a, b in zip(single.get_weights(), half.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    expected = np.load(spec.path / "test_output.npy")
    restored = np.asarray(half.predict_on_batch(np.load(spec.path / "test_input.npy")))
    assert restored.dtype == np.float32
    assert np.abs(restored - expected).max() < 0.01 * np.abs(expected).max()
