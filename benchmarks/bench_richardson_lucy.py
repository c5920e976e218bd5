"""Time the batched Richardson-Lucy kernel against exspy on the same data.

Builds a synthetic spectrum image (a sharp ZLP and a few loss peaks,
blurred by a Lorentzian PSF, plus noise), deconvolves it with
`hyperspy_eelspecnet.richardson_lucy.richardson_lucy_kernel` (the whole
map as one block) and with exspy's
``EELSSpectrum.richardson_lucy_deconvolution`` (on the first
``--exspy-spectra`` spectra of the same map only: exspy makes two direct
convolutions per spectrum and iteration, too slow for a full map), and
prints the throughput of both, their ratio, and the largest relative
difference between the two results on the shared spectra.

Example::

    python benchmarks/bench_richardson_lucy.py --nav 64 64 --channels 2048
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from hyperspy_eelspecnet.richardson_lucy import convolve_psf, richardson_lucy_kernel


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nav", type=int, nargs=2, default=(64, 64), help="navigation shape")
    parser.add_argument("--channels", type=int, default=2048, help="channels per spectrum")
    parser.add_argument("--iterations", type=int, default=50, help="Richardson-Lucy iterations")
    parser.add_argument(
        "--exspy-spectra", type=int, default=256, help="spectra deconvolved by exspy (a subset)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    return parser.parse_args()


def lorentzian(x: np.ndarray, centre: np.ndarray, fwhm: np.ndarray) -> np.ndarray:
    """Lorentzian of unit height, broadcasting its parameters."""
    return 1.0 / (1.0 + ((x - centre) / (fwhm / 2)) ** 2)


def synthetic_map(
    nav: tuple[int, int], channels: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A noisy blurred spectrum image and its PSF (a vacuum ZLP).

    Returns
    -------
    tuple of numpy.ndarray
        Spectra of shape nav + (channels,), PSF of shape (channels,).
    """
    n = int(np.prod(nav))
    x = np.arange(channels)
    zlp = channels // 5
    truth = np.exp(-0.5 * ((x - zlp) / 1.3) ** 2)[None, :].repeat(n, axis=0)
    centres = rng.uniform(zlp + 20, channels - 10, (n, 5, 1))
    widths = rng.uniform(10, 300, (n, 5, 1))
    heights = rng.uniform(1 / 4000, 1 / 300, (n, 5, 1))
    truth += (heights * lorentzian(x, centres, widths)).sum(axis=1)
    psf = lorentzian(x, zlp, 12.0)
    blurred = convolve_psf(truth, psf)
    noisy = blurred + rng.normal(0, 1e-4, blurred.shape) * blurred.max(axis=-1, keepdims=True)
    return noisy.reshape(tuple(nav) + (channels,)), psf


def time_kernel(spectra: np.ndarray, psf: np.ndarray, iterations: int) -> tuple[np.ndarray, float]:
    """Our kernel on all spectra at once; result and seconds."""
    start = time.perf_counter()
    result = richardson_lucy_kernel(spectra, psf, iterations)
    return result, time.perf_counter() - start


def time_exspy(spectra: np.ndarray, psf: np.ndarray, iterations: int) -> tuple[np.ndarray, float]:
    """exspy's method on a 1D navigation of spectra; result and seconds."""
    import exspy

    signal = exspy.signals.EELSSpectrum(spectra)
    kernel = exspy.signals.EELSSpectrum(psf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        result = signal.richardson_lucy_deconvolution(
            kernel, iterations=iterations, show_progressbar=False
        )
    return result.data, time.perf_counter() - start


def max_relative_difference(ours: np.ndarray, reference: np.ndarray) -> float:
    """Largest relative difference where the reference is above 1e-3 of its maximum."""
    significant = np.abs(reference) > 1e-3 * np.abs(reference).max(axis=-1, keepdims=True)
    return float((np.abs(ours - reference)[significant] / np.abs(reference)[significant]).max())


def main() -> None:
    """Run both deconvolutions side by side and print the comparison."""
    args = parse_args()
    data, psf = synthetic_map(tuple(args.nav), args.channels, np.random.default_rng(args.seed))
    spectra = data.reshape(-1, args.channels)
    subset = spectra[: args.exspy_spectra]
    print(
        f"map {args.nav[0]}x{args.nav[1]} x {args.channels} channels, "
        f"{args.iterations} iterations; exspy on the first {subset.shape[0]} spectra"
    )
    ours, ours_seconds = time_kernel(spectra, psf, args.iterations)
    reference, exspy_seconds = time_exspy(subset, psf, args.iterations)
    ours_rate = spectra.shape[0] / ours_seconds
    exspy_rate = subset.shape[0] / exspy_seconds
    for name, count, seconds, rate in (
        ("kernel", spectra.shape[0], ours_seconds, ours_rate),
        ("exspy ", subset.shape[0], exspy_seconds, exspy_rate),
    ):
        print(f"{name}: {count} spectra in {seconds:.2f} s, {rate:.1f} spectra/s")
    print(f"speed-up (kernel / exspy): {ours_rate / exspy_rate:.1f}x")
    difference = max_relative_difference(ours[: subset.shape[0]], reference)
    print(f"max relative difference on the shared spectra: {difference:.2e}")


if __name__ == "__main__":
    main()
