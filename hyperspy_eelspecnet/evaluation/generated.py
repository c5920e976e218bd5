"""The paper's evaluation protocol, for shipped models and Richardson-Lucy.

Fresh evaluation sets are drawn with the training generator, with seeds
no training run uses; every model and Richardson-Lucy at 10, 25, 50 and
100 iterations restores them; the paper's measures are computed on each:

- noise (paper Fig. 4): ZLP-only spectra, noise amplitude 1e-6..5e-4,
  variance of (restored - truth) on channels far from the ZLP against
  that of the noise added to the measurement (distorted - clean);
- widths (Fig. 5): ZLP FWHM and FWTM, recovery rate and relative error;
- fidelity (Fig. 6, S7): SSIM, MSE, and the error of the loss region
  past the ZLP;
- the same fidelity measures with the ZLP moved to other channels, with
  Poisson noise, and at other channel counts.

Richardson-Lucy's kernel is, as in the paper, the ZLP alone put through
the same jitter, OTF and noise as each spectrum.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from hyperspy_eelspecnet import metrics
from hyperspy_eelspecnet.inference.precision import resolve_precision
from hyperspy_eelspecnet.inference.restore import restore_spectra
from hyperspy_eelspecnet.models.registry import ModelSpec, resolve_models
from hyperspy_eelspecnet.restoration.richardson_lucy import richardson_lucy_kernel

#: Seed of the evaluation sets: not a training seed (see ``check_seed``).
EVALUATION_SEED = 20221017
RL_ITERATIONS = (10, 25, 50, 100)
#: Spectra per set: the paper's 4000/4000/2000, and our extra sets.
DEFAULT_SIZES = {"noise": 4000, "widths": 4000, "fidelity": 2000, "shifted": 2000,
                 "poisson": 2000, "channels-1024": 500, "channels-4096": 500}
#: Channels this far past the ZLP maximum count as "far from the ZLP".
FAR_FROM_ZLP = 200
#: The loss region starts this many channels past the ZLP maximum.
LOSS_REGION_START = 20


@dataclass
class EvaluationSet:
    """Generated spectra of one kind, with what the measures need."""

    name: str
    description: str
    distorted: np.ndarray
    truth: np.ndarray
    clean: np.ndarray
    psf: np.ndarray
    noise: np.ndarray
    zlp_channel: np.ndarray

    @cached_property
    def widths(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """ZLP FWHM and FWTM (channels) of the distorted spectra and the truth."""
        return {label: (width(self.distorted), width(self.truth))
                for label, width in (("fwhm", metrics.fwhm), ("fwtm", metrics.fwtm))}


@dataclass
class Evaluation:
    """Per-spectrum measures: ``values[set][method][measure]`` arrays."""

    seed: int
    sizes: dict[str, int]
    methods: list[str]
    jitter_centred: bool = True
    #: The arithmetic the networks ran in: ``float32`` or ``bfloat16``.
    precision: str = "float32"
    values: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """Median, 5th and 95th percentiles of every measure."""
        return {
            set_name: {
                method: {m: metrics.summarize(v) for m, v in measures.items()}
                for method, measures in by_method.items()
            }
            for set_name, by_method in self.values.items()
        }

    def to_json(self, path: str | Path) -> None:
        """Write the summary with the seed, set sizes and precision."""
        Path(path).write_text(json.dumps(
            {"seed": self.seed, "sizes": self.sizes, "methods": self.methods,
             "jitter_centred": self.jitter_centred, "precision": self.precision,
             "summary": self.summary()},
            indent=2) + "\n")


def check_seed(seed: int, models: list[ModelSpec]) -> None:
    """Refuse an evaluation seed that a model was trained or validated with."""
    for spec in models:
        train_seed = spec.card.training.seed
        if seed in (train_seed, train_seed + 1):
            raise ValueError(
                f"seed {seed} was used to train or validate {spec.name}; "
                "evaluate on a seed no training run used"
            )


def evaluation_sets(sizes: dict[str, int], seed: int = EVALUATION_SEED,
                    channels: int = 2048, jitter_centred: bool = True) -> list[EvaluationSet]:
    """Draw the evaluation sets of the paper's protocol and beyond.

    Parameters
    ----------
    sizes
        Spectra per set, by set name: ``noise``, ``widths``, ``fidelity``,
        ``shifted``, ``poisson``, ``channels-1024``, ``channels-4096``
        (omit a set to skip it).
    seed
        Seed of the first set; the others use ``seed + i``.
    channels
        Channels of the paper's sets.
    jitter_centred
        Put the energy zero at the mean jitter shift (see
        :class:`~hyperspy_eelspecnet.simulation.GeneratorConfig`). The
        paper's generator leaves the first copy unshifted, which moves
        each measured spectrum by a random ~1 channel that no network
        aligned on the measured ZLP can know.
    """
    from hyperspy_eelspecnet.simulation.config import GeneratorConfig
    from hyperspy_eelspecnet.simulation.generator import SpectrumGenerator

    paper = GeneratorConfig(channels=channels, jitter_centred=jitter_centred)
    recipes = {
        "noise": ("ZLP only, noise amplitude 1e-6..5e-4 (paper Fig. 4)",
                  paper.model_copy(update={"n_peaks": (0, 0), "gaussian_noise": (1e-6, 5e-4)})),
        "widths": ("paper recipe, varied OTF and noise (paper Fig. 5)", paper),
        "fidelity": ("paper recipe (paper Fig. 6)", paper),
        "shifted": ("paper recipe, ZLP anywhere in channels 64-1024",
                    paper.model_copy(update={"zlp_channel_range": (64.0, 1024.0)})),
        "poisson": ("paper recipe, Poisson noise at ZLP maxima of 1e3-1e7 counts",
                    paper.model_copy(update={"poisson_probability": 1.0})),
        "channels-1024": ("paper recipe, 1024 channels, ZLP at channel 100",
                          paper.model_copy(update={"channels": 1024, "zlp_channel": 100})),
        "channels-4096": ("paper recipe, 4096 channels, ZLP at channel 400",
                          paper.model_copy(update={"channels": 4096})),
    }
    unknown = set(sizes) - set(recipes)
    if unknown:
        raise ValueError(f"unknown evaluation sets {sorted(unknown)}; known: {sorted(recipes)}")
    sets = []
    for offset, (name, (description, config)) in enumerate(recipes.items()):
        if not sizes.get(name):
            continue
        batch = SpectrumGenerator(config, seed + offset).generate(sizes[name], with_psf=True)
        sets.append(EvaluationSet(
            name, description, batch.distorted, batch.truth, batch.clean, batch.psf,
            np.nan_to_num(batch.params["noise"], nan=0.0),
            np.argmax(batch.truth, axis=1),
        ))
    return sets


def _offsets(zlp_channel: np.ndarray, channels: int) -> np.ndarray:
    return np.arange(channels)[None, :] - zlp_channel[:, None]


def measure(
    restored: np.ndarray, s: EvaluationSet, zlp_free: bool = False
) -> dict[str, np.ndarray]:
    """The paper's measures of restorations of one evaluation set.

    Parameters
    ----------
    restored
        Restorations of ``s.distorted``, unit-integral scale.
    s
        The evaluation set.
    zlp_free
        The restorations have no ZLP: compare with the truth's loss
        region only and skip the ZLP widths.
    """
    offsets = _offsets(s.zlp_channel, s.truth.shape[1])
    loss = offsets >= LOSS_REGION_START
    far = offsets >= FAR_FROM_ZLP
    truth = np.where(loss, s.truth, 0.0) if zlp_free else s.truth
    # Noise in: what was added (distorted - clean). Noise out: everything
    # the restoration gets wrong there (restored - truth).
    # inf for an error-free restoration.
    with np.errstate(divide="ignore"):
        ratio = (metrics.noise_variance(s.distorted, s.clean, far)
                 / metrics.noise_variance(restored, truth, far))
    truth_loss = np.abs(np.where(loss, truth, 0)).sum(1)
    out = {
        "noise_variance_ratio": ratio,
        # NaN where the truth has nothing past the ZLP (no peaks drawn).
        "loss_region_error": np.abs(np.where(loss, restored - truth, 0)).sum(1)
        / np.where(truth_loss > 0, truth_loss, np.nan),
    }
    if s.noise.any():  # Gaussian noise: the strongest tenth, as in Fig. 4
        out["noise_variance_ratio_top10"] = ratio[s.noise >= np.quantile(s.noise, 0.9)]
    if zlp_free:
        out["mse_loss_region"] = metrics.mse(np.where(loss, restored, 0), np.where(loss, truth, 0))
        return out
    out["mse"] = metrics.mse(restored, truth)
    out["mse_loss_region"] = metrics.mse(np.where(loss, restored, 0), np.where(loss, truth, 0))
    out["ssim"] = metrics.ssim(restored, truth)
    for label, width in (("fwhm", metrics.fwhm), ("fwtm", metrics.fwtm)):
        w_d, w_o = s.widths[label]
        w_r = width(restored)
        out[f"{label}_recovery"] = metrics.recovery_rate(w_d, w_r, w_o)
        out[f"{label}_error"] = metrics.relative_error(w_r, w_o)
    return out


def evaluate(models: list[str], sizes: dict[str, int], *, seed: int = EVALUATION_SEED,
             rl_iterations: tuple[int, ...] = RL_ITERATIONS, jitter_centred: bool = True,
             precision: str = "auto", show_progressbar: bool = True,
             ) -> tuple[Evaluation, list[EvaluationSet], dict]:
    """Run models and Richardson-Lucy on fresh evaluation sets.

    Parameters
    ----------
    models
        Names or paths of models.
    sizes
        Spectra per set (see :func:`evaluation_sets`).
    seed
        Seed of the evaluation sets; refused if a model trained on it.
    rl_iterations
        Richardson-Lucy iteration counts to compare.
    jitter_centred
        See :func:`evaluation_sets`.
    precision
        Arithmetic of the networks: ``"auto"``, ``"float32"`` or
        ``"bfloat16"`` (see
        :func:`~hyperspy_eelspecnet.inference.restore.restore_spectra`);
        the evaluation records the one it resolves to. Richardson-Lucy
        always computes in float64.
    show_progressbar
        Show progress over sets and methods.

    Returns
    -------
    tuple
        The :class:`Evaluation`, the sets, and the restorations
        ``{set: {method: array}}`` (for plots).
    """
    specs = resolve_models(models)
    check_seed(seed, specs)
    sets = evaluation_sets(sizes, seed, jitter_centred=jitter_centred)
    methods = [s.name for s in specs] + [f"RL-{i}" for i in rl_iterations]
    result = Evaluation(seed, {s.name: len(s.distorted) for s in sets}, methods, jitter_centred,
                        resolve_precision(precision))
    restorations: dict = {}
    steps = tqdm(total=len(sets) * len(methods), disable=not show_progressbar, desc="evaluate")
    for s in sets:
        result.values[s.name], restorations[s.name] = {}, {}
        for spec in specs:
            # A model that takes a vacuum reference gets Richardson-Lucy's kernel.
            reference = s.psf if spec.preprocessing.takes_reference else None
            restored = restore_spectra(s.distorted, spec, precision=result.precision,
                                       reference=reference)
            restored = restored.astype(np.float64)
            zlp_free = spec.preprocessing.restores == "zlp_free"
            result.values[s.name][spec.name] = measure(restored, s, zlp_free)
            restorations[s.name][spec.name] = restored
            steps.update()
        for iterations in rl_iterations:
            restored = richardson_lucy_kernel(s.distorted, s.psf, iterations)
            name = f"RL-{iterations}"
            result.values[s.name][name] = measure(restored, s)
            restorations[s.name][name] = restored
            steps.update()
    steps.close()
    return result, sets, restorations


def format_table(evaluation: Evaluation) -> str:
    """One Markdown table: median [5th, 95th percentile] of every measure."""
    summary = evaluation.summary()
    header = "| set | measure | " + " | ".join(evaluation.methods) + " |"
    lines = [header, "|" + "---|" * (len(evaluation.methods) + 2)]
    for set_name, by_method in summary.items():
        measures = list(dict.fromkeys(m for v in by_method.values() for m in v))
        for measure_name in measures:
            cells = []
            for method in evaluation.methods:
                s = by_method.get(method, {}).get(measure_name)
                cells.append("" if s is None else _cell(s))
            lines.append(f"| {set_name} ({evaluation.sizes[set_name]}) | {measure_name} | "
                         + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(s: dict) -> str:
    return f"{_num(s['median'])} [{_num(s['p5'])}, {_num(s['p95'])}]"


def _num(value: float) -> str:
    if not np.isfinite(value):
        return "nan"
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return f"{value:.4g}"
    return f"{value:.2e}"
