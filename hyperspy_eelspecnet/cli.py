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


def _deconvolve(args: argparse.Namespace) -> int:
    from .batch import deconvolve_files

    try:
        summary = deconvolve_files(
            args.inputs, model=args.model, out_dir=args.out, method=args.method,
            psf=args.psf, iterations=args.iterations, overwrite=args.overwrite,
            show_progressbar=not args.no_progressbar,
        )
    except (ValueError, OSError) as error:
        return _error("deconvolve", error)
    print(summary)
    return summary.exit_status


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    try:
        paths = run_demo(args.out, model=args.model)
    except (ValueError, OSError) as error:
        return _error("demo", error)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def _error(command: str, error: Exception) -> int:
    print(f"eelspecnet {command}: error: {error}", file=sys.stderr)
    return 2


def _add_model_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="nzeels-2048",
                        help="shipped model name or exported model directory (default: %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from .batch import METHODS

    parser = argparse.ArgumentParser(prog="eelspecnet", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a network from a YAML config")
    p.add_argument("config", help="YAML file or shipped config name (nzeels-2048)")
    p.add_argument("--run-dir", required=True, help="checkpoints and history go here")
    p.add_argument("--stop-after", type=int, default=None,
                   help="stop with a checkpoint after this many steps in total")
    p.set_defaults(func=_train)

    p = sub.add_parser("deconvolve", help="deconvolve spectrum-image files into .zspy files")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help=".dm4/.dm3/.hspy/.zspy files, folders of them or glob patterns")
    _add_model_argument(p)
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output folder (default: beside each input)")
    p.add_argument("--method", choices=tuple(METHODS), default="eelspecnet")
    p.add_argument("--psf", default=None, metavar="FILE",
                   help="richardson-lucy: file holding one vacuum ZLP spectrum")
    p.add_argument("--iterations", type=int, default=50, help="richardson-lucy iterations")
    p.add_argument("--overwrite", action="store_true", help="redo maps already written")
    p.add_argument("--no-progressbar", action="store_true", help="print only the summary")
    p.set_defaults(func=_deconvolve)

    p = sub.add_parser("demo", help="deconvolve the bundled silver-nanowire map and plot it")
    p.add_argument("--out", default=".", metavar="DIR", help="folder of the figure and map")
    _add_model_argument(p)
    p.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``eelspecnet`` command."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
