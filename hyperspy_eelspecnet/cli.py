"""The ``eelspecnet`` command: a thin layer over the library functions."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path


def _train(args: argparse.Namespace) -> int:
    from .training.config import TrainingConfig
    from .training.train import train

    config = TrainingConfig.from_yaml(_config_path(args.config))
    run_dir = Path(args.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / "commands.txt", "a") as f:
        f.write(shlex.join(["eelspecnet", *args.argv]) + "\n")
    result = train(config, run_dir, stop_after=args.stop_after)
    print(f"trained {result.steps} steps in {result.elapsed_s:.0f} s; run in {run_dir}")
    return 0


def _config_path(name: str) -> Path:
    """A config file, or the name of one shipped in training/configs."""
    path = Path(name)
    if path.exists():
        return path
    shipped = Path(__file__).parent / "training" / "configs" / f"{name}.yaml"
    if shipped.exists():
        return shipped
    raise SystemExit(f"no training config {name!r}: give a YAML file or a shipped name")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="eelspecnet", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a network from a YAML config")
    p.add_argument("config", help="YAML file or shipped config name (nzeels-2048)")
    p.add_argument("--run-dir", required=True, help="checkpoints and history go here")
    p.add_argument("--stop-after", type=int, default=None,
                   help="stop with a checkpoint after this many steps in total")
    p.set_defaults(func=_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``eelspecnet`` command."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
