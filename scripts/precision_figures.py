"""How far bfloat16 inference moves the evaluation figures from float32.

Usage: python scripts/precision_figures.py [N] [MODEL ...]

Draws the generated evaluation sets of ``eelspecnet evaluate`` (seed
20221017; N spectra in ``noise``, ``widths`` and ``fidelity``, N/2 in
``shifted`` and ``poisson``, N/4 in each channel-count set; N = 400 by
default) and reads the six WS2 spectra of ``../shared/realdata``. Each
model (by default the shipped ones) restores the same spectra at both
precisions; every measure of ``evaluation.generated.measure`` and
``evaluation.real_data.score_real`` is summarised (median, 5th and 95th
percentile; medians only for the measured spectra) and printed with its
relative change. The last lines count the figures that move by more
than 2 %, the bound under which bfloat16 may become the default
(``inference.precision.AUTO_USES_BFLOAT16``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from hyperspy_eelspecnet.evaluation.generated import evaluation_sets, measure
from hyperspy_eelspecnet.evaluation.real_data import load_real_set, score_real
from hyperspy_eelspecnet.inference.restore import restore_spectra
from hyperspy_eelspecnet.models.registry import resolve_model

REAL = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "ws2_25meV"
WS2_DISPERSION = 0.025013
PRECISIONS = ("float32", "bfloat16")
STATISTICS = {"median": np.nanmedian,
              "p5": lambda v: np.nanpercentile(v, 5),
              "p95": lambda v: np.nanpercentile(v, 95)}


def _figures(model, spectra_sets, real) -> list[tuple[str, str, str, float, float]]:
    """(set, measure, statistic, float32 value, bfloat16 value) of one model."""
    zlp_free = model.card.preprocessing.target == "zlp_free"
    rows = []
    for s in spectra_sets:
        by_precision = [measure(restore_spectra(s.distorted, model, precision=p), s,
                                zlp_free=zlp_free) for p in PRECISIONS]
        for name in by_precision[0]:
            for stat, function in STATISTICS.items():
                values = [function(np.asarray(m[name], float)) for m in by_precision]
                rows.append((s.name, name, stat, *values))
    scored = [score_real(restore_spectra(real.specimen, model, precision=p), real,
                         zlp_free=zlp_free, flat_ev=(36.0, 39.0)) for p in PRECISIONS]
    for name in scored[0]:
        values = [np.asarray(m[name], float) for m in scored]
        if np.isfinite(values[0]).any():
            rows.append(("ws2", name, "median", *(np.nanmedian(v) for v in values)))
    return rows


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 400
    models = argv[1:] or ["nzeels-2048", "nzeels-2048-nozlp"]
    spectra_sets = evaluation_sets({"noise": n, "widths": n, "fidelity": n, "shifted": n // 2,
                                    "poisson": n // 2, "channels-1024": n // 4,
                                    "channels-4096": n // 4})
    real = load_real_set(REAL, WS2_DISPERSION)
    moved = total = 0
    for name in models:
        for set_name, measure_name, stat, f32, bf16 in _figures(resolve_model(name), spectra_sets,
                                                                real):
            change = abs(bf16 - f32) / abs(f32) if f32 else float("nan")
            total += np.isfinite(change)
            moved += bool(change > 0.02)
            print(f"{name:18s} {set_name:14s} {measure_name:28s} {stat:6s} "
                  f"{f32:10.4g} {bf16:10.4g} {change:8.1%}")
    print(f"{moved} of {total} figures move by more than 2 % in bfloat16")


if __name__ == "__main__":
    main(sys.argv[1:])
