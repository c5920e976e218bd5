"""Training steps of the shipped recipe's network in float32 and mixed bfloat16.

Usage: python benchmarks/bench_training.py [--config nzeels-2048] [--steps 40]
       [--warmup 3] [--rounds 4]

Builds the network of a shipped training configuration (by default
nzeels-2048, the compact 10-level net on 2048 channels) once per
precision, compiled as ``eelspecnet train`` compiles it (the recipe's loss
and optimiser), and times ``train_on_batch`` on the same generated
batches: ``--steps`` steps per precision after ``--warmup`` untimed ones,
taken in ``--rounds`` alternating rounds so that a change of load on the
machine falls on both alike. Generation, validation and checkpoints are
not timed. Prints spectra per second for each precision and their ratio,
from one run.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from hyperspy_eelspecnet.inference.precision import native_bfloat16
from hyperspy_eelspecnet.simulation import SpectrumGenerator
from hyperspy_eelspecnet.training import TrainingConfig
from hyperspy_eelspecnet.training.config import CONFIGS_DIR

PRECISIONS = ("float32", "mixed_bfloat16")


def recipe(name: str) -> TrainingConfig:
    """A shipped configuration, without its measured ZLP shapes if their files are absent."""
    config = TrainingConfig.from_yaml(CONFIGS_DIR / f"{name}.yaml")
    gen = config.generator
    if all(Path(f).exists() for f in gen.measured_zlp_files):
        return config
    shapes = gen.otf_shapes.model_copy(update={"measured": 0.0})
    print(f"measured ZLP files of {name} not found from {Path.cwd()}: without them")
    return config.model_copy(update={"generator": gen.model_copy(
        update={"otf_shapes": shapes, "measured_zlp_files": ()})})


def main() -> None:
    from hyperspy_eelspecnet.models.keras_import import import_keras
    from hyperspy_eelspecnet.training.network import build_unet
    from hyperspy_eelspecnet.training.train import compile_model, network_pairs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="nzeels-2048")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()

    keras = import_keras()
    config = recipe(args.config)
    batch, channels = config.batch_size, config.generator.channels
    x, y = network_pairs(
        SpectrumGenerator(config.generator, config.seed).generate(
            (args.warmup + args.steps) * batch),
        config,
    )
    batches = [(x[i:i + batch], y[i:i + batch]) for i in range(0, len(x), batch)]
    models, seconds = {}, dict.fromkeys(PRECISIONS, 0.0)
    for precision in PRECISIONS:
        keras.utils.set_random_seed(config.seed)
        models[precision] = build_unet(config.network, channels, name=config.name,
                                       precision=precision)
        compile_model(models[precision], config)
        for inputs, targets in batches[:args.warmup]:
            models[precision].train_on_batch(inputs, targets)
    print(f"{os.cpu_count()} CPUs (native bfloat16: {native_bfloat16()}); {args.config} network, "
          f"{channels} channels, batch {batch}, {args.steps} steps after {args.warmup} warm-up")
    timed = batches[args.warmup:]
    for part in np.array_split(np.arange(len(timed)), args.rounds):
        for precision in PRECISIONS:
            start = time.perf_counter()
            for i in part:
                models[precision].train_on_batch(*timed[i])
            seconds[precision] += time.perf_counter() - start
    rate = {precision: args.steps * batch / seconds[precision] for precision in PRECISIONS}
    for precision in PRECISIONS:
        print(f"train {precision:15s} {rate[precision]:8.1f} spectra/s "
              f"({seconds[precision]:.1f} s)")
    print(f"ratio mixed_bfloat16 / float32: {rate['mixed_bfloat16'] / rate['float32']:.2f}x")


if __name__ == "__main__":
    main()
