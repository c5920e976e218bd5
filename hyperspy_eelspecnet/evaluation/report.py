"""The report of ``eelspecnet evaluate``: tables, figures and model cards.

:func:`report_generated` runs the paper's evaluation on generated sets,
:func:`report_real` the checks on measured spectra, :func:`report_near_zlp`
the near-ZLP, cropped and gain-side sets seen through real ZLP shapes.
Each writes a Markdown table headed by the command that made it and can
record its figures, with that command, in each model's card.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from hyperspy_eelspecnet.evaluation import (
    comparison,
    cropped,
    gain_side,
    generated,
    near_zlp,
    real_data,
    responses,
)
from hyperspy_eelspecnet.evaluation.plots import write_near_zlp_plots, write_plots
from hyperspy_eelspecnet.inference.precision import resolve_precision
from hyperspy_eelspecnet.models.registry import (
    list_models,
    resolve_model,
    resolve_models,
    write_card,
)

#: The sets of :func:`report_near_zlp`: name to (evaluating function, default size).
NEAR_ZLP_SETS = {
    "near-zlp": (near_zlp.evaluate_near_zlp, near_zlp.BOXES),
    "cropped": (cropped.evaluate_cropped, cropped.SPECTRA),
    "gain-side": (gain_side.evaluate_gain_side, gain_side.SPECTRA),
}


@dataclass(frozen=True)
class Report:
    """What a report wrote.

    Attributes
    ----------
    section
        The model-card section it fills: ``evaluation``, ``real_data`` or
        ``near_zlp``.
    text
        The text of the table file.
    table
        The table file.
    figures
        The figure files.
    cards
        The model cards it updated.
    """

    section: str
    text: str
    table: Path
    figures: list[Path]
    cards: list[Path]


def report_generated(out_dir: str | Path, models: list[str] | None = None, *,
                     command: str = "", spectra_per_set: int | None = None,
                     seed: int = generated.EVALUATION_SEED,
                     rl_iterations: tuple[int, ...] = generated.RL_ITERATIONS,
                     jitter_centred: bool = True, precision: str = "auto",
                     update_cards: bool = False) -> Report:
    """Evaluate models against Richardson-Lucy on generated sets.

    Writes ``evaluation.json`` (the summary), ``evaluation.md`` (the
    table) and the figures into ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder of the results (created if missing).
    models
        Names or paths of models; None evaluates every shipped model.
    command
        The command that made the report, recorded with it.
    spectra_per_set
        Spectra in every set; None takes the paper's sizes
        (:data:`~hyperspy_eelspecnet.evaluation.generated.DEFAULT_SIZES`).
    seed, rl_iterations, jitter_centred, precision
        See :func:`hyperspy_eelspecnet.evaluation.generated.evaluate`;
        the precision the networks ran in heads the table and is in
        ``evaluation.json``.
    update_cards
        Record the summary and ``command`` in each model's card
        (section ``evaluation``).

    Returns
    -------
    Report
    """
    models = _models_or_shipped(models)
    out = _folder(out_dir)
    sizes = generated.DEFAULT_SIZES if spectra_per_set is None else {
        name: spectra_per_set for name in generated.DEFAULT_SIZES}
    result, sets, restorations = generated.evaluate(
        models, sizes, seed=seed, rl_iterations=tuple(rl_iterations),
        jitter_centred=jitter_centred, precision=precision)
    result.to_json(out / "evaluation.json")
    cards = update_model_cards(models, "evaluation", command, {
        "seed": result.seed, "sizes": result.sizes,
        "jitter_centred": result.jitter_centred, "summary": result.summary(),
    }) if update_cards else []
    header = (f"Models {', '.join(models)} against Richardson-Lucy; seed {result.seed}; "
              f"spectra per set {result.sizes}; jitter "
              f"{'centred' if result.jitter_centred else 'as in the paper'}; "
              f"networks in {result.precision}")
    table = out / "evaluation.md"
    text = write_table(table, header, command, generated.format_table(result))
    figures = write_plots(result, sets, restorations, out, _quasi_dirac_model(result))
    return Report("evaluation", text, table, figures, cards)


def report_real(folder: str | Path, dispersion: float, out_dir: str | Path,
                models: list[str] | None = None, *, command: str = "",
                flat_ev: tuple[float, float] | None = None, precision: str = "auto",
                update_cards: bool = False) -> Report:
    """Check restorations of measured spectra and write ``real_data.md``.

    Parameters
    ----------
    folder
        Folder of the measured spectra
        (:func:`hyperspy_eelspecnet.evaluation.real_data.load_real_set`).
    dispersion
        eV per channel of those spectra.
    out_dir
        Folder of the table (created if missing).
    models
        Names or paths of models; None checks every shipped model.
    command
        The command that made the report, recorded with it.
    flat_ev
        See :func:`hyperspy_eelspecnet.evaluation.real_data.score_real`.
    precision
        See :func:`hyperspy_eelspecnet.evaluation.real_data.evaluate_real`;
        the precision the networks ran in heads the table.
    update_cards
        Record the summaries, the vacuum floor and ``command`` in each
        model's card (section ``real_data``).

    Returns
    -------
    Report
    """
    models = _models_or_shipped(models)
    out = _folder(out_dir)
    real = real_data.load_real_set(folder, dispersion)
    precision = resolve_precision(precision)
    results = real_data.evaluate_real(real, models, flat_ev=flat_ev, precision=precision)
    floor = real_data.summarize_real(real_data.vacuum_floor(real))
    header = (f"Real spectra in {folder} ({dispersion} eV/channel), networks in "
              f"{precision}. A perfect "
              "restoration of the vacuum recordings (all counts in the ZLP's channel) "
              f"leaves a re-convolution residual of {floor['median']:.3g} "
              f"({floor['min']:.3g}..{floor['max']:.3g}): the recordings differ "
              "from their median beyond their noise")
    table = out / "real_data.md"
    text = write_table(table, header, command, real_data.format_real_table(results))
    cards = update_model_cards(models, "real_data", command, {
        "vacuum_floor": floor,
        **{method: {k: real_data.summarize_real(v) for k, v in measures.items()}
           for method, measures in results.items()},
    }) if update_cards else []
    return Report("real_data", text, table, [], cards)


def report_near_zlp(out_dir: str | Path, models: list[str] | None = None, *,
                    sets: tuple[str, ...] = tuple(NEAR_ZLP_SETS), command: str = "",
                    realdata: str | Path = responses.REALDATA, size: int | None = None,
                    seed: int = generated.EVALUATION_SEED,
                    rl_iterations: tuple[int, ...] = comparison.NEAR_ZLP_RL_ITERATIONS,
                    precision: str = "auto", plots: bool = False,
                    update_cards: bool = False) -> Report:
    """Evaluate models against Richardson-Lucy on the near-ZLP, cropped and gain-side sets.

    Writes ``near_zlp.md`` (a table per set, headed by the command) and
    ``near_zlp.json`` (their summaries, with the seed, sizes and
    precision) into ``out_dir``, and with ``plots`` a figure per set
    (``<set>.png``).

    Parameters
    ----------
    out_dir
        Folder of the results (created if missing).
    models
        Names or paths of models; None evaluates every shipped model.
    sets
        Keys of :data:`NEAR_ZLP_SETS`.
    command
        The command that made the report, recorded with it.
    realdata
        The folder of the vacuum ZLP recordings (see
        :func:`~hyperspy_eelspecnet.evaluation.responses.check_realdata`).
    size
        Boxes (``near-zlp``) or spectra (the others) per subset; None
        takes each set's default.
    seed
        Seed of the sets; refused if a model trained on it.
    rl_iterations
        Richardson-Lucy iteration counts beside the models.
    precision
        Arithmetic of the networks (see
        :func:`~hyperspy_eelspecnet.inference.restore.restore_spectra`).
    plots
        Also write the figures.
    update_cards
        Record the summaries and ``command`` in each model's card
        (section ``near_zlp``).

    Returns
    -------
    Report

    Raises
    ------
    ValueError
        For an unknown set.
    FileNotFoundError
        If the realdata folder lacks the recordings.
    """
    unknown = set(sets) - set(NEAR_ZLP_SETS)
    if unknown:
        raise ValueError(f"unknown sets {sorted(unknown)}; known: {list(NEAR_ZLP_SETS)}")
    models = _models_or_shipped(models)
    responses.check_realdata(realdata)
    out = _folder(out_dir)
    specs = resolve_models(models)
    generated.check_seed(seed, specs)
    precision = resolve_precision(precision)
    sizes = {name: NEAR_ZLP_SETS[name][1] if size is None else size for name in sets}
    results = [NEAR_ZLP_SETS[name][0](specs, size=sizes[name], seed=seed, realdata=realdata,
                                      rl_iterations=tuple(rl_iterations), precision=precision)
               for name in sets]
    record = {"seed": seed, "sizes": sizes, "precision": precision,
              "responses": list(responses.RESPONSES),
              "summary": {r.name: r.summary() for r in results}}
    (out / "near_zlp.json").write_text(json.dumps(record, indent=2) + "\n")
    header = (f"Models {', '.join(s.name for s in specs)} against Richardson-Lucy on the "
              f"near-ZLP sets; seed {seed}; responses {', '.join(responses.RESPONSES)} "
              f"({responses.MAIN_RESPONSE} held out from training); networks in {precision}")
    tables = "\n\n".join(f"## {r.name}\n\n{r.description}.\n\n{comparison.format_set_table(r)}"
                          for r in results)
    table = out / "near_zlp.md"
    text = write_table(table, header, command, tables)
    cards = update_model_cards(models, "near_zlp", command, {
        k: record[k] for k in ("seed", "sizes", "summary")}) if update_cards else []
    return Report("near_zlp", text, table, write_near_zlp_plots(results, out) if plots else [],
                  cards)


def update_model_cards(models: list[str], section: str, command: str,
                       figures: dict) -> list[Path]:
    """Record figures and the command that made them in each model's card.

    Parameters
    ----------
    models
        Names or paths of models.
    section
        The card's section to replace.
    command
        The command that made the figures.
    figures
        The section's content besides ``command``.

    Returns
    -------
    list of pathlib.Path
        The card files written.
    """
    written = []
    for name in models:
        spec = resolve_model(name)
        card = spec.card.updated(**{section: {"command": command, **figures}})
        written.append(write_card(spec.path, card))
    return written


def write_table(path: Path, header: str, command: str, table: str) -> str:
    """Write a Markdown table under its header and command; return the text."""
    text = f"{header}.\n\nMade with `{command}`.\n\n{table}\n"
    path.write_text(text)
    return text


def _models_or_shipped(models: list[str] | None) -> list[str]:
    return list(models) if models else sorted(list_models())


def _folder(out_dir: str | Path) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return out


def _quasi_dirac_model(result: generated.Evaluation) -> str | None:
    """The first model restoring the quasi-Dirac target: the one the examples show."""
    widths = result.values.get("widths", {})
    return next((m for m in result.methods
                 if not m.startswith("RL-") and "fwhm_recovery" in widths.get(m, {})), None)
