"""s.deconvolve_eelspecnet: axes, metadata, counts, laziness, bad input."""

from __future__ import annotations

import warnings

import dask.array as da
import numpy as np
import pytest
from conftest import eels_signal

import hyperspy_eelspecnet
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
        s = eels_signal(lazy=lazy)
        r = _deconvolve(s, tiny_model)
        if lazy:
            r.compute()
            s.compute()
        np.testing.assert_allclose(r.data.sum(-1), s.data.sum(-1), rtol=1e-3)
        assert r.data.dtype == np.float32

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
        r = _deconvolve(s, tiny_model)
        assert r.data.dtype == np.float32
        assert s.data.dtype == np.int32

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
    s.data = np.apply_along_axis(lambda x: np.convolve(x, kernel / kernel.sum(), "same"), -1, s.data)
    with pytest.warns(OutOfDomainWarning, match=r"\d+ of 12 spectra have a ZLP FWHM of [\d.]+ to [\d.]+ channels") as record:
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


def test_energy_axis_not_in_ev_warns(tiny_model):
    s = eels_signal(shape=(2,))
    s.axes_manager.signal_axes[0].units = "meV"
    with pytest.warns(UserWarning, match="not 'eV'"):
        _deconvolve(s, tiny_model)


def test_negative_counts_warn(tiny_model):
    s = eels_signal(shape=(2,))
    s.data[:, 200:] -= 0.05 * s.data.max()
    with pytest.warns(OutOfDomainWarning, match="negative counts"):
        s.deconvolve_eelspecnet(str(tiny_model))


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
        hyperspy_eelspecnet.signals.deconvolution.deconvolve_eelspecnet(make(eels_signal()), str(tiny_model))


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
