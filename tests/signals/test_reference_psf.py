"""``deconvolve_eelspecnet(psf=...)``: a model that takes the vacuum ZLP."""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import pytest
from conftest import eels_signal

from hyperspy_eelspecnet.inference.restore import restore_spectra
from hyperspy_eelspecnet.models.registry import resolve_model


@pytest.fixture(scope="module")
def vacuum():
    """A vacuum-like recording: one spectrum with the test maps' calibration."""
    psf = eels_signal(shape=(1,), seed=9).inav[0]
    psf.metadata.General.title = "vacuum ZLP"
    return psf


@pytest.fixture(params=["channel", "refined"])
def reference_model(request):
    """A model given the reference as an input channel, and the shipped refined one."""
    if request.param == "channel":
        return request.getfixturevalue("tiny_reference_model")
    return "nzeels-2048-psf"


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_one_reference_for_every_pixel(reference_model, vacuum, lazy):
    s = eels_signal(lazy=lazy)
    result = s.deconvolve_eelspecnet(reference_model, psf=vacuum)
    if lazy:
        result.compute()
    data = eels_signal().data.reshape(-1, 300)
    expected = restore_spectra(data, resolve_model(reference_model),
                               reference=vacuum.data)
    np.testing.assert_allclose(result.data.reshape(-1, 300), expected, rtol=1e-5,
                               atol=1e-6 * data.max())
    provenance = result.metadata.Signal.Deconvolution
    assert provenance.psf == "vacuum ZLP"
    assert provenance.psf_sha256 == hashlib.sha256(
        vacuum.data.astype(np.float64).tobytes()).hexdigest()


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_one_reference_per_pixel(reference_model, vacuum, lazy):
    s = eels_signal(lazy=lazy)
    shared = s.deconvolve_eelspecnet(reference_model, psf=vacuum)
    references = eels_signal(seed=11)  # another spectrum per pixel, same navigation shape
    tiled = references._deepcopy_with_new_data(
        np.broadcast_to(vacuum.data, references.data.shape).copy())
    own = s.deconvolve_eelspecnet(reference_model, psf=references)
    same = s.deconvolve_eelspecnet(reference_model, psf=tiled)
    for r in (shared, own, same):
        if lazy:
            r.compute()
    np.testing.assert_allclose(same.data, shared.data, rtol=1e-5, atol=1e-3)
    assert not np.allclose(own.data, shared.data, rtol=1e-3)


def test_reference_with_another_offset_and_length(reference_model, vacuum):
    s = eels_signal()
    expected = s.deconvolve_eelspecnet(reference_model, psf=vacuum)
    longer = vacuum._deepcopy_with_new_data(np.concatenate([np.zeros(40), vacuum.data,
                                                            np.zeros(25)]))
    longer.axes_manager.signal_axes[0].offset -= 40 * 0.005
    # to 0.1 %, and 1e-5 of the maximum: the refinement's float32 FFTs have another
    # length, and the channels beside the ZLP that it leaves nearly empty differ by that
    np.testing.assert_allclose(s.deconvolve_eelspecnet(reference_model, psf=longer).data,
                               expected.data, rtol=1e-3, atol=1e-5 * expected.data.max())


def test_dark_subtracted_reference_counts_its_negative_channels_as_zero(reference_model,
                                                                      vacuum):
    # A recording with its dark level subtracted: noise about zero in the tails, as
    # the WS2 session's vacuum files have. Both methods read it as richardson_lucy
    # does, its negative channels as zero, and the user's recording is left as it is.
    s = eels_signal()
    rng = np.random.default_rng(4)
    level = np.median(vacuum.data)  # these test spectra's tails: a level, no loss peaks
    dark = vacuum._deepcopy_with_new_data(
        vacuum.data - level * (1 + 0.1 * rng.standard_normal(300)))
    given = dark.data.copy()
    assert (given < 0).sum() > 50
    clipped = dark._deepcopy_with_new_data(np.clip(given, 0, None))
    np.testing.assert_allclose(s.deconvolve_eelspecnet(reference_model, psf=dark).data,
                               s.deconvolve_eelspecnet(reference_model, psf=clipped).data,
                               rtol=1e-6, atol=1e-6 * s.data.max())
    np.testing.assert_array_equal(dark.data, given)


def test_reference_of_another_dispersion_is_refused_naming_both(tiny_reference_model, vacuum):
    other = vacuum.deepcopy()
    other.axes_manager.signal_axes[0].scale = 0.0052
    with pytest.raises(ValueError, match=r"the PSF has 0\.0052 eV per channel, the data "
                                         r"0\.005 eV"):
        eels_signal().deconvolve_eelspecnet(tiny_reference_model, psf=other)
    with pytest.raises(ValueError, match="richardson_lucy: the PSF has 0.0052 eV"):
        eels_signal().richardson_lucy(other, 5)
    # Within 1 %, and in meV, it is the same dispersion.
    close = vacuum.deepcopy()
    close.axes_manager.signal_axes[0].scale = 0.00502
    eels_signal().richardson_lucy(close, 5)
    in_mev = vacuum.deepcopy()
    axis = in_mev.axes_manager.signal_axes[0]
    axis.scale, axis.offset, axis.units = 5.0, axis.offset * 1000, "meV"
    eels_signal().deconvolve_eelspecnet(tiny_reference_model, psf=in_mev)


def test_blind_model_refuses_a_psf_and_reference_model_needs_one(tiny_model,
                                                                 tiny_reference_model, vacuum):
    s = eels_signal(lazy=True)
    with pytest.raises(ValueError, match="is blind: it takes no vacuum reference"):
        s.deconvolve_eelspecnet(tiny_model, psf=vacuum)
    # Refused at the call, before anything is computed.
    with pytest.raises(ValueError, match="needs the measured vacuum ZLP: pass psf="):
        s.deconvolve_eelspecnet(tiny_reference_model)


@pytest.mark.parametrize("method", ["network", "richardson_lucy"])
@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_wrong_reference_warns_and_the_right_one_does_not(tiny_reference_model, lazy, method):
    import exspy

    from hyperspy_eelspecnet.inference.domain import ReferenceMismatchWarning

    rng = np.random.default_rng(4)
    channels = np.arange(300)

    def zlp(centre, fwhm, eta):  # eta: the Lorentzian share, the long tails
        x = (channels - centre) / (fwhm / 2)
        return eta / (1 + x**2) + (1 - eta) * np.exp(-np.log(2) * x**2)

    data = rng.poisson(1e4 * (zlp(80.3, 5, 0.3) + 2e-3 * zlp(110, 4, 0.5)), (3, 4, 300))
    s = exspy.signals.EELSSpectrum(data.astype(float))
    s.axes_manager.signal_axes[0].scale = 0.005
    s = s.as_lazy() if lazy else s
    for psf, wrong in ((1e6 * zlp(60.0, 5, 0.3), False), (1e6 * zlp(60.0, 5, 0.0), True)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = (s.deconvolve_eelspecnet(tiny_reference_model, psf=psf)
                      if method == "network" else s.richardson_lucy(psf, iterations=5))
            if lazy:
                result.compute()
        mismatch = [w for w in caught if issubclass(w.category, ReferenceMismatchWarning)]
        assert len(mismatch) == int(wrong)
