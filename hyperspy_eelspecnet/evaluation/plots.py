"""The figures of ``eelspecnet evaluate``, after the paper's Figs. 3-6, and of the near-ZLP sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hyperspy_eelspecnet.evaluation.comparison import SetResult
from hyperspy_eelspecnet.evaluation.generated import Evaluation, EvaluationSet

#: Noise amplitudes of the paper's Fig. 3.
FIG3_NOISE = (5e-6, 1e-5, 5e-5, 5e-4)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_noise(evaluation: Evaluation, sets: dict[str, EvaluationSet], path: Path) -> Path:
    """Noise-variance ratio against noise amplitude (paper Fig. 4a)."""
    plt = _pyplot()
    noise = sets["noise"].noise
    fig, ax = plt.subplots(figsize=(6, 4))
    for method, measures in evaluation.values["noise"].items():
        ax.loglog(noise, 1 / measures["noise_variance_ratio"], ".", ms=2, label=method)
    ax.set_xlabel("noise amplitude (fraction of the spectrum maximum)")
    ax.set_ylabel("residual noise variance / input noise variance")
    ax.axhline(1, color="k", lw=0.5)
    ax.legend(markerscale=5, fontsize=7)
    ax.set_title("Noise far from the ZLP (ZLP-only spectra)")
    return _save(fig, path)


def plot_violins(evaluation: Evaluation, set_name: str, measures: list[str], path: Path,
                 title: str) -> Path:
    """Violins of per-spectrum measures for every method (Figs. 5, 6)."""
    plt = _pyplot()
    by_method = evaluation.values[set_name]
    methods = [m for m in evaluation.methods if all(k in by_method[m] for k in measures)]
    fig, axes = plt.subplots(1, len(measures), figsize=(3.2 * len(measures), 3.8), squeeze=False)
    for ax, measure in zip(axes[0], measures, strict=True):
        data = [np.asarray(by_method[m][measure], float) for m in methods]
        data = [d[np.isfinite(d)] for d in data]
        ax.violinplot([d if d.size else [np.nan] for d in data], showmedians=True)
        ax.set_xticks(range(1, len(methods) + 1), methods, rotation=45, fontsize=7)
        ax.set_title(measure, fontsize=9)
    fig.suptitle(title)
    return _save(fig, path)


def plot_examples(sets: dict[str, EvaluationSet], restorations: dict, path: Path,
                  model: str, rl: str = "RL-50") -> Path:
    """One restored spectrum at each of the paper's Fig. 3 noise levels."""
    plt = _pyplot()
    s = sets["widths"]
    fig, axes = plt.subplots(1, len(FIG3_NOISE), figsize=(14, 3.5), sharey=True)
    x = np.arange(s.truth.shape[1])
    for ax, level in zip(axes, FIG3_NOISE, strict=True):
        i = int(np.argmin(np.abs(np.log(np.maximum(s.noise, 1e-12)) - np.log(level))))
        window = slice(max(s.zlp_channel[i] - 60, 0), s.zlp_channel[i] + 600)
        for label, spectrum, style in (
            ("distorted", s.distorted[i], "0.6"),
            ("truth", s.truth[i], "k"),
            (model, restorations["widths"][model][i], "C0"),
            (rl, restorations["widths"][rl][i], "C3"),
        ):
            ax.semilogy(x[window], np.clip(spectrum[window], 1e-8, None), color=style,
                        lw=0.8, label=label)
        ax.set_title(f"noise {s.noise[i]:.1e}", fontsize=9)
        ax.set_xlabel("channel")
    axes[0].legend(fontsize=7)
    return _save(fig, path)


def plot_set_examples(result: SetResult, path: Path) -> Path:
    """Truth, raw, Richardson-Lucy and each model for one box or spectrum per case, log scale."""
    plt = _pyplot()
    examples = result.examples
    columns = len(examples) if len(examples) <= 4 else 3
    rows = -(-len(examples) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.8 * columns, 3.4 * rows), squeeze=False)
    styles = {"truth": {"color": "k", "lw": 1.2}, "raw": {"color": "0.6", "lw": 0.8}}
    for ax in axes.flat[len(examples):]:
        ax.set_visible(False)
    for ax, (labels, curves) in zip(axes.flat, examples.items(), strict=False):
        energy = curves["energy"]
        floor = 1e-6 * curves["truth"].max()
        methods = [m for m in curves if m != "energy"]
        for index, method in enumerate(methods):
            style = styles.get(method, {"color": f"C{index}", "lw": 0.8})
            ax.semilogy(energy, np.clip(curves[method], floor, None), label=method, **style)
        ax.set_title(" / ".join(labels), fontsize=8)
        ax.set_xlabel("energy (eV)")
    for ax in axes[:, 0]:
        ax.set_ylabel("counts per pixel")
    axes[0, 0].legend(fontsize=6)
    fig.suptitle(f"{result.name}: {result.description}", fontsize=8)
    return _save(fig, path)


def write_near_zlp_plots(results: list[SetResult], out_dir: str | Path) -> list[Path]:
    """Write the figure of each set that has examples, ``<set>.png``, into ``out_dir``."""
    return [plot_set_examples(r, Path(out_dir) / f"{r.name}.png") for r in results if r.examples]


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def write_plots(evaluation: Evaluation, sets: list[EvaluationSet], restorations: dict,
                out_dir: str | Path, model: str | None) -> list[Path]:
    """Write every figure the sets allow into ``out_dir``."""
    out_dir = Path(out_dir)
    by_name = {s.name: s for s in sets}
    written = []
    if "noise" in by_name:
        written.append(plot_noise(evaluation, by_name, out_dir / "noise_variance.png"))
    if "widths" in by_name:
        written.append(plot_violins(
            evaluation, "widths",
            ["fwhm_recovery", "fwtm_recovery", "fwhm_error", "fwtm_error"],
            out_dir / "zlp_widths.png", "ZLP FWHM/FWTM recovery and relative error"))
        rl = [m for m in evaluation.methods if m.startswith("RL-")]
        if model and rl and model in restorations["widths"]:
            shown = "RL-50" if "RL-50" in rl else rl[-1]
            written.append(plot_examples(by_name, restorations, out_dir / "examples.png",
                                         model, shown))
    if "fidelity" in by_name:
        written.append(plot_violins(evaluation, "fidelity", ["ssim", "loss_region_error"],
                                    out_dir / "fidelity.png", "Fidelity"))
    return written
