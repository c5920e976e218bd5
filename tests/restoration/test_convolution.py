"""The shared FFT convolution against numpy's direct one."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import fft

from hyperspy_eelspecnet.restoration.convolution import fft_convolve


@pytest.mark.parametrize("zero_shift", [0, 3, 8])
def test_same_size_convolution_around_the_kernels_zero_shift(zero_shift: int) -> None:
    rng = np.random.default_rng(0)
    spectra, kernel = rng.normal(size=(3, 50)), rng.uniform(size=9)
    n_fft = 50 + kernel.size - 1
    out = fft_convolve(spectra, fft.rfft(kernel, n_fft), n_fft, start=zero_shift)
    expected = [np.convolve(s, kernel)[zero_shift : zero_shift + 50] for s in spectra]
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_product_of_transfer_functions_applies_both_kernels() -> None:
    rng = np.random.default_rng(1)
    spectra, first, second = rng.normal(size=(2, 40)), rng.uniform(size=5), rng.uniform(size=7)
    n_fft = 40 + 5 + 7 - 2
    transfer = fft.rfft(first, n_fft) * fft.rfft(second, n_fft)
    out = fft_convolve(spectra, transfer, n_fft)
    expected = [np.convolve(np.convolve(s, first), second)[:40] for s in spectra]
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_fft_shorter_than_the_channels_kept_is_refused() -> None:
    with pytest.raises(ValueError, match="n_fft=20 is shorter"):
        fft_convolve(np.ones(16), np.ones(11), 20, start=5)
