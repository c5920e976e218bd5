"""Where the network's time goes: window, precision, batch size, XLA, threads.

Usage: python benchmarks/bench_network.py [--model nzeels-2048] [--spectra 2048]
       [--batch 64 256 1024] [--threads 1 2]

Times ``predict_on_batch`` of one model on the same generated inputs in
every combination of window (2048 and 3072 channels), precision
(float32, bfloat16), batch size, XLA compilation (``jit_compile``) and
TensorFlow's intra-op threads, and prints spectra per second for each,
with its ratio to the first row (float32, 3072 channels, the first batch
size, no XLA, the first thread count), from one run. Each thread count runs in
its own process, since TensorFlow fixes its thread pools when it starts;
each setting is run once untimed first (tracing, XLA compilation), then
timed as the best of ``--repeats`` passes over ``--spectra`` spectra.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time

import numpy as np

WINDOWS = (3072, 2048)
PRECISIONS = ("float32", "bfloat16")


def _time_settings(model_name: str, spectra: int, batches: list[int], repeats: int) -> list:
    """(window, precision, batch, xla, spectra/s) for every setting, in this process."""
    from hyperspy_eelspecnet.inference.reference import network_input
    from hyperspy_eelspecnet.models.registry import load_network, resolve_model
    from hyperspy_eelspecnet.simulation import GeneratorConfig, SpectrumGenerator

    model = resolve_model(model_name)
    pre = model.preprocessing
    data = SpectrumGenerator(GeneratorConfig(channels=2048, jitter_centred=True),
                             seed=11).generate(spectra).distorted
    rows = []
    for precision in PRECISIONS:
        network = load_network(str(model.path), model.sha256, precision)
        for window, xla, batch in itertools.product(WINDOWS, (False, True), batches):
            inputs = network_input(data, np.zeros(spectra, int), window, pre)
            network.jit_compile = xla
            network.make_predict_function(force=True)
            network.predict_on_batch(inputs[:batch])
            best = np.inf
            for _ in range(repeats):
                start = time.perf_counter()
                for first in range(0, spectra, batch):
                    network.predict_on_batch(inputs[first:first + batch])
                best = min(best, time.perf_counter() - start)
            rows.append((window, precision, batch, xla, spectra / best))
        network.jit_compile = False
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="nzeels-2048")
    parser.add_argument("--spectra", type=int, default=2048)
    parser.add_argument("--batch", type=int, nargs="+", default=[64, 256, 1024])
    parser.add_argument("--threads", type=int, nargs="+", default=[0, 1],
                        help="TensorFlow intra-op threads (0: all)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:  # one thread count, in its own process
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.child)
        print(json.dumps(_time_settings(args.model, args.spectra, args.batch, args.repeats)))
        return
    results = []
    for threads in args.threads:
        out = subprocess.run(
            [sys.executable, __file__, "--model", args.model, "--spectra", str(args.spectra),
             "--repeats", str(args.repeats), "--child", str(threads), "--batch",
             *map(str, args.batch)],
            check=True, capture_output=True, text=True,
            env=os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2"})
        results += [(threads, *row) for row in json.loads(out.stdout.strip().splitlines()[-1])]
    first = results[0][-1]
    print(f"{args.model}, {args.spectra} spectra of 2048 channels, best of {args.repeats}; "
          f"{os.cpu_count()} CPUs")
    print(f"{'threads':>7s} {'window':>6s} {'precision':>9s} {'batch':>5s} {'XLA':>5s} "
          f"{'spectra/s':>9s} {'ratio':>6s}")
    for threads, window, precision, batch, xla, rate in results:
        print(f"{threads or 'all':>7} {window:6d} {precision:>9s} {batch:5d} {str(xla):>5s} "
              f"{rate:9.0f} {rate / first:5.2f}x")


if __name__ == "__main__":
    main()
