"""Rate of the training-spectrum generator on the paper's 6000-spectrum set.

Usage: python benchmarks/bench_generator.py [--n 6000] [--repeat 3]

Prints the seconds for the paper's training set (the authors' per-channel
loops take minutes) and spectra per second, for the paper's recipe and
for the widened recipe of the shipped nzeels-2048 model.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from hyperspy_eelspecnet.simulation import GeneratorConfig, SpectrumGenerator
from hyperspy_eelspecnet.training import TrainingConfig

CONFIGS = Path(__file__).parents[1] / "hyperspy_eelspecnet" / "training" / "configs"


def time_generation(config: GeneratorConfig, n: int, repeat: int) -> float:
    """Best wall time of ``repeat`` draws of ``n`` spectra."""
    best = float("inf")
    for seed in range(repeat):
        start = time.perf_counter()
        SpectrumGenerator(config, seed).generate(n)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; {args.n} spectra of 2048 channels, best of {args.repeat}")
    recipes = {"paper recipe": GeneratorConfig()}
    wide = CONFIGS / "nzeels-2048.yaml"
    if all(Path(CONFIGS.parents[2], f).exists()
           for f in TrainingConfig.from_yaml(wide).generator.measured_zlp_files):
        recipes["nzeels-2048 recipe"] = TrainingConfig.from_yaml(wide).generator
    for label, config in recipes.items():
        seconds = time_generation(config, args.n, args.repeat)
        print(f"{label:20s} {seconds:6.2f} s  {args.n / seconds:8.0f} spectra/s")


if __name__ == "__main__":
    main()
