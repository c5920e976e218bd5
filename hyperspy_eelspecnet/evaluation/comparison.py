"""Every method on the same measured spectra, and the tables of their scores.

Shared by the near-ZLP, cropped and gain-side sets: the methods (the
measurement itself, ``raw``; each model; Richardson-Lucy given the vacuum
recording; the truth itself, which scores perfectly and shows what a
measure gives at best) restore a
:class:`~hyperspy_eelspecnet.evaluation.responses.Measurement`, and a
:class:`SetResult` gathers their per-box or per-spectrum scores by subset
(response, resolution, case, ...), summarises and tabulates them.

Scale: every restoration is on the measured spectrum's counts, as its
method returns it. :func:`~hyperspy_eelspecnet.inference.restore.restore_spectra`
scales a quasi-Dirac model's restoration to the measured total, and a
ZLP-free model's to the measured total times its unit-integral output
(so it lacks the ZLP's counts); Richardson-Lucy keeps the measured
counts (but for what its kernel spreads past the window's ends).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from hyperspy_eelspecnet import metrics
from hyperspy_eelspecnet.evaluation.generated import _cell, _num
from hyperspy_eelspecnet.evaluation.responses import Measurement
from hyperspy_eelspecnet.inference.restore import restore_spectra
from hyperspy_eelspecnet.models.registry import ModelSpec
from hyperspy_eelspecnet.restoration.richardson_lucy import richardson_lucy_kernel

#: Richardson-Lucy iterations shown beside the models on these sets.
NEAR_ZLP_RL_ITERATIONS = (50, 200)
#: Measures named with this ending are 0/1 flags: tables show their mean.
FLAG = "_visible"
#: Added to a reference model's name for its restoration with another response's reference.
OTHER_REFERENCE = ", other reference"
#: Added to the name of Richardson-Lucy or of a reference model for its restoration
#: with another recording of the same instrument (the reference a user would have).
ANOTHER_RECORDING = ", another recording"

#: ``{measure: per-box or per-spectrum values}``.
Scores = dict[str, np.ndarray]


def subset_rng(seed: int, *labels: str) -> np.random.Generator:
    """The random stream of one subset: the same for the same seed and labels."""
    return np.random.default_rng([seed, *(zlib.crc32(label.encode()) for label in labels)])


def method_names(specs: list[ModelSpec], rl_iterations: tuple[int, ...],
                 other_reference: bool = False, another_recording: bool = False) -> list[str]:
    """The methods of :func:`restore_with_methods`, in its order (``truth`` first)."""
    names = ["truth", "raw", *[s.name for s in specs]]
    takes_reference = [s.name for s in specs if s.preprocessing.takes_reference]
    rl = [f"RL-{i}" for i in rl_iterations]
    if other_reference:
        names += [name + OTHER_REFERENCE for name in takes_reference]
    if another_recording:
        names += [name + ANOTHER_RECORDING for name in takes_reference]
        rl += [name + ANOTHER_RECORDING for name in rl]
    return names + rl


def restore_with_methods(measurement: Measurement, specs: list[ModelSpec],
                         rl_iterations: tuple[int, ...], precision: str,
                         other_reference: np.ndarray | None = None,
                         another_recording: np.ndarray | None = None
                         ) -> dict[str, tuple[np.ndarray, bool]]:
    """Restorations of ``measurement.measured`` by every method.

    Parameters
    ----------
    measurement
        The measured spectra.
    specs
        Resolved models; one that takes a vacuum reference is given each
        spectrum's vacuum recording.
    rl_iterations
        Richardson-Lucy iteration counts; each spectrum's kernel is its
        vacuum recording.
    precision
        Arithmetic of the networks (``"float32"`` or ``"bfloat16"``).
    other_reference
        A vacuum ZLP of another instrument: each model that takes a
        reference restores the spectra with it too, as a user who gives
        the wrong recording would (method ``<name>, other reference``).
    another_recording
        Shape of ``measurement.vacuum``: each spectrum's ZLP alone through
        another recording of the same instrument, the reference a user
        would have. Each reference model and each Richardson-Lucy also
        restore the spectra with it (``<method>, another recording``).

    Returns
    -------
    dict
        ``{method: (restored, zlp_free)}`` in the order of
        :func:`method_names`: ``truth``, ``raw``, each model, each reference
        model with ``other_reference`` and with ``another_recording``, and
        ``RL-<iterations>``, then with ``another_recording``; each
        restoration of the shape of ``measurement.measured``, float64;
        ``zlp_free`` tells that the method returns no ZLP (compare with the
        truth less its ZLP).
    """
    n, pixels, channels = measurement.measured.shape
    spectra = measurement.measured.reshape(-1, channels)
    shaped = lambda restored: np.asarray(restored, float).reshape(n, pixels, channels)  # noqa: E731
    out = {"truth": (np.repeat(measurement.truth[:, None, :], pixels, axis=1), False),
           "raw": (measurement.measured, False)}
    recordings = {"": measurement.vacuum}
    if another_recording is not None:
        recordings[ANOTHER_RECORDING] = another_recording
    kernels = {suffix: np.repeat(vacuum, pixels, axis=0) for suffix, vacuum in recordings.items()}
    for spec in specs:
        reference = kernels[""] if spec.preprocessing.takes_reference else None
        out[spec.name] = _restored_by(spec, spectra, reference, precision, shaped)
    others = {} if other_reference is None else {OTHER_REFERENCE: other_reference}
    others |= {suffix: kernel for suffix, kernel in kernels.items() if suffix}
    for suffix, reference in others.items():
        for spec in specs:
            if spec.preprocessing.takes_reference:
                out[spec.name + suffix] = _restored_by(spec, spectra, reference, precision,
                                                       shaped)
    for suffix, kernel in kernels.items():
        for iterations in rl_iterations:
            out[f"RL-{iterations}{suffix}"] = (
                shaped(richardson_lucy_kernel(spectra, kernel, iterations, workers=-1)), False)
    return out


def _restored_by(spec: ModelSpec, spectra: np.ndarray, reference: np.ndarray | None,
                 precision: str, shaped: Callable[[np.ndarray], np.ndarray]
                 ) -> tuple[np.ndarray, bool]:
    """A model's restoration of ``spectra`` and whether it lacks the ZLP."""
    restored = restore_spectra(spectra, spec, precision=precision, reference=reference)
    return shaped(restored), spec.preprocessing.restores == "zlp_free"


def score_methods(measurement: Measurement, restorations: dict[str, tuple[np.ndarray, bool]],
                  score: Callable[[np.ndarray, np.ndarray], Scores]) -> dict[str, Scores]:
    """``score(restored, reference)`` of every method, the reference matching its target."""
    return {method: score(restored, measurement.reference(zlp_free))
            for method, (restored, zlp_free) in restorations.items()}


def example_curves(measurement: Measurement, restorations: dict[str, tuple[np.ndarray, bool]],
                   window: tuple[float, float], index: int = 0) -> dict[str, np.ndarray]:
    """The first box or spectrum of a subset within ``window`` (eV), for a figure.

    Returns
    -------
    dict
        ``{"energy": eV, method: counts per pixel}``.
    """
    energy = measurement.energy[index]
    inside = (energy >= window[0]) & (energy <= window[1])
    return {"energy": energy[inside],
            **{method: restored[index].mean(0)[inside]
               for method, (restored, _) in restorations.items()}}


@dataclass
class SetResult:
    """The scores of every method on one set, by subset.

    Attributes
    ----------
    name
        The set's name.
    description
        One line on what the set holds.
    levels
        What each label of a subset names, e.g. ``("response", "case")``.
    methods
        The methods, in the order of the table's columns.
    values
        ``{subset labels: {method: {measure: per-box or per-spectrum array}}}``.
    examples
        ``{subset labels: {"energy": eV, method: spectrum}}``: one box
        (counts per pixel) or spectrum of some subsets, for the figures.
    pivot
        A level whose values share one table cell (their medians, joined
        by " / "), or None for one row per subset.
    """

    name: str
    description: str
    levels: tuple[str, ...]
    methods: list[str]
    values: dict[tuple[str, ...], dict[str, Scores]] = field(default_factory=dict)
    examples: dict[tuple[str, ...], dict[str, np.ndarray]] = field(default_factory=dict)
    pivot: str | None = None

    def summary(self) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
        """``{"label / label": {method: {measure: summary}}}``: median, p5, p95 and mean."""
        return {" / ".join(labels): {
            method: {measure: summarize(v) for measure, v in measures.items()}
            for method, measures in by_method.items()}
            for labels, by_method in self.values.items()}


def summarize(values: np.ndarray) -> dict[str, float]:
    """:func:`hyperspy_eelspecnet.metrics.summarize` and the mean (a flag's share), NaN ignored."""
    values = np.asarray(values, dtype=float)
    kept = values[~np.isnan(values)]
    return metrics.summarize(values) | {"mean": float(kept.mean()) if kept.size else np.nan}


def format_set_table(result: SetResult) -> str:
    """Markdown table of a set: rows by subset and measure, a column per method.

    Cells are median [5th, 95th percentile] over boxes or spectra, or,
    with a :attr:`SetResult.pivot`, the medians at each of its values;
    flags (measures ending in ``_visible``) show the share of boxes where
    they hold.
    """
    pivot = None if result.pivot is None else result.levels.index(result.pivot)
    rows: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for labels in result.values:
        key = labels if pivot is None else labels[:pivot] + labels[pivot + 1:]
        rows.setdefault(key, []).append(labels)
    row_levels = [level for i, level in enumerate(result.levels) if i != pivot]
    note = "" if pivot is None else (
        f"Cells: {' / '.join(labels[pivot] for labels in next(iter(rows.values())))}.\n\n")
    lines = ["| " + " | ".join([*row_levels, "measure", *result.methods]) + " |",
             "|" + "---|" * (len(row_levels) + 1 + len(result.methods))]
    for key, subsets in rows.items():
        measures = dict.fromkeys(m for labels in subsets
                                 for by_method in result.values[labels].values() for m in by_method)
        for measure in measures:
            cells = [_cell_of([result.values[labels].get(method, {}).get(measure)
                               for labels in subsets], measure, pivot is not None)
                     for method in result.methods]
            lines.append("| " + " | ".join([*key, measure, *cells]) + " |")
    return note + "\n".join(lines)


def _cell_of(values: list[np.ndarray | None], measure: str, median_only: bool) -> str:
    """One cell: the figures of ``values`` (one array per pivot value), blank if none."""
    if all(v is None for v in values):
        return ""
    figures = []
    for v in values:
        s = summarize(np.full(1, np.nan) if v is None else v)
        if measure.endswith(FLAG):
            figures.append(_num(s["mean"]))
        else:
            figures.append(_num(s["median"]) if median_only else _cell(s))
    return " / ".join(figures)
