"""Figures of merit: widths, recovery, noise, fidelity, re-convolution."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from hyperspy_eelspecnet import metrics
from hyperspy_eelspecnet.restoration.richardson_lucy import convolve_psf

CHANNELS = 512
FWHM_PER_SIGMA = 2 * np.sqrt(2 * np.log(2))
FWTM_PER_SIGMA = 2 * np.sqrt(2 * np.log(10))


def _gaussians(centres: np.ndarray, sigmas: np.ndarray, n: int = CHANNELS) -> np.ndarray:
    """One Gaussian per row, of height 1 (before sampling)."""
    x = np.arange(n)
    return np.exp(-0.5 * ((x - centres[:, None]) / sigmas[:, None]) ** 2)


@pytest.fixture(scope="module")
def gaussians() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centres = rng.uniform(120, 400, 20)
    sigmas = rng.uniform(12, 30, 20)
    return _gaussians(centres, sigmas), sigmas


def test_gaussian_fwhm_and_fwtm_closed_form(gaussians: tuple) -> None:
    spectra, sigmas = gaussians
    np.testing.assert_allclose(metrics.fwhm(spectra), FWHM_PER_SIGMA * sigmas, rtol=1e-3)
    np.testing.assert_allclose(metrics.fwtm(spectra), FWTM_PER_SIGMA * sigmas, rtol=1e-3)


def test_width_dispersion_and_single_spectrum(gaussians: tuple) -> None:
    spectra, sigmas = gaussians
    width = metrics.fwhm(spectra[3], dispersion=0.005)
    assert width.shape == ()
    np.testing.assert_allclose(width, 0.005 * FWHM_PER_SIGMA * sigmas[3], rtol=1e-3)


def test_width_is_of_the_main_peak() -> None:
    spectrum = _gaussians(np.array([150.0, 300.0]), np.array([10.0, 20.0])).copy()
    spectrum[1] *= 0.4
    total = spectrum.sum(axis=0)
    np.testing.assert_allclose(metrics.fwhm(total), FWHM_PER_SIGMA * 10, rtol=1e-3)


def test_peak_centroid_gives_the_sub_channel_position() -> None:
    centres = np.array([100.0, 100.3, 250.7])
    sharp = _gaussians(centres, np.full(3, 1.3))  # a 3-channel quasi-Dirac ZLP
    # Within 0.02 channel: the 7-channel window cuts the tails at 2.3 sigma.
    np.testing.assert_allclose(metrics.peak_centroid(sharp), centres, atol=0.02)
    # A peak at the first channel: the window is cut at the end, not wrapped.
    edge = np.zeros(CHANNELS)
    edge[:2] = [3.0, 1.0]
    assert metrics.peak_centroid(edge) == pytest.approx(0.25)


def test_width_without_crossing_is_nan() -> None:
    edge = _gaussians(np.array([2.0]), np.array([20.0]))
    flat = np.zeros((1, CHANNELS))
    assert np.isnan(metrics.fwhm(edge)[0])
    assert np.isnan(metrics.fwhm(flat)[0])
    with pytest.raises(ValueError, match="fraction"):
        metrics.peak_width(flat, fraction=1.5)


def test_recovery_rate_and_relative_error() -> None:
    w_distorted, w_original = np.array([10.0, 10.0, 10.0]), np.array([3.0, 3.0, 3.0])
    w_restored = np.array([3.0, 10.0, 6.5])
    np.testing.assert_allclose(
        metrics.recovery_rate(w_distorted, w_restored, w_original), [1.0, 0.0, 0.5]
    )
    np.testing.assert_allclose(
        metrics.relative_error(w_restored, w_original), [0.0, 7 / 3, 3.5 / 3]
    )


def test_mse() -> None:
    a = np.zeros((2, 4))
    b = np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 2.0, 0.0, 0.0]])
    np.testing.assert_allclose(metrics.mse(a, b), [1.0, 1.0])
    assert metrics.mse(a[0], b[0]).shape == ()


def test_noise_variance_over_mask() -> None:
    rng = np.random.default_rng(1)
    reference = _gaussians(np.array([100.0, 100.0]), np.array([5.0, 5.0]))
    noisy = reference + rng.normal(0, [[1e-2], [3e-2]], reference.shape)
    mask = np.arange(CHANNELS) > 200
    variance = metrics.noise_variance(noisy, reference, mask)
    np.testing.assert_allclose(variance, [1e-4, 9e-4], rtol=0.2)


def test_ssim_identical_is_one_and_different_below(gaussians: tuple) -> None:
    spectra, _ = gaussians
    assert np.all(metrics.ssim(spectra, spectra) == 1.0)
    rng = np.random.default_rng(2)
    noisy = spectra + rng.normal(0, 0.02, spectra.shape)
    values = metrics.ssim(noisy, spectra)
    assert np.all(values < 1.0)
    assert np.all(values > 0.0)


def test_ssim_equals_skimage_on_one_tiled_image(gaussians: tuple) -> None:
    spectra, _ = gaussians
    rng = np.random.default_rng(3)
    restored = 3.0 * (spectra[:3] + rng.normal(0, 0.05, spectra[:3].shape))
    reference = 3.0 * spectra[:3]
    expected = [
        structural_similarity(
            np.tile(r, (7, 1)), np.tile(f, (7, 1)), data_range=np.ptp(f), win_size=7
        )
        for r, f in zip(restored, reference, strict=True)
    ]
    np.testing.assert_allclose(metrics.ssim(restored, reference), expected, rtol=1e-9)


def test_ssim_constant_reference_is_nan() -> None:
    assert np.isnan(metrics.ssim(np.ones(32), np.ones(32)))


def _measured_zlp(rng: np.random.Generator, sigma: float) -> tuple[np.ndarray, ...]:
    """A sharp ZLP with a loss peak, blurred by a Lorentzian PSF, plus noise."""
    truth = _gaussians(np.array([100.0, 260.0]), np.array([1.5, 20.0]))
    truth = truth[0] + 0.05 * truth[1]
    x = np.arange(101)
    psf = 1 / (1 + ((x - 50) / 6.0) ** 2)
    blurred = convolve_psf(truth, psf)
    measured = blurred + rng.normal(0, sigma, (8, CHANNELS))
    return truth, blurred, measured, psf


def test_reconvolution_residual_perfect_and_unrestored() -> None:
    rng = np.random.default_rng(4)
    sigma = 1e-4
    truth, _, measured, psf = _measured_zlp(rng, sigma)
    region = np.zeros(CHANNELS, dtype=bool)
    region[40:450] = True
    restored = np.broadcast_to(truth, measured.shape)
    perfect = metrics.reconvolution_residual(restored, measured, psf, region, noise_sigma=sigma)
    unrestored = metrics.reconvolution_residual(measured, measured, psf, region, noise_sigma=sigma)
    assert perfect.shape == (8,)
    assert np.all((perfect > 0.8) & (perfect < 1.2))
    assert np.all(unrestored > 5)


def test_reconvolution_residual_with_estimated_noise() -> None:
    rng = np.random.default_rng(5)
    truth, _, measured, psf = _measured_zlp(rng, 1e-3)
    loss_region = np.zeros(CHANNELS, dtype=bool)
    loss_region[200:450] = True
    full_region = np.zeros(CHANNELS, dtype=bool)
    full_region[40:450] = True
    restored = np.broadcast_to(truth, measured.shape)
    perfect = metrics.reconvolution_residual(restored, measured, psf, loss_region)
    unrestored = metrics.reconvolution_residual(measured, measured, psf, full_region)
    assert np.all((perfect > 0.8) & (perfect < 1.2))
    assert np.all(unrestored > 5)


def test_highpass_noise_sigma_on_smooth_spectrum() -> None:
    rng = np.random.default_rng(7)
    smooth = _gaussians(np.full(6, 256.0), np.full(6, 60.0))
    sigma = np.array([1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2])
    noisy = smooth + rng.normal(0, 1, smooth.shape) * sigma[:, None]
    region = np.ones(CHANNELS, dtype=bool)
    np.testing.assert_allclose(metrics.highpass_noise_sigma(noisy, region), sigma, rtol=0.1)
    with pytest.raises(ValueError, match="window"):
        metrics.highpass_noise_sigma(noisy, region, window=8)


def test_highpass_correction_factor_is_unbiased() -> None:
    rng = np.random.default_rng(8)
    noise = rng.normal(0, 1.0, (4, 50000))
    region = np.ones(50000, dtype=bool)
    for window in (3, 9, 15):
        estimate = metrics.highpass_noise_sigma(noise, region, window=window)
        np.testing.assert_allclose(estimate, 1.0, rtol=0.03)


def test_summarize_ignores_nan() -> None:
    values = np.append(np.arange(101.0), np.nan)
    summary = metrics.summarize(values)
    assert summary == {"median": 50.0, "p5": 5.0, "p95": 95.0}
    assert all(np.isnan(v) for v in metrics.summarize(np.full(3, np.nan)).values())


def test_local_noise_sigma_follows_counting_noise() -> None:
    rng = np.random.default_rng(3)
    level = np.linspace(100.0, 10000.0, 2000)  # a smooth ramp of counts
    noisy = rng.poisson(np.tile(level, (20, 1))).astype(float)
    sigma = metrics.local_noise_sigma(noisy)
    ratio = sigma[:, 50:-50] / np.sqrt(level[50:-50])
    np.testing.assert_allclose(np.median(ratio), 1.0, rtol=0.05)
    # Dim and bright ends are told apart, as the square root of the counts.
    contrast = np.median(sigma[:, -100:-60]) / np.median(sigma[:, 60:100])
    np.testing.assert_allclose(contrast, np.sqrt(level[-80] / level[80]), rtol=0.1)
