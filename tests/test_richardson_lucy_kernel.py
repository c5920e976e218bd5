"""The batched Richardson-Lucy kernel against exspy's own method."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from hyperspy_eelspecnet import richardson_lucy
from hyperspy_eelspecnet.richardson_lucy import (
    centre_psf,
    convolve_psf,
    richardson_lucy_kernel,
)

exspy = pytest.importorskip("exspy")

NAV = (3, 2)
CHANNELS = 256
PSF_CHANNELS = 101
ITERATIONS = 20


def _blurred_peaks(rng: np.random.Generator) -> np.ndarray:
    """Gaussian-blurred peaks on a small background, shape NAV + (256,)."""
    x = np.arange(CHANNELS)
    data = np.full(NAV + (CHANNELS,), 1e-2)
    for index in np.ndindex(NAV):
        centres = rng.uniform(30, 220, 4)
        widths = rng.uniform(1, 4, 4)
        heights = rng.uniform(0.2, 1, 4)
        for c, w, h in zip(centres, widths, heights):
            data[index] += h * np.exp(-0.5 * ((x - c) / w) ** 2)
    return gaussian_filter1d(data, 3, axis=-1) + rng.normal(0, 1e-3, data.shape)


def _vacuum_psf(centre: float, width: float) -> np.ndarray:
    """A Lorentzian-tailed ZLP of PSF_CHANNELS channels, not normalised."""
    x = np.arange(PSF_CHANNELS)
    return 5.0 / (1 + ((x - centre) / width) ** 2) + 1e-4


def _eels(data: np.ndarray):
    """An exspy EELSSpectrum with a calibrated energy axis."""
    signal = exspy.signals.EELSSpectrum(data)
    axis = signal.axes_manager.signal_axes[0]
    axis.scale, axis.offset = 0.005, -0.2
    return signal


def _exspy_rl(data: np.ndarray, psf: np.ndarray) -> np.ndarray:
    """exspy's result, the PSF zero-padded to the data's length.

    exspy only accepts a PSF of the data's length; zero-padding after the
    PSF leaves its centring on the maximum unchanged.
    """
    padded = np.zeros(psf.shape[:-1] + (CHANNELS,))
    padded[..., :PSF_CHANNELS] = psf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = _eels(data).richardson_lucy_deconvolution(
            _eels(padded), iterations=ITERATIONS, show_progressbar=False
        )
    return result.data


def _assert_close(ours: np.ndarray, reference: np.ndarray) -> None:
    """Relative difference < 1e-4 where above 1e-3 of the maximum."""
    assert ours.dtype == np.float64
    assert ours.shape == reference.shape
    significant = np.abs(reference) > 1e-3 * np.abs(reference).max()
    relative = np.abs(ours - reference)[significant] / np.abs(reference)[significant]
    assert relative.max() < 1e-4


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return _blurred_peaks(np.random.default_rng(0))


def test_single_psf_matches_exspy(data: np.ndarray) -> None:
    psf = _vacuum_psf(37.0, 4.0)
    ours = richardson_lucy_kernel(data.reshape(-1, CHANNELS), psf, ITERATIONS)
    _assert_close(ours.reshape(data.shape), _exspy_rl(data, psf))


def test_per_spectrum_psf_matches_exspy(data: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    psf = np.stack(
        [_vacuum_psf(c, w) for c, w in zip(rng.uniform(20, 80, 6), rng.uniform(2, 6, 6))]
    ).reshape(NAV + (PSF_CHANNELS,))
    ours = richardson_lucy_kernel(
        data.reshape(-1, CHANNELS), psf.reshape(-1, PSF_CHANNELS), ITERATIONS
    )
    _assert_close(ours.reshape(data.shape), _exspy_rl(data, psf))


def test_zero_channels_match_exspy(data: np.ndarray) -> None:
    holed = data.copy()
    holed[..., 120:125] = 0.0
    psf = _vacuum_psf(50.0, 3.0)
    ours = richardson_lucy_kernel(holed.reshape(-1, CHANNELS), psf, ITERATIONS)
    reference = _exspy_rl(holed, psf)
    _assert_close(ours.reshape(holed.shape), reference)
    assert np.all(ours.reshape(holed.shape)[..., 120:125] == 0)


def _direct_rl(spectrum: np.ndarray, psf: np.ndarray, iterations: int) -> np.ndarray:
    """exspy's loop, sliced to the data's length, for any PSF length."""
    kernel = psf / psf.sum()
    imax, n = kernel.argmax(), spectrum.size
    start = kernel.size - 1 - imax
    estimate = spectrum.copy()
    for _ in range(iterations):
        blurred = np.convolve(kernel, estimate)[imax : imax + n]
        estimate *= np.convolve(kernel[::-1], spectrum / blurred)[start : start + n]
    return estimate


@pytest.mark.parametrize(
    ("n_channels", "n_psf", "peak"),
    [
        (64, 101, 70),
        (64, 101, 0),
        (64, 101, 100),
        (97, 31, 15),
        (97, 31, 0),
        (97, 31, 30),
        (1, 7, 3),
    ],
)
def test_any_psf_length_and_peak_matches_direct_convolution(
    n_channels: int, n_psf: int, peak: int
) -> None:
    rng = np.random.default_rng(2)
    data = rng.uniform(0.5, 1.5, (3, n_channels))
    psf = rng.uniform(0.0, 0.5, n_psf)
    psf[peak] = 2.0
    ours = richardson_lucy_kernel(data, psf, 5)
    for spectrum, result in zip(data, ours):
        np.testing.assert_allclose(result, _direct_rl(spectrum, psf, 5), rtol=1e-9)


def test_blocks_give_the_same_result(data: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    spectra = data.reshape(-1, CHANNELS)
    psf = np.stack([_vacuum_psf(c, 3.0) for c in rng.uniform(20, 80, spectra.shape[0])])
    whole = richardson_lucy_kernel(spectra, psf, 5)
    monkeypatch.setattr(richardson_lucy, "BLOCK_SPECTRA", 4)
    np.testing.assert_allclose(richardson_lucy_kernel(spectra, psf, 5), whole, rtol=1e-12)


def test_one_spectrum_keeps_its_shape(data: np.ndarray) -> None:
    psf = _vacuum_psf(37.0, 4.0)
    block = richardson_lucy_kernel(data.reshape(-1, CHANNELS), psf, 3)
    single = richardson_lucy_kernel(data[0, 0], psf, 3)
    assert single.shape == (CHANNELS,)
    np.testing.assert_allclose(single, block[0], rtol=1e-12)


def test_psf_scale_does_not_matter_and_psf_is_not_modified(data: np.ndarray) -> None:
    psf = _vacuum_psf(37.0, 4.0)
    psf[0] = -1e-3
    before = psf.copy()
    spectra = data.reshape(-1, CHANNELS)
    raw = richardson_lucy_kernel(spectra, psf, 10)
    np.testing.assert_array_equal(psf, before)
    clipped = np.clip(psf, 0, None)
    normalised = richardson_lucy_kernel(spectra, clipped / clipped.sum(), 10)
    np.testing.assert_allclose(raw, normalised, rtol=1e-10)


def test_all_zero_spectrum_stays_zero(data: np.ndarray) -> None:
    spectra = data.reshape(-1, CHANNELS).copy()
    spectra[2] = 0.0
    result = richardson_lucy_kernel(spectra, _vacuum_psf(37.0, 4.0), 5)
    assert np.all(result[2] == 0)
    assert np.all(np.isfinite(result))


@pytest.mark.parametrize("iterations", [0, -3, 2.5, 10.0, "5", True])
def test_bad_iterations_raise(iterations) -> None:
    with pytest.raises(ValueError, match="iterations"):
        richardson_lucy_kernel(np.ones((2, 16)), np.ones(5), iterations)


def test_numpy_integer_iterations_accepted() -> None:
    result = richardson_lucy_kernel(np.ones((2, 16)), np.ones(5), np.int64(2))
    assert result.shape == (2, 16)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_psf_raises(bad: float) -> None:
    psf = np.ones(5)
    psf[2] = bad
    with pytest.raises(ValueError, match="NaN or inf"):
        richardson_lucy_kernel(np.ones((2, 16)), psf, 3)


@pytest.mark.parametrize("psf", [np.zeros(5), -np.ones(5), np.array([1.0, -3.0, 1.0])])
def test_non_positive_psf_sum_raises(psf: np.ndarray) -> None:
    with pytest.raises(ValueError, match="sum is <= 0"):
        richardson_lucy_kernel(np.ones((2, 16)), psf, 3)


@pytest.mark.parametrize(
    ("data_shape", "psf_shape"),
    [
        ((2, 16), (3, 5)),
        ((16,), (2, 5)),
        ((2, 16), (2, 2, 5)),
        ((2, 2, 16), (5,)),
        ((2, 16), (0,)),
    ],
)
def test_shape_mismatch_raises(data_shape: tuple, psf_shape: tuple) -> None:
    with pytest.raises(ValueError, match="shape|rows"):
        richardson_lucy_kernel(np.ones(data_shape), np.ones(psf_shape), 3)


def test_centre_psf_puts_maximum_first() -> None:
    psf = np.array([[1.0, 4.0, 2.0], [3.0, 1.0, 0.5]])
    np.testing.assert_array_equal(
        centre_psf(psf, 6), [[4.0, 2.0, 0.0, 0.0, 0.0, 1.0], [3.0, 1.0, 0.5, 0.0, 0.0, 0.0]]
    )
    with pytest.raises(ValueError, match="shorter"):
        centre_psf(psf, 2)


@pytest.mark.parametrize("peak", [0, 6, 8])
def test_convolve_psf_equals_direct_same_mode(peak: int) -> None:
    rng = np.random.default_rng(3)
    spectra = rng.random((4, 40))
    psf = rng.random(9)
    psf[peak] = 3.0
    kernel = psf / psf.sum()
    expected = [np.convolve(kernel, s)[peak : peak + 40] for s in spectra]
    np.testing.assert_allclose(convolve_psf(spectra, psf), expected, rtol=1e-10, atol=1e-14)
