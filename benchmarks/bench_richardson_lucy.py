"""Time the batched Richardson-Lucy kernel against exspy on the same data.

Builds a synthetic spectrum image (a sharp ZLP and a few loss peaks,
blurred by a Lorentzian PSF, plus noise), deconvolves it with
`hyperspy_eelspecnet.restoration.richardson_lucy.richardson_lucy_kernel` (the whole
map) and with exspy's ``EELSSpectrum.richardson_lucy_deconvolution`` (on
the first ``--exspy-spectra`` spectra of the same map only: exspy makes
two direct convolutions per spectrum and iteration, too slow for a full
map), and prints the throughput of both, their ratio, and the largest
relative difference between the two results on the shared spectra.

Both sides are timed with the same number of threads, twice:

- 1 thread: the kernel with ``workers=1``, exspy with ``num_workers=1``
  (HyperSpy's ``map`` then runs dask with one worker thread);
- all CPUs: the kernel with ``workers=-1`` (blocks of spectra spread over
  ``os.cpu_count()`` threads), exspy with its default
  ``num_workers=None`` (HyperSpy's ``map`` then runs dask's threaded
  scheduler with ``os.cpu_count()`` workers; ``np.convolve`` releases the
  GIL, so they run in parallel).

The kernel runs in its default (mixed) precision unless ``--precision
float64`` is given.

Runs alternate kernel, exspy, kernel, exspy, ... (``--repeats`` of each)
and the best of each is kept, so that a machine busy with other work
slows both alike. Wall-clock and process CPU times are both printed; with
one thread, the CPU time is the less disturbed by other processes.

Example (the defaults: a 64x64 map of 2048 channels, 50 iterations,
exspy on the first 128 spectra, best of 3 runs)::

    python benchmarks/bench_richardson_lucy.py --nav 64 64 --channels 2048
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np

from hyperspy_eelspecnet.restoration import richardson_lucy
from hyperspy_eelspecnet.restoration.richardson_lucy import convolve_psf, richardson_lucy_kernel


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nav", type=int, nargs=2, default=(64, 64), help="navigation shape")
    parser.add_argument("--channels", type=int, default=2048, help="channels per spectrum")
    parser.add_argument("--iterations", type=int, default=50, help="Richardson-Lucy iterations")
    parser.add_argument(
        "--exspy-spectra", type=int, default=128, help="spectra deconvolved by exspy (a subset)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each side")
    parser.add_argument(
        "--precision", choices=("mixed", "float64"), default="mixed", help="kernel precision"
    )
    parser.add_argument(
        "--threads",
        choices=("1", "all", "both"),
        default="both",
        help="time with 1 thread, all CPUs, or both",
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


def time_kernel(
    spectra: np.ndarray, psf: np.ndarray, iterations: int, workers: int, precision: str
) -> tuple[np.ndarray, float, float]:
    """Our kernel on all spectra; result, wall seconds and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = richardson_lucy_kernel(
        spectra, psf, iterations, precision=precision, workers=workers
    )
    return result, time.perf_counter() - wall, time.process_time() - cpu


def time_exspy(
    spectra: np.ndarray, psf: np.ndarray, iterations: int, num_workers: int | None
) -> tuple[np.ndarray, float, float]:
    """exspy's method on a 1D navigation of spectra; result, wall and CPU seconds."""
    import exspy

    signal = exspy.signals.EELSSpectrum(spectra)
    kernel = exspy.signals.EELSSpectrum(psf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wall, cpu = time.perf_counter(), time.process_time()
        result = signal.richardson_lucy_deconvolution(
            kernel, iterations=iterations, show_progressbar=False, num_workers=num_workers
        )
    return result.data, time.perf_counter() - wall, time.process_time() - cpu


def max_relative_difference(ours: np.ndarray, reference: np.ndarray) -> float:
    """Largest relative difference where the reference is above 1e-3 of its spectrum's maximum."""
    significant = np.abs(reference) > 1e-3 * np.abs(reference).max(axis=-1, keepdims=True)
    return float((np.abs(ours - reference)[significant] / np.abs(reference)[significant]).max())


def compare(
    spectra: np.ndarray,
    subset: np.ndarray,
    psf: np.ndarray,
    args: argparse.Namespace,
    label: str,
    workers: int,
    num_workers: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Time both sides alternately, print the best times; return both results."""
    kernel_times, exspy_times = [], []
    for _ in range(args.repeats):
        ours, *times = time_kernel(spectra, psf, args.iterations, workers, args.precision)
        kernel_times.append(times)
        reference, *times = time_exspy(subset, psf, args.iterations, num_workers)
        exspy_times.append(times)
    kernel_wall, kernel_cpu = np.min(kernel_times, axis=0)
    exspy_wall, exspy_cpu = np.min(exspy_times, axis=0)
    print(f"{label}:")
    rows = (
        (f"kernel workers={workers}", spectra.shape[0], kernel_wall, kernel_cpu),
        (f"exspy num_workers={num_workers}", subset.shape[0], exspy_wall, exspy_cpu),
    )
    for name, count, wall, cpu in rows:
        print(
            f"  {name:24s} {count:5d} spectra: wall {wall:7.2f} s "
            f"({count / wall:7.1f} spectra/s), CPU {cpu:7.2f} s ({count / cpu:7.1f} spectra/CPU-s)"
        )
    wall_ratio = (spectra.shape[0] / kernel_wall) / (subset.shape[0] / exspy_wall)
    cpu_ratio = (spectra.shape[0] / kernel_cpu) / (subset.shape[0] / exspy_cpu)
    print(f"  speed-up (kernel / exspy): wall {wall_ratio:.1f}x, CPU time {cpu_ratio:.1f}x")
    return ours, reference


def main() -> None:
    """Run both deconvolutions side by side and print the comparison."""
    args = parse_args()
    data, psf = synthetic_map(tuple(args.nav), args.channels, np.random.default_rng(args.seed))
    spectra = data.reshape(-1, args.channels)
    subset = spectra[: args.exspy_spectra]
    cpus = os.cpu_count() or 1
    n_fft = richardson_lucy._fft_length(np.atleast_2d(psf), args.channels)
    print(
        f"map {args.nav[0]}x{args.nav[1]} x {args.channels} channels, PSF {psf.size} channels, "
        f"{args.iterations} iterations; kernel (precision {args.precision}, FFT length "
        f"{n_fft}, blocks of {richardson_lucy.BLOCK_SPECTRA}) on all {spectra.shape[0]} "
        f"spectra, exspy on the first {subset.shape[0]} only; best of {args.repeats} "
        f"alternating runs each; {cpus} CPUs, load average {os.getloadavg()[0]:.2f} at start"
    )
    settings = []
    if args.threads in ("1", "both"):
        settings.append(("1 thread each", 1, 1))
    if args.threads in ("all", "both"):
        settings.append((f"all CPUs ({cpus} threads each; exspy's default)", -1, None))
    for label, workers, num_workers in settings:
        ours, reference = compare(spectra, subset, psf, args, label, workers, num_workers)
    difference = max_relative_difference(ours[: subset.shape[0]], reference)
    print(
        "max relative difference on the shared spectra (channels above 1e-3 of the "
        f"spectrum's maximum): {difference:.2e}"
    )


if __name__ == "__main__":
    main()
