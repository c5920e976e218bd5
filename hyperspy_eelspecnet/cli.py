"""The ``eelspecnet`` command: a thin layer over the library functions."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path


def _train(args: argparse.Namespace) -> int:
    from hyperspy_eelspecnet.training.config import TrainingConfig
    from hyperspy_eelspecnet.training.train import train

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


def _export(args: argparse.Namespace) -> int:
    import json

    import keras

    from hyperspy_eelspecnet.models import layers  # noqa: F401  (registers the custom layers)
    from hyperspy_eelspecnet.training.config import TrainingConfig
    from hyperspy_eelspecnet.training.export import export_model

    run = Path(args.run_dir)
    state = json.loads((run / "state.json").read_text())
    commands = (run / "commands.txt").read_text().splitlines()
    out = export_model(
        keras.saving.load_model(run / "checkpoint.keras", compile=False),
        TrainingConfig.from_yaml(run / "config.yaml"), args.out,
        command=commands[0] if commands else "", training_time_s=round(state["elapsed_s"]),
        steps=state["step"], overwrite=args.overwrite,
    )
    print(f"exported {run} (step {state['step']}) to {out}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from hyperspy_eelspecnet.evaluation import generated as evaluation
    from hyperspy_eelspecnet.evaluation import real_data
    from hyperspy_eelspecnet.models.registry import list_models

    models = args.model or sorted(list_models())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = shlex.join(["eelspecnet", *args.argv])
    if args.real:
        real = real_data.load_real_set(args.real, args.dispersion)
        results = real_data.evaluate_real(real, models,
                                          flat_ev=tuple(args.flat) if args.flat else None)
        table = real_data.format_real_table(results)
        floor = real_data.summarize_real(real_data.vacuum_floor(real))
        header = (f"Real spectra in {args.real} ({args.dispersion} eV/channel). A perfect "
                  "restoration of the vacuum recordings (all counts in the ZLP's channel) "
                  f"leaves a re-convolution residual of {floor['median']:.3g} "
                  f"({floor['min']:.3g}..{floor['max']:.3g}): the recordings differ "
                  "from their median beyond their noise")
        _write_table(out / "real_data.md", header, command, table)
        if args.update_cards:
            _update_cards(models, "real_data", command, {
                "vacuum_floor": floor,
                **{method: {k: real_data.summarize_real(v) for k, v in measures.items()}
                   for method, measures in results.items()}})
        return 0
    sizes = evaluation.DEFAULT_SIZES if args.n is None else {
        name: args.n for name in evaluation.DEFAULT_SIZES}
    result, sets, restorations = evaluation.evaluate(
        models, sizes, seed=args.seed, rl_iterations=tuple(args.rl_iterations),
        jitter_centred=not args.paper_jitter)
    result.to_json(out / "evaluation.json")
    if args.update_cards:
        summary = result.summary()
        _update_cards(models, "evaluation", command, {
            "seed": result.seed, "sizes": result.sizes,
            "jitter_centred": result.jitter_centred, "summary": summary})
    header = (f"Models {', '.join(models)} against Richardson-Lucy; seed {args.seed}; "
              f"spectra per set {result.sizes}; jitter "
              f"{'centred' if result.jitter_centred else 'as in the paper'}")
    _write_table(out / "evaluation.md", header, command, evaluation.format_table(result))
    from hyperspy_eelspecnet.evaluation.plots import write_plots

    widths = result.values.get("widths", {})
    quasi_dirac = [m for m in result.methods
                   if not m.startswith("RL-") and "fwhm_recovery" in widths.get(m, {})]
    for path in write_plots(result, sets, restorations, out, quasi_dirac[0] if quasi_dirac else None):
        print(f"figure: {path}")
    return 0


def _update_cards(models: list[str], section: str, command: str, figures: dict) -> None:
    """Record figures and the command that made them in each model's card."""
    from hyperspy_eelspecnet.models.registry import resolve_model
    from hyperspy_eelspecnet.training.export import write_card

    for name in models:
        spec = resolve_model(name)
        card = dict(spec.card)
        card[section] = {"command": command, **figures}
        write_card(spec.path, card)
        print(f"updated {spec.path / 'card.json'} [{section}]")


def _write_table(path: Path, header: str, command: str, table: str) -> None:
    text = f"{header}.\n\nMade with `{command}`.\n\n{table}\n"
    path.write_text(text)
    print(text)
    print(f"table: {path}")


def _deconvolve(args: argparse.Namespace) -> int:
    from hyperspy_eelspecnet.tools.batch import deconvolve_files

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


def _add_model_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="nzeels-2048",
                        help="shipped model name or exported model directory (default: %(default)s)")


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
    p.set_defaults(func=_train)

    p = sub.add_parser("export", help="export a training run as a model directory")
    p.add_argument("run_dir", help="run directory of eelspecnet train")
    p.add_argument("--out", required=True, metavar="DIR", help="model directory to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing directory")
    p.set_defaults(func=_export)

    from hyperspy_eelspecnet.evaluation.generated import EVALUATION_SEED, RL_ITERATIONS

    p = sub.add_parser("evaluate", help="the paper's evaluation, or checks on real spectra")
    p.add_argument("--model", action="append", metavar="NAME|PATH",
                   help="model to evaluate (repeatable; default: every shipped model)")
    p.add_argument("--n", type=int, default=None,
                   help="spectra per evaluation set (default: the paper's sizes)")
    p.add_argument("--seed", type=int, default=EVALUATION_SEED)
    p.add_argument("--rl-iterations", type=int, nargs="*", default=list(RL_ITERATIONS))
    p.add_argument("--paper-jitter", action="store_true",
                   help="leave the first jitter copy unshifted, as the paper's generator")
    p.add_argument("--real", metavar="DIR", default=None,
                   help="check restorations of measured spectra (vacuum_*.txt and others)")
    p.add_argument("--dispersion", type=float, default=None,
                   help="eV per channel of the --real spectra")
    p.add_argument("--flat", type=float, nargs=2, metavar=("START", "END"), default=None,
                   help="--real: smooth stretch (eV past the ZLP) for level and noise; "
                   "default the last 3 eV")
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
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv
    if args.command == "evaluate" and args.real and args.dispersion is None:
        parser.error("--real needs --dispersion (eV per channel of those spectra)")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
