"""How far a change in how a model runs moves its evaluation figures.

Usage::

    python scripts/figure_changes.py precision [N] [MODEL ...]
    python scripts/figure_changes.py window WINDOW [N] [MODEL ...] [--update-cards]

``precision`` compares float32 with bfloat16 inference; ``window``
compares the card's full window (``preprocessing.length``) with the
smallest window of WINDOW channels or more that holds each spectrum.

Draws the generated evaluation sets of ``eelspecnet evaluate`` (seed
20221017; N spectra in ``noise``, ``widths`` and ``fidelity``, N/2 in
``shifted`` and ``poisson``, N/4 in each channel-count set; N = 400 by
default) and reads the six WS2 spectra of ``../shared/realdata``. Each
model (by default the shipped ones) restores the same spectra both ways;
every measure of ``evaluation.generated.measure`` and
``evaluation.real_data.score_real`` is summarised (median, 5th and 95th
percentile; medians only for the measured spectra) and printed with its
relative change. The last lines count the figures that move by more
than 2 %, the bound of the speed issue.

For ``window`` it also prints, per set, the median and 95th percentile
over spectra of how far the two restorations differ, as a fraction of
how far the first is from the truth (RMS over all channels, and over
the loss region from 3 channels past the ZLP): the model's own error.
With ``--update-cards`` it writes WINDOW as the card's
``preprocessing.min_length`` for each model whose 95th percentiles stay
below :data:`WITHIN_OWN_ERROR` and that moves no figure by more than
2 %.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np

from hyperspy_eelspecnet.evaluation.generated import LOSS_REGION_START, evaluation_sets, measure
from hyperspy_eelspecnet.evaluation.real_data import load_real_set, score_real
from hyperspy_eelspecnet.inference.restore import restore_spectra
from hyperspy_eelspecnet.models.registry import ModelSpec, resolve_model, write_card

REAL = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "ws2_25meV"
WS2_DISPERSION = 0.025013
MOVE_BOUND = 0.02
#: The largest 95th percentile of (window difference / own error) that
#: lets ``--update-cards`` write a smaller window.
WITHIN_OWN_ERROR = 0.5
STATISTICS = {"median": np.nanmedian,
              "p5": lambda v: np.nanpercentile(v, 5),
              "p95": lambda v: np.nanpercentile(v, 95)}


def _with_window(model: ModelSpec, window: int | None) -> ModelSpec:
    """``model`` running each spectrum in the smallest window from ``window``.

    ``None`` runs every spectrum in the card's full ``length``.
    """
    pre = model.preprocessing.model_copy(update={"min_length": window})
    return dataclasses.replace(model, card=model.card.model_copy(update={"preprocessing": pre}))


def _rms(a: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    a = a if mask is None else np.where(mask, a, 0.0)
    return np.sqrt(np.mean(a ** 2, axis=1))


def _own_error_fractions(restored: list[np.ndarray], s, zlp_free: bool) -> dict[str, np.ndarray]:
    """Per spectrum: |first - second| / |first - truth|, in RMS."""
    loss = np.arange(s.truth.shape[1])[None, :] - s.zlp_channel[:, None] >= LOSS_REGION_START
    truth = np.where(loss, s.truth, 0.0) if zlp_free else s.truth
    first, second = restored
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {"loss_region": _rms(second - first, loss) / _rms(first - truth, loss)}
        if not zlp_free:
            out["all"] = _rms(second - first) / _rms(first - truth)
    return out


def _figures(variants, spectra_sets, real, fractions):
    """(set, measure, statistic, first value, second value) of two variants of one model.

    ``variants`` is two (ModelSpec, precision) pairs; for each set the
    own-error fractions are appended to ``fractions``.
    """
    zlp_free = variants[0][0].preprocessing.target == "zlp_free"
    rows = []
    for s in spectra_sets:
        restored = [restore_spectra(s.distorted, m, precision=p) for m, p in variants]
        fractions.append((s.name, _own_error_fractions(restored, s, zlp_free)))
        by_variant = [measure(r, s, zlp_free=zlp_free) for r in restored]
        for name in by_variant[0]:
            for stat, function in STATISTICS.items():
                values = [function(np.asarray(m[name], float)) for m in by_variant]
                rows.append((s.name, name, stat, *values))
    scored = [score_real(restore_spectra(real.specimen, m, precision=p), real,
                         zlp_free=zlp_free, flat_ev=(36.0, 39.0)) for m, p in variants]
    for name in scored[0]:
        values = [np.asarray(m[name], float) for m in scored]
        if np.isfinite(values[0]).any():
            rows.append(("ws2", name, "median", *(np.nanmedian(v) for v in values)))
    return rows


def main(argv: list[str]) -> None:
    update_cards = "--update-cards" in argv
    argv = [a for a in argv if a != "--update-cards"]
    kind, argv = argv[0], argv[1:]
    if kind not in ("precision", "window"):
        raise SystemExit("give 'precision' or 'window WINDOW' first (see the docstring)")
    window = int(argv.pop(0)) if kind == "window" else None
    n = int(argv[0]) if argv else 400
    models = argv[1:] or ["nzeels-2048", "nzeels-2048-nozlp"]
    spectra_sets = evaluation_sets({"noise": n, "widths": n, "fidelity": n, "shifted": n // 2,
                                    "poisson": n // 2, "channels-1024": n // 4,
                                    "channels-4096": n // 4})
    real = load_real_set(REAL, WS2_DISPERSION)
    for name in models:
        model = resolve_model(name)
        variants = ([(model, "float32"), (model, "bfloat16")] if kind == "precision"
                    else [(_with_window(model, None), "float32"),
                          (_with_window(model, window), "float32")])
        fractions: list = []
        moved = total = 0
        for set_name, measure_name, stat, first, second in _figures(variants, spectra_sets,
                                                                    real, fractions):
            change = abs(second - first) / abs(first) if first else float("nan")
            total += np.isfinite(change)
            moved += bool(change > MOVE_BOUND)
            print(f"{name:18s} {set_name:14s} {measure_name:28s} {stat:6s} "
                  f"{first:10.4g} {second:10.4g} {change:8.1%}")
        print(f"{name}: {moved} of {total} figures move by more than 2 % ({kind})")
        if kind == "window":
            worst = 0.0
            for set_name, by_region in fractions:
                for region, values in by_region.items():
                    p95 = np.nanpercentile(values, 95)
                    worst = max(worst, p95)
                    print(f"{name:18s} {set_name:14s} window difference / own error, "
                          f"{region:11s} median {np.nanmedian(values):.3g}, p95 {p95:.3g}")
            passes = worst < WITHIN_OWN_ERROR and moved == 0
            print(f"{name}: window {window} {'passes' if passes else 'fails'} "
                  f"(largest p95 {worst:.3g}, bound {WITHIN_OWN_ERROR}; {moved} figures moved)")
            if update_cards and passes:
                write_card(model.path, _with_window(model, window).card)
                print(f"{name}: wrote preprocessing.min_length {window} to {model.path}")


if __name__ == "__main__":
    main(sys.argv[1:])
