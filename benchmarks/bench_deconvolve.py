"""deconvolve_eelspecnet against exspy's Richardson-Lucy on the same lazy map.

Usage: python benchmarks/bench_deconvolve.py [--nav 64] [--channels 2048]
       [--model nzeels-2048 [--model nzeels-2048-psf ...]] [--exspy-spectra 256]

Builds a nav x nav x channels lazy EELS map of generated spectra, times
``deconvolve_eelspecnet`` with each ``--model`` on the whole map in
float32 and in bfloat16 (a model that takes a vacuum reference is given
each pixel's own vacuum reference as ``psf``, drawn with the spectra
without mismatch, so that its refinement runs), each against the first,
and exspy's ``richardson_lucy_deconvolution`` (50 iterations) on its
first ``--exspy-spectra`` spectra (exspy is too slow for the whole map
here), and prints spectra per second for each and their ratios, from one
run. Both networks are loaded and run once on one batch before timing
(each is loaded once per process).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np

#: The network precisions timed, side by side.
PRECISIONS = ("float32", "bfloat16")


def make_map(nav: int, channels: int):
    """A lazy EELS map of generated spectra (ZLP at channel 400), and its references.

    The references are each spectrum's ZLP through its own response, at
    100 times its dose and without mismatch: the vacuum recordings a
    reference model is given (one per pixel).
    """
    import exspy

    from hyperspy_eelspecnet.simulation import GeneratorConfig, SpectrumGenerator
    from hyperspy_eelspecnet.simulation.config import ReferenceConfig

    exact = ReferenceConfig(dose_ratio=(100.0, 100.0), width_mismatch=0.0, tail_mismatch=0.0,
                            shift_channels=0.0, other_response_probability=0.0)
    config = GeneratorConfig(channels=channels, jitter_centred=True, reference=exact)
    batch = SpectrumGenerator(config, seed=11).generate(nav * nav)
    signals = []
    for data in (batch.distorted * 1e6, batch.reference):
        s = exspy.signals.EELSSpectrum(data.reshape(nav, nav, channels))
        axis = s.axes_manager.signal_axes[0]
        axis.scale, axis.offset, axis.units = 0.005, -2.0, "eV"
        signals.append(s)
    return signals[0].as_lazy(), signals[1]


def main() -> None:
    import hyperspy_eelspecnet  # noqa: F401
    from hyperspy_eelspecnet.inference.domain import ReferenceMismatchWarning
    from hyperspy_eelspecnet.inference.precision import native_bfloat16
    from hyperspy_eelspecnet.inference.restore import restore_spectra
    from hyperspy_eelspecnet.models.registry import resolve_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nav", type=int, default=64)
    parser.add_argument("--channels", type=int, default=2048)
    parser.add_argument("--model", action="append",
                        help="a model to time (repeat to compare; default nzeels-2048)")
    parser.add_argument("--exspy-spectra", type=int, default=256)
    parser.add_argument("--iterations", type=int, default=50)
    args = parser.parse_args()
    models = args.model or ["nzeels-2048"]

    import exspy

    s, references = make_map(args.nav, args.channels)
    n = args.nav * args.nav
    flat = s.data.reshape(-1, args.channels)[: args.exspy_spectra].compute()
    zlp = np.zeros(args.channels)
    zlp[400 - 50: 400 + 51] = np.exp(-0.5 * (np.arange(-50, 51) / 8.0) ** 2)
    psf = exspy.signals.EELSSpectrum(zlp)
    psf.axes_manager.signal_axes[0].scale = 0.005
    print(f"{os.cpu_count()} CPUs (native bfloat16: {native_bfloat16()}); "
          f"lazy map {args.nav}x{args.nav}x{args.channels}")

    first = references.data.reshape(n, -1)[: len(flat)]
    ours = {}
    for model in models:
        spec = resolve_model(model)
        given = {"psf": references} if spec.preprocessing.takes_reference else {}
        for precision in PRECISIONS:
            restore_spectra(flat, spec, precision=precision,
                            reference=first if given else None)
        for precision in PRECISIONS:
            start = time.perf_counter()
            s.deconvolve_eelspecnet(model, precision=precision, **given).compute(
                show_progressbar=False)
            ours[model, precision] = n / (time.perf_counter() - start)

    small = exspy.signals.EELSSpectrum(flat)
    start = time.perf_counter()
    small.richardson_lucy_deconvolution(psf, iterations=args.iterations, show_progressbar=False)
    theirs = len(flat) / (time.perf_counter() - start)

    start = time.perf_counter()
    with warnings.catch_warnings():  # the Gaussian PSF is no spectrum's response, on purpose
        warnings.simplefilter("ignore", ReferenceMismatchWarning)
        s.richardson_lucy(psf, iterations=args.iterations).compute(show_progressbar=False)
    our_rl = n / (time.perf_counter() - start)

    for (name, precision), rate in ours.items():
        print(f"deconvolve_eelspecnet ({name}, {precision}): {rate:9.1f} spectra/s "
              f"({n} spectra)")
    print(f"richardson_lucy, ours, {args.iterations} it.: {our_rl:9.1f} spectra/s ({n} spectra)")
    print(f"exspy richardson_lucy_deconvolution, {args.iterations} it.: "
          f"{theirs:9.1f} spectra/s ({len(flat)} spectra)")
    first = next(iter(ours))[0]
    for (name, precision), rate in ours.items():
        ratio = rate / ours[first, precision]
        against = "" if name == first else f"; against {first}: {ratio:.2f}x"
        print(f"ratio {name} {precision} / exspy RL: {rate / theirs:.1f}x{against}")
    print(f"ratio our RL / exspy RL: {our_rl / theirs:.1f}x")
    for name in dict.fromkeys(name for name, _ in ours):
        print(f"ratio {name} bfloat16 / float32: "
              f"{ours[name, 'bfloat16'] / ours[name, 'float32']:.2f}x")


if __name__ == "__main__":
    main()
