"""The batched Richardson-Lucy kernel against exspy's own method.

The issue's accuracy requirement: a relative difference to exspy below
1e-4 wherever the signal is above 1e-3 of its maximum. The default
("mixed") precision is held to it; ``precision="float64"`` to round-off.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from hyperspy_eelspecnet.restoration import richardson_lucy
from hyperspy_eelspecnet.restoration.richardson_lucy import (
    RATIO_EPSILON,
    centre_psf,
    check_iterations,
    convolve_psf,
    richardson_lucy_kernel,
)

exspy = pytest.importorskip("exspy")

NAV = (3, 2)
CHANNELS = 256
PSF_CHANNELS = 101
ITERATIONS = 20
PRECISIONS = ("mixed", "float64")
#: Relative tolerance to exspy per precision: the issue's bound for the
#: default, round-off for float64.
TOLERANCE = {"mixed": 1e-4, "float64": 1e-10}


def _blurred_peaks(rng: np.random.Generator) -> np.ndarray:
    """Gaussian-blurred peaks on a small background, shape NAV + (256,)."""
    x = np.arange(CHANNELS)
    data = np.full(NAV + (CHANNELS,), 1e-2)
    for index in np.ndindex(NAV):
        centres = rng.uniform(30, 220, 4)
        widths = rng.uniform(1, 4, 4)
        heights = rng.uniform(0.2, 1, 4)
        for c, w, h in zip(centres, widths, heights, strict=True):
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


def _exspy_rl(data: np.ndarray, psf: np.ndarray, iterations: int = ITERATIONS) -> np.ndarray:
    """exspy's result, the PSF zero-padded to the data's length.

    exspy only accepts a PSF of the data's length; zero-padding after the
    PSF leaves its centring on the maximum unchanged.
    """
    padded = np.zeros(psf.shape[:-1] + (data.shape[-1],))
    padded[..., : psf.shape[-1]] = psf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = _eels(data).richardson_lucy_deconvolution(
            _eels(padded), iterations=iterations, show_progressbar=False
        )
    return result.data


def _assert_close(
    ours: np.ndarray, reference: np.ndarray, tolerance: float = 1e-4, per_spectrum: bool = False
) -> None:
    """Relative difference < tolerance where above 1e-3 of the maximum.

    The maximum of the whole array, or of each spectrum (stricter).
    """
    assert ours.dtype == np.float64
    assert ours.shape == reference.shape
    magnitude = np.abs(reference)
    top = magnitude.max(axis=-1, keepdims=True) if per_spectrum else magnitude.max()
    significant = magnitude > 1e-3 * top
    relative = np.abs(ours - reference)[significant] / magnitude[significant]
    assert relative.max() < tolerance


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return _blurred_peaks(np.random.default_rng(0))


@pytest.mark.parametrize("precision", PRECISIONS)
def test_single_psf_matches_exspy(data: np.ndarray, precision: str) -> None:
    psf = _vacuum_psf(37.0, 4.0)
    ours = richardson_lucy_kernel(
        data.reshape(-1, CHANNELS), psf, ITERATIONS, precision=precision
    )
    _assert_close(ours.reshape(data.shape), _exspy_rl(data, psf), TOLERANCE[precision])


@pytest.mark.parametrize("precision", PRECISIONS)
def test_per_spectrum_psf_matches_exspy(data: np.ndarray, precision: str) -> None:
    rng = np.random.default_rng(1)
    psf = np.stack(
        [_vacuum_psf(c, w)
         for c, w in zip(rng.uniform(20, 80, 6), rng.uniform(2, 6, 6), strict=True)]
    ).reshape(NAV + (PSF_CHANNELS,))
    ours = richardson_lucy_kernel(
        data.reshape(-1, CHANNELS),
        psf.reshape(-1, PSF_CHANNELS),
        ITERATIONS,
        precision=precision,
    )
    _assert_close(ours.reshape(data.shape), _exspy_rl(data, psf), TOLERANCE[precision])


@pytest.mark.parametrize("precision", PRECISIONS)
def test_zero_channels_match_exspy(data: np.ndarray, precision: str) -> None:
    holed = data.copy()
    holed[..., 120:125] = 0.0
    psf = _vacuum_psf(50.0, 3.0)
    ours = richardson_lucy_kernel(
        holed.reshape(-1, CHANNELS), psf, ITERATIONS, precision=precision
    )
    reference = _exspy_rl(holed, psf)
    _assert_close(ours.reshape(holed.shape), reference, TOLERANCE[precision])
    assert np.all(ours.reshape(holed.shape)[..., 120:125] == 0)


def _eels_like_map(n_spectra: int, channels: int, rng: np.random.Generator):
    """The benchmark's blurred spectra and PSF (benchmarks/bench_richardson_lucy.py).

    A sharp ZLP with loss peaks 1/4000 to 1/300 of it, a Lorentzian PSF
    (FWHM 12 channels), noise of 1e-4 of each spectrum's maximum: the
    test checks exactly the data the benchmark times.
    """
    path = Path(__file__).parents[2] / "benchmarks" / "bench_richardson_lucy.py"
    spec = importlib.util.spec_from_file_location("bench_richardson_lucy", path)
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    return benchmark.synthetic_map((n_spectra,), channels, rng)


def test_issue_scale_matches_exspy() -> None:
    """2048 channels, 50 iterations, the default precision: the issue's case.

    Five spectra (an odd number: the last one shares its complex FFT with
    a copy of itself), each held to the bound above 1e-3 of its own
    maximum (stricter than the map's maximum).
    """
    spectra, psf = _eels_like_map(5, 2048, np.random.default_rng(5))
    ours = richardson_lucy_kernel(spectra, psf, 50)
    _assert_close(ours, _exspy_rl(spectra, psf, 50), per_spectrum=True)


def _direct_rl(spectrum: np.ndarray, psf: np.ndarray, iterations: int) -> np.ndarray:
    """exspy's loop, sliced to the data's length, for any PSF length.

    With the kernel's division guard: a ratio is 0 where the blur is at
    most RATIO_EPSILON of its largest magnitude.
    """
    kernel = psf / psf.sum()
    imax, n = kernel.argmax(), spectrum.size
    start = kernel.size - 1 - imax
    estimate = spectrum.copy()
    for _ in range(iterations):
        blurred = np.convolve(kernel, estimate)[imax : imax + n]
        usable = np.abs(blurred) > RATIO_EPSILON * np.abs(blurred).max()
        ratio = np.divide(spectrum, blurred, out=np.zeros(n), where=usable)
        estimate *= np.convolve(kernel[::-1], ratio)[start : start + n]
    return estimate


#: rtol to the direct convolution: round-off for float64; for "mixed",
#: the issue's bound (all channels are significant in these data).
DIRECT_RTOL = {"mixed": 1e-4, "float64": 1e-9}


@pytest.mark.parametrize("precision", PRECISIONS)
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
    n_channels: int, n_psf: int, peak: int, precision: str
) -> None:
    rng = np.random.default_rng(2)
    data = rng.uniform(0.5, 1.5, (3, n_channels))
    psf = rng.uniform(0.0, 0.5, n_psf)
    psf[peak] = 2.0
    ours = richardson_lucy_kernel(data, psf, 5, precision=precision)
    for spectrum, result in zip(data, ours, strict=True):
        np.testing.assert_allclose(
            result, _direct_rl(spectrum, psf, 5), rtol=DIRECT_RTOL[precision]
        )


@pytest.mark.parametrize("precision", PRECISIONS)
def test_negligible_blur_is_guarded_as_direct(precision: str) -> None:
    """Channels far below a short PSF's reach of the data blur to ~0.

    They take the guarded (slower) path, in a block where other spectra
    do not need it; the result matches the guarded direct loop.
    """
    rng = np.random.default_rng(6)
    data = rng.uniform(0.5, 1.5, (5, 80))
    data[:2, :30] = 0.0  # blurred estimate exactly 0 far from the data
    psf = np.array([0.1, 0.3, 1.0, 0.4, 0.2])
    ours = richardson_lucy_kernel(data, psf, 12, precision=precision)
    assert np.all(np.isfinite(ours))
    assert np.all(ours[:2, :30] == 0)
    for spectrum, result in zip(data, ours, strict=True):
        expected = _direct_rl(spectrum, psf, 12)
        np.testing.assert_allclose(result, expected, rtol=DIRECT_RTOL[precision], atol=1e-300)


@pytest.mark.parametrize("precision", PRECISIONS)
def test_spectra_of_very_different_scales(data: np.ndarray, precision: str) -> None:
    """Spectra sharing a complex FFT keep their own accuracy whatever their scales.

    Also checks scale-equivariance: deconvolving c * data gives c times
    the result.
    """
    spectra = data.reshape(-1, CHANNELS)
    scales = np.array([1e-6, 1e3, 1.0, 1e-3, 1e5, 2.0])[:, None]
    psf = _vacuum_psf(37.0, 4.0)
    alone = np.stack(
        [richardson_lucy_kernel(s, psf, ITERATIONS, precision="float64") for s in spectra]
    )
    scaled = richardson_lucy_kernel(spectra * scales, psf, ITERATIONS, precision=precision)
    _assert_close(scaled / scales, alone, TOLERANCE[precision], per_spectrum=True)


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("per_spectrum_psf", [False, True])
def test_blocks_give_the_same_result(
    data: np.ndarray, monkeypatch: pytest.MonkeyPatch, precision: str, per_spectrum_psf: bool
) -> None:
    rng = np.random.default_rng(4)
    spectra = data.reshape(-1, CHANNELS)
    if per_spectrum_psf:
        psf = np.stack([_vacuum_psf(c, 3.0) for c in rng.uniform(20, 80, spectra.shape[0])])
    else:
        psf = _vacuum_psf(40.0, 3.0)
    whole = richardson_lucy_kernel(spectra, psf, 5, precision=precision)
    monkeypatch.setattr(richardson_lucy, "BLOCK_SPECTRA", 3)
    blocks = richardson_lucy_kernel(spectra, psf, 5, precision=precision)
    _assert_close(blocks, whole, 1e-12 if precision == "float64" else 1e-5)


@pytest.mark.parametrize(
    ("n_spectra", "threads"), [(96, 2), (4096, 2), (7, 2), (100, 3), (9, 4), (1, 2)]
)
def test_blocks_keep_every_thread_busy(n_spectra: int, threads: int) -> None:
    blocks = richardson_lucy._blocks(n_spectra, threads)
    covered = np.concatenate([np.arange(n_spectra)[rows] for rows in blocks])
    np.testing.assert_array_equal(covered, np.arange(n_spectra))
    sizes = [rows.stop - rows.start for rows in blocks]
    assert max(sizes) <= richardson_lucy.BLOCK_SPECTRA
    if n_spectra >= 2 * threads:  # every thread gets the same number of blocks
        assert len(blocks) % threads == 0


@pytest.mark.parametrize("workers", [2, -1])
def test_workers_give_identical_results(
    data: np.ndarray, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    spectra = data.reshape(-1, CHANNELS)
    psf = _vacuum_psf(37.0, 4.0)
    monkeypatch.setattr(richardson_lucy, "BLOCK_SPECTRA", 2)
    one = richardson_lucy_kernel(spectra, psf, 5)
    np.testing.assert_array_equal(richardson_lucy_kernel(spectra, psf, 5, workers=workers), one)


@pytest.mark.parametrize("workers", [0, 1.5, True, "2", -(os.cpu_count() or 1) - 1])
def test_bad_workers_raise(workers) -> None:
    with pytest.raises(ValueError, match="workers"):
        richardson_lucy_kernel(np.ones((2, 16)), np.ones(5), 3, workers=workers)


def test_bad_precision_raises() -> None:
    with pytest.raises(ValueError, match="precision"):
        richardson_lucy_kernel(np.ones((2, 16)), np.ones(5), 3, precision="float32")


def test_reference_iterations() -> None:
    """The float64 blurs of the mixed precision: iterations 0, 2, 8, 32, 128."""
    references = [i for i in range(200) if richardson_lucy._is_reference_iteration(i)]
    assert references == [0, 2, 8, 32, 128]


@pytest.mark.parametrize("precision", PRECISIONS)
def test_one_spectrum_keeps_its_shape(data: np.ndarray, precision: str) -> None:
    psf = _vacuum_psf(37.0, 4.0)
    block = richardson_lucy_kernel(data.reshape(-1, CHANNELS), psf, 3, precision=precision)
    single = richardson_lucy_kernel(data[0, 0], psf, 3, precision=precision)
    assert single.shape == (CHANNELS,)
    _assert_close(single, block[0], 1e-12 if precision == "float64" else 1e-5)


@pytest.mark.parametrize("precision", PRECISIONS)
def test_float32_counts_give_the_float64_result(data: np.ndarray, precision: str) -> None:
    """Data of another dtype are restored in float64, as the float64 copy is."""
    psf = _vacuum_psf(37.0, 4.0)
    counts = data.reshape(-1, CHANNELS).astype(np.float32)
    ours = richardson_lucy_kernel(counts, psf, 5, precision=precision)
    assert ours.dtype == np.float64
    expected = richardson_lucy_kernel(counts.astype(np.float64), psf, 5, precision=precision)
    np.testing.assert_array_equal(ours, expected)


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


@pytest.mark.parametrize("count", [5, np.int64(5), np.uint8(5)])
def test_check_iterations_takes_python_and_numpy_integers(count) -> None:
    checked = check_iterations(count)
    assert checked == 5 and type(checked) is int


@pytest.mark.parametrize("count", [True, False, np.bool_(True), 0, -2, np.int64(0), 5.0, "5", None])
def test_check_iterations_refuses_bools_non_integers_and_counts_below_one(count) -> None:
    message = r"iterations must be an integer >= 1, got .*iterations=50"
    with pytest.raises(ValueError, match=message):
        check_iterations(count)


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
