"""Checks of restorations of measured spectra, which have no ground truth.

For a folder of measured spectra (one per text file) with vacuum
recordings among them (``vacuum_*``), every method restores every
spectrum and is scored on what a measurement can show:

- re-convolution: the restoration convolved with the median vacuum ZLP
  (unit sum, centred on its maximum) should give back the measured
  spectrum past the ZLP within its noise: RMS residual over the noise
  standard deviation (from a 9-channel high-pass), near 1 when it does.
  Two figures: with one noise level per spectrum (strict: counting
  noise is larger where the signal is) and channel by channel (lenient
  next to the ZLP);
- total counts kept (restored total over measured total);
- the level and the noise of a smooth stretch (by default the last 3 eV),
  restored over measured (the noise should drop, the level should not);
- where the restored ZLP sits: the centroid of the 7 channels around the
  restoration's maximum minus the measured maximum's channel. The
  re-convolution above centres the kernel on its maximum, so a ZLP put a
  fraction of a channel off leaves a residual on the steep flank;
- the vacuum ZLP's FWHM before and after, and how much of its tail (0.3
  to 3 eV past the maximum, where vacuum has no losses) a restoration
  keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hyperspy_eelspecnet import metrics
from hyperspy_eelspecnet.inference.restore import restore_spectra
from hyperspy_eelspecnet.models.registry import resolve_models
from hyperspy_eelspecnet.restoration.richardson_lucy import richardson_lucy_kernel
from hyperspy_eelspecnet.simulation.generator import load_measured_zlp

#: Richardson-Lucy iterations shown beside the models on real data.
REAL_RL_ITERATIONS = (50, 100, 400)


@dataclass
class RealSet:
    """Measured spectra of one folder."""

    specimen: np.ndarray
    vacuum: np.ndarray
    names: list[str]
    dispersion: float

    @property
    def kernel(self) -> np.ndarray:
        """Median of the vacuum recordings, each scaled to unit sum."""
        return np.median(self.vacuum / self.vacuum.sum(1, keepdims=True), axis=0)


def load_real_set(folder: str | Path, dispersion: float) -> RealSet:
    """Read ``vacuum_*.txt`` and the other ``*.txt`` spectra of a folder.

    Parameters
    ----------
    folder
        Folder of text files, one spectrum each.
    dispersion
        Energy per channel, eV.
    """
    folder = Path(folder)
    files = sorted(folder.glob("*.txt"))
    vacuum = [f for f in files if f.name.startswith("vacuum")]
    specimen = [f for f in files if f not in vacuum]
    if not vacuum or not specimen:
        raise FileNotFoundError(
            f"{folder} needs vacuum_*.txt recordings and specimen *.txt spectra"
        )
    read = lambda paths: np.array([load_measured_zlp(p) for p in paths])  # noqa: E731
    return RealSet(read(specimen), read(vacuum), [f.stem for f in specimen], dispersion)


def energy_past_zlp(spectra: np.ndarray, dispersion: float) -> np.ndarray:
    """Energy (eV) of each channel from each spectrum's maximum.

    Parameters
    ----------
    spectra
        Array of shape (n, channels).
    dispersion
        eV per channel.

    Returns
    -------
    numpy.ndarray
        Shape (n, channels): 0 at each spectrum's ZLP maximum.
    """
    return (np.arange(spectra.shape[1])[None, :] - spectra.argmax(1)[:, None]) * dispersion


def _regions(spectra: np.ndarray, dispersion: float, start_ev: float,
             flat_ev: tuple[float, float] | None):
    energy = energy_past_zlp(spectra, dispersion)
    past = energy >= start_ev
    if flat_ev is None:  # the last 3 eV, 5 channels from the end
        end = energy[:, -6:-5]
        flat = (energy > end - 3.0) & (energy <= end)
    else:
        flat = (energy >= flat_ev[0]) & (energy <= flat_ev[1])
    return past, flat


def score_real(restored: np.ndarray, real: RealSet, *, zlp_free: bool = False,
               start_ev: float = 0.3,
               flat_ev: tuple[float, float] | None = None) -> dict[str, np.ndarray]:
    """Per-spectrum real-data measures of restorations of ``real.specimen``.

    Parameters
    ----------
    restored
        Restorations, on the measured counts' scale.
    real
        The measured set.
    zlp_free
        The restorations have no ZLP: the ZLP's counts (measured total
        minus restored total) are added back at the ZLP, as a delta,
        before re-convolving.
    start_ev
        The re-convolution residual is taken from this far past the ZLP.
    flat_ev
        Energy range (eV past the ZLP) of a smooth, featureless stretch;
        None takes the last 3 eV of the spectrum.
    """
    measured = real.specimen
    past, flat = _regions(measured, real.dispersion, start_ev, flat_ev)
    model = restored.copy()
    if zlp_free:
        rows = np.arange(len(model))
        model[rows, measured.argmax(1)] += measured.sum(1) - restored.sum(1)
    return {
        "reconvolution_residual": metrics.reconvolution_residual(
            model, measured, real.kernel, past),
        "reconvolution_residual_local": metrics.reconvolution_residual(
            model, measured, real.kernel, past, noise_sigma="local"),
        "total_ratio": restored.sum(1) / measured.sum(1),
        "flat_level_ratio": np.where(flat, restored, 0).sum(1) / np.where(flat, measured, 0).sum(1),
        "flat_noise_cut": metrics.highpass_noise_sigma(measured, flat)
        / metrics.highpass_noise_sigma(restored, flat),
        "zlp_shift_channels": np.full(len(measured), np.nan) if zlp_free
        else metrics.peak_centroid(restored) - measured.argmax(1),
    }


def vacuum_floor(real: RealSet, start_ev: float = 0.3) -> np.ndarray:
    """Re-convolution residual of a perfect restoration of each vacuum recording.

    A vacuum recording is the ZLP alone: its perfect quasi-Dirac
    restoration puts all its counts in its maximum channel. Re-convolved
    with the median vacuum ZLP, that gives back the median shape, so what
    is left is how far each recording differs from the median beyond its
    noise (the ZLP's shape drifts between recordings). A restoration whose
    ZLP is one narrow peak should not be expected to leave less on
    specimen spectra recorded in the same session.

    Parameters
    ----------
    real
        The measured set.
    start_ev
        The residual is taken from this far past the ZLP, as in
        :func:`score_real`.

    Returns
    -------
    numpy.ndarray
        One residual (over the noise) per vacuum recording.
    """
    vacuum = real.vacuum
    past, _ = _regions(vacuum, real.dispersion, start_ev, None)
    delta = np.zeros_like(vacuum)
    delta[np.arange(len(vacuum)), vacuum.argmax(1)] = vacuum.sum(1)
    return metrics.reconvolution_residual(delta, vacuum, real.kernel, past)


def evaluate_real(real: RealSet, models: list[str],
                  rl_iterations: tuple[int, ...] = REAL_RL_ITERATIONS,
                  flat_ev: tuple[float, float] | None = None, precision: str = "auto") -> dict:
    """Score models, Richardson-Lucy and no deconvolution on measured data.

    Parameters
    ----------
    real
        The measured set (:func:`load_real_set`).
    models
        Names or paths of the models to score.
    rl_iterations
        Richardson-Lucy iteration counts to score beside them.
    flat_ev
        Passed to :func:`score_real`.
    precision
        Arithmetic of the networks: ``"auto"``, ``"float32"`` or
        ``"bfloat16"`` (see
        :func:`~hyperspy_eelspecnet.inference.restore.restore_spectra`).

    Returns
    -------
    dict
        ``{method: {measure: per-spectrum array}}``, with the vacuum ZLP
        FWHM (eV) before (``none``) and after each method, and the
        restored over the measured counts of the vacuum ZLP's tail, 0.3
        to 3 eV past its maximum (``vacuum_tail_ratio``).
    """
    restorations = {"none": (real.specimen, real.vacuum, False)}
    for spec in resolve_models(models):
        zlp_free = spec.preprocessing.restores == "zlp_free"
        # A model that takes a vacuum reference gets Richardson-Lucy's kernel.
        reference = real.kernel if spec.preprocessing.takes_reference else None
        restorations[spec.name] = tuple(
            restore_spectra(spectra, spec, precision=precision, reference=reference
                            ).astype(float) for spectra in (real.specimen, real.vacuum)
        ) + (zlp_free,)
    for iterations in rl_iterations:
        restorations[f"RL-{iterations}"] = (
            richardson_lucy_kernel(real.specimen, real.kernel, iterations),
            richardson_lucy_kernel(real.vacuum, real.kernel, iterations), False)
    results = {}
    tail = _vacuum_tail(real)
    for method, (specimen, vacuum, zlp_free) in restorations.items():
        results[method] = score_real(specimen, real, zlp_free=zlp_free, flat_ev=flat_ev)
        results[method]["vacuum_zlp_fwhm_eV"] = (
            np.full(len(vacuum), np.nan) if zlp_free else metrics.fwhm(vacuum, real.dispersion)
        )
        results[method]["vacuum_tail_ratio"] = (
            np.where(tail, vacuum, 0).sum(1) / np.where(tail, real.vacuum, 0).sum(1))
    return results


def _vacuum_tail(real: RealSet, start_ev: float = 0.3, end_ev: float = 3.0) -> np.ndarray:
    """Channels of the vacuum ZLP's tail, ``start_ev`` to ``end_ev`` past its maximum."""
    energy = energy_past_zlp(real.vacuum, real.dispersion)
    return (energy >= start_ev) & (energy < end_ev)


def summarize_real(values: np.ndarray) -> dict[str, float]:
    """Median, minimum and maximum over spectra, ignoring NaN."""
    v = np.asarray(values, dtype=float)
    if np.isnan(v).all():
        return {"median": None, "min": None, "max": None}
    return {"median": float(np.nanmedian(v)), "min": float(np.nanmin(v)),
            "max": float(np.nanmax(v))}


def format_real_table(results: dict) -> str:
    """Markdown table of medians (min..max over spectra) per method."""
    methods = list(results)
    measures = list(results[methods[0]])
    lines = ["| measure | " + " | ".join(methods) + " |", "|" + "---|" * (len(methods) + 1)]
    for measure in measures:
        cells = []
        for method in methods:
            s = summarize_real(results[method][measure])
            cells.append("n/a" if s["median"] is None else
                         f"{s['median']:.3g} ({s['min']:.3g}..{s['max']:.3g})")
        lines.append(f"| {measure} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
