"""s.deconvolve_eelspecnet: axes, metadata, counts, laziness, bad input."""

from __future__ import annotations

import re
import warnings

import dask.array as da
import numpy as np
import pytest
from conftest import eels_signal
from hyperspy.exceptions import SignalDimensionError

import hyperspy_eelspecnet
from hyperspy_eelspecnet.inference.blocks import spectrum_chunks
from hyperspy_eelspecnet.inference.domain import OutOfDomainWarning
from hyperspy_eelspecnet.inference.restore import restore_spectra
from hyperspy_eelspecnet.models.registry import resolve_model


def _axes(signal):
    return [
        (a.name, a.size, a.scale, a.offset, a.units) for a in signal.axes_manager._axes
    ]


def _deconvolve(signal, model, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutOfDomainWarning)
        return signal.deconvolve_eelspecnet(str(model), **kwargs)


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
class TestDeconvolve:
    def test_axes_metadata_and_class_kept(self, tiny_model, lazy):
        s = eels_signal(lazy=lazy)
        r = _deconvolve(s, tiny_model)
        assert type(r) is type(s)
        assert r._lazy == lazy
        assert _axes(r) == _axes(s)
        assert r.metadata.Signal.signal_type == "EELS"
        assert r.original_metadata.Acquisition.exposure == 0.01
        assert r.metadata.General.title == "test map (EELSpecNet tiny-test)"
        prov = r.metadata.Signal.Deconvolution
        assert prov.model == "tiny-test"
        assert prov.weights_sha256 == resolve_model(tiny_model).sha256
        assert prov.package == "hyperspy_eelspecnet"

    def test_total_counts_kept(self, tiny_model, lazy):
        s = eels_signal()
        s.data = s.data.astype(np.float64)  # float32 out whatever comes in
        if lazy:
            s = s.as_lazy()
        r = _deconvolve(s, tiny_model)
        if lazy:
            r.compute()
            s.compute()
        np.testing.assert_allclose(r.data.sum(-1), s.data.sum(-1), rtol=1e-3)
        assert s.data.dtype == np.float64 and r.data.dtype == np.float32

    def test_input_untouched(self, tiny_model, lazy):
        s = eels_signal(lazy=lazy)
        before = np.array(s.data)
        title, axes = s.metadata.General.title, _axes(s)
        _deconvolve(s, tiny_model)
        np.testing.assert_array_equal(np.array(s.data), before)
        assert s.metadata.General.title == title and _axes(s) == axes
        assert "Deconvolution" not in s.metadata.Signal

    def test_inplace(self, tiny_model, lazy):
        s = eels_signal(lazy=lazy)
        expected = _deconvolve(eels_signal(lazy=lazy), tiny_model)
        assert _deconvolve(s, tiny_model, inplace=True) is None
        np.testing.assert_allclose(np.array(s.data), np.array(expected.data))
        assert s.metadata.Signal.Deconvolution.model == "tiny-test"

    def test_integer_counts_from_dm4(self, tiny_model, lazy):
        s = eels_signal(lazy=lazy)
        s.data = (s.data.round()).astype(np.int32)
        counts = np.array(s.data)
        r = _deconvolve(s, tiny_model)
        assert r.data.dtype == np.float32
        # The input keeps its integer counts: not converted in place.
        np.testing.assert_array_equal(np.array(s.data), counts, strict=True)
        # Restored from the counts, not from a wrapped or truncated cast.
        np.testing.assert_allclose(np.array(r.data).sum(-1), counts.sum(-1), rtol=1e-3)

    def test_nan_is_an_error_and_input_kept(self, tiny_model, lazy):
        s = eels_signal()
        s.data[1, 2, 10] = np.nan
        if lazy:
            s = s.as_lazy()
        with pytest.raises(ValueError, match="NaN or infinite"):
            r = _deconvolve(s, tiny_model)
            r.compute()
        assert np.isnan(np.array(s.data)[1, 2, 10])


def test_lazy_runs_nothing_before_compute(tiny_model, monkeypatch):
    calls = []
    import hyperspy_eelspecnet.signals.deconvolution as methods

    original = methods.restore_spectra
    monkeypatch.setattr(methods, "restore_spectra",
                        lambda *a, **k: calls.append(1) or original(*a, **k))
    r = _deconvolve(eels_signal(lazy=True), tiny_model)
    assert calls == [] and isinstance(r.data, da.Array)
    r.compute()
    assert calls


def test_eager_equals_lazy_with_many_chunks(tiny_model):
    s = eels_signal(shape=(6, 5))
    lazy = s.as_lazy()
    lazy.data = lazy.data.rechunk((2, 3, -1))
    eager = _deconvolve(s, tiny_model)
    r = _deconvolve(lazy, tiny_model)
    r.compute()
    np.testing.assert_allclose(r.data, eager.data, rtol=1e-5, atol=1e-4)


def test_energy_axis_split_across_chunks_is_rechunked(tiny_model):
    lazy = eels_signal(lazy=True)
    lazy.data = lazy.data.rechunk((1, 2, 100))
    r = _deconvolve(lazy, tiny_model)
    assert r.data.chunksize[-1] == lazy.data.shape[-1]
    assert r.data.chunks == spectrum_chunks(lazy.data).chunks  # the one chunking helper's


@pytest.mark.parametrize("channels, zlp", [(200, 20), (256, 50), (300, 150), (700, 60)])
def test_any_channel_count_and_zlp_position(tiny_model, channels, zlp):
    s = eels_signal(shape=(2, 2), channels=channels, zlp_channel=zlp)
    r = _deconvolve(s, tiny_model)
    assert r.data.shape == s.data.shape
    assert np.isfinite(r.data).all()
    np.testing.assert_allclose(r.data.sum(-1), s.data.sum(-1), rtol=1e-3)


def test_alignment_matches_restoring_a_shifted_copy(tiny_model):
    """A spectrum shifted by whole channels restores to the shifted restoration."""
    spec = resolve_model(tiny_model)
    s = eels_signal(shape=(4,), channels=256, zlp_channel=50).data
    s[:, -30:] = 0  # what the shift pushes out
    shifted = np.zeros_like(s)
    shifted[:, 30:] = s[:, :-30]
    a = restore_spectra(s, spec)
    b = restore_spectra(shifted, spec)
    # Equal up to the scale set by what the shift pushed off the end.
    a, b = a[:, :-30], b[:, 30:]
    np.testing.assert_allclose(b / b.sum(-1, keepdims=True), a / a.sum(-1, keepdims=True),
                               rtol=1e-4, atol=1e-6)


def test_out_of_domain_zlp_width_warns_once_with_numbers(tiny_model):
    s = eels_signal(shape=(3, 4))
    # Broaden every spectrum far beyond the trained ZLP widths.
    kernel = np.exp(-0.5 * (np.arange(-60, 61) / 15.0) ** 2)
    s.data = np.apply_along_axis(lambda x: np.convolve(x, kernel / kernel.sum(), "same"), -1,
                                 s.data)
    message = r"\d+ of 12 spectra have a ZLP FWHM of [\d.]+ to [\d.]+ channels"
    with pytest.warns(OutOfDomainWarning, match=message) as record:
        s.deconvolve_eelspecnet(str(tiny_model))
    assert sum("ZLP FWHM" in str(w.message) for w in record) == 1


def test_no_zlp_warns(tiny_model):
    s = eels_signal(shape=(2,))
    s.data = np.ones_like(s.data) + np.random.default_rng(0).uniform(0, 0.1, s.data.shape)
    with pytest.warns(OutOfDomainWarning, match="no zero-loss peak"):
        s.deconvolve_eelspecnet(str(tiny_model))


def test_spectra_longer_past_the_zlp_than_trained_warn(tiny_model):
    s = eels_signal(shape=(2,), channels=700, zlp_channel=60)  # tiny model: 205 channels
    with pytest.warns(OutOfDomainWarning, match=r"extend \d+ to \d+ channels past the ZLP"):
        s.deconvolve_eelspecnet(str(tiny_model))


def test_negative_counts_warn(tiny_model):
    s = eels_signal(shape=(2,))
    s.data[:, 200:] -= 0.05 * s.data.max()
    with pytest.warns(OutOfDomainWarning, match="negative counts"):
        s.deconvolve_eelspecnet(str(tiny_model))


def _zlp_over_a_flat_level(level: float, lazy: bool = False):
    """A ZLP of 1e5 counts (FWHM 6 channels) over ``level``, read noise of 2 counts."""
    s = eels_signal(shape=(3,), channels=256, zlp_channel=50)
    x = np.arange(256)
    zlp = 1e5 * np.exp(-4 * np.log(2) * ((x - 50) / 6.0) ** 2)
    noise = np.random.default_rng(0).normal(0.0, 2.0, s.data.shape)
    s.data = (zlp + level + noise).astype(np.float32)
    return s.as_lazy() if lazy else s


DARK_LEVEL = (r"3 of 3 spectra.* lie below zero past the ZLP: .* the mean is (\S+) to (\S+) "
              r"counts and the median \S+ to \S+, (\S+) to (\S+) noise sigmas below zero")


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_over_subtracted_dark_level_warns_with_its_mean_and_sigmas(tiny_model, lazy):
    s = _zlp_over_a_flat_level(-10.0, lazy)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", OutOfDomainWarning)
        r = s.deconvolve_eelspecnet(str(tiny_model))
        if lazy:
            r.compute()
    messages = [str(w.message) for w in record if w.category is OutOfDomainWarning]
    dark = [m for m in messages if "below zero past the ZLP" in m]
    assert len(dark) == 1, messages
    # The minimum, -1e-4 of the maximum, is no "negative counts" case.
    assert not any("negative counts" in m for m in messages)
    levels = re.search(DARK_LEVEL, dark[0]).groups()
    mean_low, mean_high, sigmas_low, sigmas_high = map(float, levels)
    assert -10.5 < mean_low <= mean_high < -9.5
    assert 3.5 < sigmas_low <= sigmas_high < 7.0  # 10 counts under a noise of 2
    assert "Check the dark reference and the dark subtraction" in dark[0]


def test_noise_around_zero_past_the_zlp_does_not_warn_of_the_dark_level(tiny_model):
    s = _zlp_over_a_flat_level(0.0)
    assert (s.data[:, 70:] < 0).mean() > 0.3  # many negative channels, mean about 0
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", OutOfDomainWarning)
        s.deconvolve_eelspecnet(str(tiny_model))
    assert not [w for w in record if "below zero" in str(w.message)]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda s: s.T, "signal dimension 1"),
        (lambda s: s.isig[:10], "at least 64 channels"),
    ],
    ids=["image", "too-few-channels"],
)
def test_bad_signals_raise(tiny_model, make, message):
    with pytest.raises(ValueError, match=message):
        hyperspy_eelspecnet.signals.deconvolution.deconvolve_eelspecnet(make(eels_signal()),
                                                                        str(tiny_model))


@pytest.mark.parametrize("method", ["deconvolve_eelspecnet", "richardson_lucy"])
def test_not_spectra_raise_hyperspys_signal_dimension_error(tiny_model, method):
    argument = str(tiny_model) if method == "deconvolve_eelspecnet" else np.ones(9)
    with pytest.raises(SignalDimensionError, match=r"^\w+ needs spectra \(signal dimension 1\), "
                       r"got signal dimension 2; .*as_signal1D") as error:
        getattr(hyperspy_eelspecnet.signals.deconvolution, method)(eels_signal().T, argument)
    assert (error.value.output_dimension, error.value.expected_output_dimension) == (2, 1)
    assert isinstance(error.value, ValueError)  # what it was: `except ValueError` still catches it


def test_non_uniform_axis_raises(tiny_model):
    s = eels_signal(shape=(2,))
    s.axes_manager.signal_axes[0].convert_to_non_uniform_axis()
    with pytest.raises(ValueError, match="uniform energy axis"):
        s.deconvolve_eelspecnet(str(tiny_model))


def test_unknown_model_lists_available():
    with pytest.raises(ValueError, match="unknown model 'nope'.*shipped models"):
        eels_signal().deconvolve_eelspecnet("nope")


def test_model_directory_without_weights(tmp_path):
    (tmp_path / "card.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="has no model.keras"):
        eels_signal().deconvolve_eelspecnet(str(tmp_path))


def test_corrupt_weights(tiny_model, tmp_path):
    import shutil

    broken = shutil.copytree(tiny_model, tmp_path / "broken")
    weights = broken / "model.keras"
    weights.write_bytes(weights.read_bytes()[:1000])
    s = eels_signal()
    with pytest.raises(OSError, match="corrupt"):
        s.deconvolve_eelspecnet(str(broken))
    assert s.metadata.General.title == "test map"


def test_precision_is_recorded_and_bfloat16_restores_like_float32(tiny_model):
    """bfloat16 arithmetic moves each restored spectrum by under 1 % of its L1 norm."""
    s = eels_signal()
    default = _deconvolve(s, tiny_model)
    single = _deconvolve(s, tiny_model, precision="float32")
    half = _deconvolve(s, tiny_model, precision="bfloat16")
    assert default.metadata.Signal.Deconvolution.precision == "float32"  # auto, for now
    assert single.metadata.Signal.Deconvolution.precision == "float32"
    assert half.metadata.Signal.Deconvolution.precision == "bfloat16"
    np.testing.assert_array_equal(default.data, single.data)
    assert not np.array_equal(half.data, single.data)  # it did compute in bfloat16
    moved = np.abs(half.data - single.data).sum(-1) / np.abs(single.data).sum(-1)
    assert moved.max() < 0.01
    np.testing.assert_allclose(half.data.sum(-1), s.data.sum(-1), rtol=1e-3)


def test_unknown_precision_raises_naming_the_allowed_values(tiny_model):
    with pytest.raises(ValueError, match="unknown precision 'float16': give one of "
                                         "'auto', 'float32', 'bfloat16'"):
        eels_signal().deconvolve_eelspecnet(str(tiny_model), precision="float16")
