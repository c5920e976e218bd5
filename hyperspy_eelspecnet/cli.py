"""The ``eelspecnet`` command: a thin layer over the library functions."""

from __future__ import annotations

import argparse
import shlex
import sys


def _train(args: argparse.Namespace) -> int:
    from hyperspy_eelspecnet.training.config import TrainingConfig, find_config
    from hyperspy_eelspecnet.training.draws import check_workers
    from hyperspy_eelspecnet.training.run_dir import RunDir
    from hyperspy_eelspecnet.training.train import train

    try:
        config = TrainingConfig.from_yaml(find_config(args.config))
    except FileNotFoundError as error:
        raise SystemExit(str(error)) from None
    try:
        check_workers(config, args.workers)
    except ValueError as error:
        return _error("train", error)
    run = RunDir(args.run_dir)
    run.record_command(_command(args))
    result = train(config, run.path, stop_after=args.stop_after, workers=args.workers)
    print(f"trained {result.steps} steps in {result.elapsed_s:.0f} s; run in {run.path}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from hyperspy_eelspecnet.training.export import export_run
    from hyperspy_eelspecnet.training.run_dir import RunDir

    run = RunDir(args.run_dir)
    out = export_run(run.path, args.out, overwrite=args.overwrite)
    print(f"exported {run.path} (step {run.read_state().step}) to {out}")
    return 0


def _export_refined(args: argparse.Namespace) -> int:
    from hyperspy_eelspecnet.models.registry import resolve_model
    from hyperspy_eelspecnet.training.export import export_refined

    out = export_refined(resolve_model(args.base).path, args.out, name=args.name,
                         iterations=args.iterations, output=args.output,
                         reach_fwhm=args.reach_fwhm, near_iterations=args.near_iterations,
                         near_reach_fwhm=args.near_reach_fwhm,
                         significance=args.significance, command=_command(args),
                         overwrite=args.overwrite)
    print(f"wrote {out}: {args.base} refined with {args.iterations} iterations")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from hyperspy_eelspecnet.evaluation.comparison import NEAR_ZLP_RL_ITERATIONS
    from hyperspy_eelspecnet.evaluation.generated import RL_ITERATIONS
    from hyperspy_eelspecnet.evaluation.report import (
        NEAR_ZLP_SETS,
        report_generated,
        report_near_zlp,
        report_real,
    )
    from hyperspy_eelspecnet.evaluation.responses import REALDATA

    if args.real:
        report = report_real(args.real, args.dispersion, args.out, args.model,
                             command=_command(args),
                             flat_ev=tuple(args.flat) if args.flat else None,
                             precision=args.precision, update_cards=args.update_cards)
    elif args.near_zlp is not None:
        try:
            report = report_near_zlp(
                args.out, args.model, sets=tuple(args.near_zlp or NEAR_ZLP_SETS),
                command=_command(args),
                realdata=args.realdata or REALDATA, size=args.n, seed=args.seed,
                rl_iterations=_or(args.rl_iterations, NEAR_ZLP_RL_ITERATIONS),
                precision=args.precision, plots=args.plots, update_cards=args.update_cards)
        except FileNotFoundError as error:
            return _error("evaluate", error)
    else:
        report = report_generated(args.out, args.model, command=_command(args),
                                  spectra_per_set=args.n, seed=args.seed,
                                  rl_iterations=_or(args.rl_iterations, RL_ITERATIONS),
                                  jitter_centred=not args.paper_jitter,
                                  precision=args.precision, update_cards=args.update_cards)
    print(report.text)
    print(f"table: {report.table}")
    for path in report.figures:
        print(f"figure: {path}")
    for path in report.cards:
        print(f"updated {path} [{report.section}]")
    return 0


def _or(values: list[int] | None, default: tuple[int, ...]) -> tuple[int, ...]:
    """``values`` as given on the command line, or ``default`` if not given."""
    return default if values is None else tuple(values)


def _command(args: argparse.Namespace) -> str:
    """The command line as typed, to record beside what it made."""
    return shlex.join(["eelspecnet", *args.argv])


def _deconvolve(args: argparse.Namespace) -> int:
    from hyperspy_eelspecnet.tools.batch import deconvolve_files

    try:
        summary = deconvolve_files(
            args.inputs, model=args.model, out_dir=args.out, method=args.method,
            psf=args.psf, iterations=args.iterations, precision=args.precision,
            overwrite=args.overwrite, show_progressbar=not args.no_progressbar,
        )
    except (ValueError, OSError) as error:
        return _error("deconvolve", error)
    print(summary)
    return summary.exit_status


def _demo(args: argparse.Namespace) -> int:
    from hyperspy_eelspecnet.tools.demo import run_demo

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


def _iteration_count(text: str) -> int:
    """Argument type of the Richardson-Lucy iteration counts, checked as the library does."""
    from hyperspy_eelspecnet.restoration.richardson_lucy import check_iterations

    try:
        return check_iterations(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an iteration count (an integer >= 1)"
        ) from None


def _add_model_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="nzeels-2048",
                        help="shipped model name or exported model directory "
                        "(default: %(default)s)")


def _add_precision_argument(parser: argparse.ArgumentParser, what: str) -> None:
    from hyperspy_eelspecnet.inference.precision import PRECISIONS

    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help=what + "bfloat16 is faster on CPUs with AMX or AVX-512 BF16, "
                        "auto is float32 for now (default: %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from hyperspy_eelspecnet.tools.batch import METHODS

    parser = argparse.ArgumentParser(
        prog="eelspecnet",
        description="EELSpecNet deconvolution of near-zero-loss EELS spectrum images: "
        "deconvolve files, run the demo, train, export and evaluate models.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a network from a YAML config")
    p.add_argument("config", help="YAML file or shipped config name (nzeels-2048)")
    p.add_argument("--run-dir", required=True, help="checkpoints and history go here")
    p.add_argument("--stop-after", type=int, default=None,
                   help="stop with a checkpoint after this many steps in total")
    p.add_argument("--workers", type=int, default=1,
                   help="processes that draw the training spectra, for a config with "
                   "draws: blocks (the same result for any number)")
    p.set_defaults(func=_train)

    p = sub.add_parser("export", help="export a training run as a model directory")
    p.add_argument("run_dir", help="run directory of eelspecnet train")
    p.add_argument("--out", required=True, metavar="DIR", help="model directory to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing directory")
    p.set_defaults(func=_export)

    p = sub.add_parser("export-refined", help="write a model that refines a ZLP-free "
                       "model's restorations with the vacuum reference")
    p.add_argument("base", help="blind ZLP-free model: shipped name or model directory")
    p.add_argument("--name", required=True, help="the new model's name")
    p.add_argument("--iterations", type=int, required=True,
                   help="Richardson-Lucy iterations of the refinement")
    p.add_argument("--output", choices=("quasi_dirac", "zlp_free"), default="quasi_dirac",
                   help="return the loss spectrum with a quasi-Dirac ZLP (default) or alone")
    p.add_argument("--reach-fwhm", type=float, default=None,
                   help="refine within this many ZLP FWHMs of the ZLP only (default: all)")
    p.add_argument("--near-iterations", type=int, default=None,
                   help="iterations more within --near-reach-fwhm ZLP FWHMs of the ZLP")
    p.add_argument("--near-reach-fwhm", type=float, default=None,
                   help="the reach of --near-iterations, below --reach-fwhm")
    p.add_argument("--significance", type=float, default=None,
                   help="keep the first stage's change only where it exceeds this many "
                   "times the noise (default: keep it all)")
    p.add_argument("--out", required=True, metavar="DIR", help="model directory to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing directory")
    p.set_defaults(func=_export_refined)

    from hyperspy_eelspecnet.evaluation.comparison import NEAR_ZLP_RL_ITERATIONS
    from hyperspy_eelspecnet.evaluation.generated import EVALUATION_SEED, RL_ITERATIONS
    from hyperspy_eelspecnet.evaluation.report import NEAR_ZLP_SETS

    p = sub.add_parser("evaluate", help="the paper's evaluation, the near-ZLP sets, "
                       "or checks on real spectra")
    p.add_argument("--model", action="append", metavar="NAME|PATH",
                   help="model to evaluate (repeatable; default: every shipped model)")
    p.add_argument("--n", type=int, default=None,
                   help="spectra per evaluation set (default: the paper's sizes); with "
                   "--near-zlp, boxes (near-zlp) or spectra (cropped, gain-side) per subset "
                   "(default: " + ", ".join(f"{name} {size}" for name, (_, size)
                                            in NEAR_ZLP_SETS.items()) + ")")
    p.add_argument("--seed", type=int, default=EVALUATION_SEED)
    p.add_argument("--rl-iterations", type=_iteration_count, nargs="*", default=None,
                   help="Richardson-Lucy iteration counts (default: "
                   f"{' '.join(map(str, RL_ITERATIONS))}; with --near-zlp "
                   f"{' '.join(map(str, NEAR_ZLP_RL_ITERATIONS))})")
    p.add_argument("--paper-jitter", action="store_true",
                   help="leave the first jitter copy unshifted, as the paper's generator")
    p.add_argument("--real", metavar="DIR", default=None,
                   help="check restorations of measured spectra (vacuum_*.txt and others)")
    p.add_argument("--dispersion", type=float, default=None,
                   help="eV per channel of the --real spectra")
    p.add_argument("--flat", type=float, nargs=2, metavar=("START", "END"), default=None,
                   help="--real: smooth stretch (eV past the ZLP) for level and noise; "
                   "default the last 3 eV")
    p.add_argument("--near-zlp", nargs="*", choices=tuple(NEAR_ZLP_SETS), default=None,
                   metavar="SET",
                   help="evaluate on the sets seen through real vacuum ZLP shapes instead: "
                   f"{', '.join(NEAR_ZLP_SETS)} (all of them if none is named)")
    p.add_argument("--realdata", metavar="DIR", default=None,
                   help="--near-zlp: folder of the vacuum ZLP recordings "
                   "(default: shared/realdata beside the repository)")
    p.add_argument("--plots", action="store_true",
                   help="--near-zlp: also write a figure per set")
    _add_precision_argument(p, "arithmetic of the networks (recorded with the table); ")
    p.add_argument("--out", default="evaluation", metavar="DIR")
    p.add_argument("--update-cards", action="store_true",
                   help="record the figures and this command in each model's card")
    p.set_defaults(func=_evaluate)

    p = sub.add_parser("deconvolve", help="deconvolve spectrum-image files into .zspy files")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help=".dm4/.dm3/.hspy/.zspy files, folders of them or glob patterns")
    _add_model_argument(p)
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output folder (default: beside each input)")
    p.add_argument("--method", choices=tuple(METHODS), default="eelspecnet")
    p.add_argument("--psf", default=None, metavar="FILE",
                   help="file holding one vacuum ZLP spectrum: for richardson-lucy, "
                   "and for an eelspecnet model that takes a reference")
    p.add_argument("--iterations", type=_iteration_count, default=50,
                   help="richardson-lucy iterations")
    _add_precision_argument(p, "eelspecnet: arithmetic of the network; ")
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
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv
    if args.command == "evaluate" and args.real and args.dispersion is None:
        parser.error("--real needs --dispersion (eV per channel of those spectra)")
    if args.command == "evaluate" and args.real and args.near_zlp is not None:
        parser.error("--real and --near-zlp are different evaluations: give one")

    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
