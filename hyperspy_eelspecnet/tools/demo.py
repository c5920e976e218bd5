"""The silver-nanowire demonstration (paper Figs. 7d and 8, on synthetic data).

:func:`run_demo` loads the bundled spectrum image lazily, restores it
with an EELSpecNet model, takes a 7-pixel-wide line profile along the
wire and writes one figure: the navigation image with the line, the raw
and the restored modal-evolution maps, and 7 x 7-pixel mean spectra at a
tip, at the centre and on the membrane, raw, restored and true. A model
that takes a vacuum reference is given the simulation's vacuum recording
(:func:`~hyperspy_eelspecnet.data.nanowire_vacuum_zlp`), as a user would
give the session's.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from hyperspy_eelspecnet.data import nanowire_vacuum_zlp, silver_nanowire, silver_nanowire_truth
from hyperspy_eelspecnet.models.registry import resolve_model
from hyperspy_eelspecnet.signals.line_profile import axis_edges, line_profile, plot_line_profiles
from hyperspy_eelspecnet.simulation.nanowire import SURFACE_PLASMONS, WIRE_LENGTH_NM
from hyperspy_eelspecnet.tools.batch import write_zspy

#: Pixels averaged across the line and per side of the spectrum boxes.
WIDTH = 7
#: Loss range shown (eV): the SiN phonon to above SP4.
ENERGY_RANGE = (0.05, 2.2)
#: Pixels beyond each tip covered by the line.
MARGIN_PIXELS = 2


def run_demo(out_dir: str | os.PathLike = ".", model: str | os.PathLike = "nzeels-2048",
             *, show_progressbar: bool | None = None) -> dict[str, Path]:
    """Restore the bundled nanowire map and plot its modal evolution.

    Parameters
    ----------
    out_dir
        Folder of the outputs, created if needed.
    model
        EELSpecNet model: a shipped name or an exported model's path. A
        model that takes a vacuum reference (such as ``nzeels-2048-psf``)
        is given :func:`~hyperspy_eelspecnet.data.nanowire_vacuum_zlp`.
    show_progressbar
        Show a progress bar while the map is restored; None uses
        HyperSpy's preference.

    Returns
    -------
    dict
        ``"figure"``: the PNG figure; ``"restored"``: the restored map
        (``.zspy``).
    """
    raw = silver_nanowire(lazy=True)
    takes_reference = resolve_model(model).preprocessing.takes_reference
    given = {"psf": nanowire_vacuum_zlp()} if takes_reference else {}
    restored = raw.deconvolve_eelspecnet(model, **given)
    restored.compute(show_progressbar=show_progressbar)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"figure": out / "silver_nanowire_demo.png",
             "restored": out / "silver_nanowire_eelspecnet.zspy"}
    figure = plot_demo(raw, restored, silver_nanowire_truth())
    figure.savefig(paths["figure"], dpi=120)
    write_zspy(restored, paths["restored"])
    return paths


def wire_line(signal) -> tuple[tuple[float, float], tuple[float, float]]:
    """The wire's axis from tip to tip, ``MARGIN_PIXELS`` beyond each."""
    x_axis, y_axis = signal.axes_manager.navigation_axes
    centre = (x_axis.low_value + x_axis.high_value) / 2
    half = WIRE_LENGTH_NM / 2 + MARGIN_PIXELS * x_axis.scale
    y = y_axis.axis[y_axis.size // 2]
    return (max(centre - half, x_axis.low_value), y), (min(centre + half, x_axis.high_value), y)


def box_points(signal) -> dict[str, tuple[int, int]]:
    """Pixel (column, row) of a tip, the wire's centre and the membrane."""
    x_axis, y_axis = signal.axes_manager.navigation_axes
    (x0, y), _ = wire_line(signal)
    tip = x_axis.value2index(x0 + MARGIN_PIXELS * x_axis.scale + WIRE_LENGTH_NM / 20)
    row, middle = y_axis.value2index(y), x_axis.size // 2
    return {"tip": (tip, row), "centre": (middle, row), "membrane": (middle, WIDTH // 2)}


def box_mean(signal, column: int, row: int) -> np.ndarray:
    """Mean spectrum of the ``WIDTH`` x ``WIDTH`` pixels around a pixel."""
    half = WIDTH // 2
    box = signal.inav[max(column - half, 0):column + half + 1, max(row - half, 0):row + half + 1]
    return np.asarray(box.data, dtype=float).mean(axis=(0, 1))


def plot_demo(raw, restored, truth):
    """The demo figure (see the module notes) of three nanowire maps.

    A :class:`matplotlib.figure.Figure` outside pyplot, rendered by Agg
    whatever the current backend.
    """
    from matplotlib.figure import Figure

    line = wire_line(raw)
    figure = Figure(figsize=(15, 8.5), layout="constrained")
    axes = figure.subplots(2, 3)
    _plot_navigator(axes[0, 0], raw, line)
    plot_line_profiles(line_profile(raw, line, WIDTH), line_profile(restored, line, WIDTH),
                       titles=("Raw", f"EELSpecNet ({_model_name(restored)})"),
                       energy_range=ENERGY_RANGE, axes=axes[0, 1:])
    for ax, (name, point) in zip(axes[1], box_points(raw).items(), strict=False):
        _plot_spectra(ax, name, point, {"raw": raw, "restored": restored, "truth": truth})
    return figure


def _model_name(signal) -> str:
    return signal.metadata.get_item("Signal.Deconvolution.model", "")


def _plot_navigator(ax, signal, line) -> None:
    """Counts of the SP1 window, with the profile's band and the boxes."""
    sp1 = SURFACE_PLASMONS[0]
    window = signal.isig[sp1.energy - sp1.fwhm:sp1.energy + sp1.fwhm].sum(-1)
    x_axis, y_axis = signal.axes_manager.navigation_axes
    ax.imshow(np.asarray(window.data), extent=(*axis_edges(x_axis), *axis_edges(y_axis)[::-1]),
              cmap="gray")
    (x0, y0), (x1, y1) = line
    half = WIDTH / 2 * y_axis.scale
    for offset in (-half, half):
        ax.plot([x0, x1], [y0 + offset, y1 + offset], color="tab:orange", lw=1)
    for name, (column, row) in box_points(signal).items():
        ax.add_patch(_box(x_axis, y_axis, column, row))
        ax.annotate(name, (x_axis.axis[column], y_axis.axis[row]), color="white", ha="center")
    ax.set_title(f"{sp1.energy - sp1.fwhm:.2f}-{sp1.energy + sp1.fwhm:.2f} eV counts, "
                 f"{WIDTH}-pixel band")
    ax.set_xlabel(f"x ({x_axis.units})")
    ax.set_ylabel(f"y ({y_axis.units})")


def _box(x_axis, y_axis, column: int, row: int):
    from matplotlib.patches import Rectangle

    half = WIDTH / 2
    corner = (x_axis.axis[column] - half * x_axis.scale, y_axis.axis[row] - half * y_axis.scale)
    return Rectangle(corner, WIDTH * x_axis.scale, WIDTH * y_axis.scale,
                     fill=False, color="tab:cyan")


def _plot_spectra(ax, name: str, point: tuple[int, int], signals: dict) -> None:
    energy = signals["raw"].axes_manager.signal_axes[0]
    shown = (energy.axis >= ENERGY_RANGE[0]) & (energy.axis <= ENERGY_RANGE[1])
    for label, signal in signals.items():
        ax.plot(energy.axis[shown], box_mean(signal, *point)[shown], label=label,
                lw=1.5 if label == "truth" else 1)
    ax.set_yscale("log")
    ax.set_title(f"{name}: {WIDTH} x {WIDTH}-pixel mean")
    ax.set_xlabel(f"{energy.name} ({energy.units})")
    ax.set_ylabel("counts per channel")
    ax.legend()
