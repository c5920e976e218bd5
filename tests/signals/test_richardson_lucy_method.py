"""s.richardson_lucy: equal to exspy's, eager and lazy, one or many PSFs."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import eels_signal


def _psf_signal(channels=300, width=6.0):
    import exspy

    x = np.arange(channels) - channels // 2
    psf = exspy.signals.EELSSpectrum(1.0 / (1 + (2 * x / width) ** 2))
    psf.axes_manager[-1].scale = 0.005
    psf.metadata.General.title = "vacuum ZLP"
    return psf


def _relative_difference(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    strong = b > 1e-3 * b.max()
    return np.max(np.abs(a - b)[strong] / b[strong])


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
class TestRichardsonLucy:
    def test_equals_exspy_with_one_psf(self, lazy):
        # exspy needs the PSF as long as the data (ours does not).
        s, psf = eels_signal(), _psf_signal(channels=300)
        expected = s.richardson_lucy_deconvolution(psf, iterations=15, show_progressbar=False)
        r = (s.as_lazy() if lazy else s).richardson_lucy(psf, iterations=15)
        assert r._lazy == lazy
        if lazy:
            r.compute()
        assert _relative_difference(r.data, expected.data) < 1e-4

    def test_equals_exspy_with_one_psf_per_pixel(self, lazy):
        s = eels_signal()
        psfs = abs(eels_signal(channels=300, seed=9))  # blurred spectra as PSFs
        expected = s.richardson_lucy_deconvolution(psfs, iterations=5, show_progressbar=False)
        r = (s.as_lazy() if lazy else s).richardson_lucy(psfs.as_lazy() if lazy else psfs,
                                                         iterations=5)
        if lazy:
            r.compute()
        assert _relative_difference(r.data, expected.data) < 1e-4

    def test_axes_metadata_and_input_kept(self, lazy):
        s = eels_signal(lazy=lazy)
        before = np.array(s.data)
        r = s.richardson_lucy(_psf_signal(), iterations=3)
        assert [a.scale for a in r.axes_manager._axes] == [a.scale for a in s.axes_manager._axes]
        assert r.axes_manager.signal_axes[0].offset == s.axes_manager.signal_axes[0].offset
        prov = r.metadata.Signal.Deconvolution
        assert (prov.method, prov.iterations, prov.psf) == ("Richardson-Lucy", 3, "vacuum ZLP")
        assert r.metadata.General.title == "test map (Richardson-Lucy 3 it.)"
        np.testing.assert_array_equal(np.array(s.data), before)
        assert "Deconvolution" not in s.metadata.Signal


@pytest.mark.parametrize("iterations", [0, -3, 2.5, True])
def test_bad_iterations(iterations):
    with pytest.raises(ValueError, match="iterations must be an integer >= 1"):
        eels_signal().richardson_lucy(_psf_signal(), iterations=iterations)


def test_numpy_integer_iterations_recorded_as_an_int():
    r = eels_signal(shape=(2,)).richardson_lucy(_psf_signal(), iterations=np.int64(3))
    assert type(r.metadata.Signal.Deconvolution.iterations) is int
    assert r.metadata.General.title == "test map (Richardson-Lucy 3 it.)"


def test_psf_of_wrong_navigation_shape():
    with pytest.raises(ValueError, match="navigation shape"):
        eels_signal(shape=(3, 4)).richardson_lucy(eels_signal(shape=(2, 2)), iterations=2)


def test_psf_shorter_than_the_data_is_centred_on_its_maximum():
    """A short PSF gives what its zero-padded, equally centred copy gives."""
    s = eels_signal()
    short = _psf_signal(channels=121)
    padded = _psf_signal(channels=121)
    padded.data = np.pad(short.data, (90, 89))
    a = s.richardson_lucy(short, iterations=5)
    b = s.richardson_lucy(padded, iterations=5)
    np.testing.assert_allclose(a.data, b.data, rtol=1e-5, atol=1e-7 * b.data.max())


def test_unnormalised_psf_gives_the_normalised_result():
    s, psf = eels_signal(), _psf_signal()
    scaled = psf * 37.0
    a = s.richardson_lucy(psf, iterations=5)
    b = s.richardson_lucy(scaled, iterations=5)
    np.testing.assert_allclose(a.data, b.data, rtol=1e-5)
