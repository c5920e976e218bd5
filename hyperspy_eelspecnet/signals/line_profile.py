"""Line profiles of spectrum images: modal-evolution maps.

A line profile averages, at each position along a line drawn on the
navigation plane, the spectra of a band of pixels across the line; the
result, position against energy, is the paper's "modal evolution map"
(Mousavi et al., Sci. Rep. 12, 17462, 2022, Fig. 7).

Why not ``Line2DROI.__call__``
------------------------------
On a spectrum image, HyperSpy 2.5's ``roi(signal)`` returns a
``BaseSignal`` (position | energy) whose position axis is unnamed and
scaled by ``length / n`` (the samples are ``length / (n - 1)`` apart),
counts samples outside the map as zeros in the width mean, and, for lazy
data, computes the whole signal once per energy channel. Here the same
sample points (HyperSpy's ``Line2DROI`` geometry and its nearest-pixel
rule, ``order=0``) pick whole spectra with one gather, so lazy inputs stay
lazy and a lazy restoration is computed once, on the blocks the band
crosses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import dask.array as da
import hyperspy.api as hs
import numpy as np

#: ``((x0, y0), (x1, y1))`` in calibrated navigation units.
Line = tuple[tuple[float, float], tuple[float, float]]


def line_profile(signal, line: Line | hs.roi.Line2DROI, width: int | None = 7):
    """Spectra averaged across a band along a line of a spectrum image.

    Parameters
    ----------
    signal
        A spectrum image: two uniform navigation axes in the same units,
        one signal axis (eager or lazy).
    line
        End points ``((x0, y0), (x1, y1))`` in calibrated navigation units,
        or a :class:`hyperspy.roi.Line2DROI`. Both end points must lie in
        the map.
    width
        Pixels averaged across the line (perpendicular to it, in pixel
        space), at least 1. None takes the ``Line2DROI``'s ``linewidth``
        (calibrated units), rounded to pixels as HyperSpy does.

    Returns
    -------
    hyperspy.signals.Signal2D or hyperspy.signals.LazySignal2D
        Data of shape ``(positions, channels)``: signal axes energy
        (``signal_axes[0]``, the input's signal axis) and position along
        the line (``signal_axes[1]``, "Position", from 0 at the first end
        point, in the navigation units). There are ``ceil(length) + 1``
        positions (length in pixels), both end points included, as with
        HyperSpy's ``Line2DROI``. Each is the mean of the ``width`` pixels
        nearest to the sample points across the line; samples falling
        outside the map are left out of the mean. A lazy input gives a
        lazy result (nothing is computed). Metadata are the input's, the
        title marked, the line in ``metadata.Signal.LineProfile``; for
        spectra along the line, use ``profile.as_signal1D(0)``.

    Raises
    ------
    ValueError
        If the signal is not a spectrum image, an end point lies outside
        the map, the line has zero length or the width is not valid.

    Examples
    --------
    >>> import hyperspy_eelspecnet
    >>> from hyperspy_eelspecnet.signals.line_profile import line_profile
    >>> s = hyperspy_eelspecnet.data.silver_nanowire()
    >>> p = line_profile(s, ((100.0, 359.0), (1370.0, 359.0)), width=7)
    >>> p.axes_manager.signal_shape
    (1024, 42)
    """
    x_axis, y_axis = _navigation_plane(signal)
    start, end = _end_points(line)
    pixels = _pixel_width(line, width, x_axis, y_axis)
    src = _to_pixels(start, x_axis, y_axis)
    dst = _to_pixels(end, x_axis, y_axis)
    rows, cols, inside = _band_pixels(src, dst, pixels, (y_axis.size, x_axis.size))
    data = _band_mean(_rows_columns_energy(signal, x_axis, y_axis), rows, cols, inside)
    length = float(np.hypot(end[0] - start[0], end[1] - start[1]))
    return _profile_signal(signal, data, length, x_axis.units,
                           {"start": list(start), "end": list(end), "width_pixels": pixels})


def _navigation_plane(signal):
    """The (x, y) navigation axes of a spectrum image, checked."""
    manager = signal.axes_manager
    if manager.navigation_dimension != 2 or manager.signal_dimension != 1:
        raise ValueError(
            "line_profile needs a spectrum image (2 navigation axes, 1 signal "
            f"axis), got {manager.navigation_dimension} and "
            f"{manager.signal_dimension}; e.g. s.as_signal1D(-1) on an image stack"
        )
    x_axis, y_axis = manager.navigation_axes
    if not (x_axis.is_uniform and y_axis.is_uniform):
        raise ValueError("line_profile needs uniform navigation axes")
    if x_axis.units != y_axis.units:
        raise ValueError(
            f"the navigation axes are in {x_axis.units!r} and {y_axis.units!r}: "
            "give them the same units (axes_manager[...].convert_to_units)"
        )
    return x_axis, y_axis


def _end_points(line) -> Line:
    if isinstance(line, hs.roi.Line2DROI):
        if not line.is_valid():
            raise ValueError("the Line2DROI has undefined end points: set x1, y1, x2, y2")
        return (line.x1, line.y1), (line.x2, line.y2)
    try:
        (x0, y0), (x1, y1) = line
        return (float(x0), float(y0)), (float(x1), float(y1))
    except (TypeError, ValueError):
        raise ValueError(
            f"line must be ((x0, y0), (x1, y1)) in navigation units or a "
            f"hs.roi.Line2DROI, got {line!r}"
        ) from None


def _pixel_width(line, width: int | None, x_axis, y_axis) -> int:
    if width is None:
        if not isinstance(line, hs.roi.Line2DROI):
            raise ValueError("width=None takes the width of a Line2DROI; give width in pixels")
        return max(1, int(round(line.linewidth / min(x_axis.scale, y_axis.scale))))
    if not isinstance(width, (int, np.integer)) or width < 1:
        raise ValueError(f"width must be a whole number of pixels >= 1, got {width!r}")
    return int(width)


def _to_pixels(point: tuple[float, float], x_axis, y_axis) -> tuple[float, float]:
    """Fractional (column, row) indices of a calibrated (x, y) point."""
    column = (point[0] - x_axis.offset) / x_axis.scale
    row = (point[1] - y_axis.offset) / y_axis.scale
    if not (0 <= column <= x_axis.size - 1 and 0 <= row <= y_axis.size - 1):
        raise ValueError(
            f"line end point {point} lies outside the map (x {x_axis.low_value} to "
            f"{x_axis.high_value}, y {y_axis.low_value} to {y_axis.high_value} "
            f"{x_axis.units}); give end points inside it"
        )
    return column, row


def _band_pixels(src, dst, width: int, shape: tuple[int, int]):
    """Row and column of the pixel nearest to each sample of the band.

    The sample points are HyperSpy's (``Line2DROI``), rounded half up as
    its nearest-pixel profile does (``map_coordinates``, ``order=0``).
    Returns ``rows``, ``cols`` (shape ``(positions, width)``, clipped to
    the map) and the boolean ``inside``.
    """
    if np.allclose(src, dst):
        raise ValueError("the line has zero length: give two different end points")
    coordinates = hs.roi.Line2DROI._line_profile_coordinates(src, dst, linewidth=width)
    rows, cols = np.floor(coordinates + 0.5).astype(np.intp)
    inside = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
    return np.clip(rows, 0, shape[0] - 1), np.clip(cols, 0, shape[1] - 1), inside


def _rows_columns_energy(signal, x_axis, y_axis):
    """The data with its axes in the order y, x, energy."""
    energy = signal.axes_manager.signal_axes[0]
    order = [y_axis.index_in_array, x_axis.index_in_array, energy.index_in_array]
    return np.moveaxis(signal.data, order, [0, 1, 2])


def _band_mean(data, rows, cols, inside):
    """Mean over the band's width of the spectra at (rows, cols)."""
    spectra = data.vindex[rows, cols] if isinstance(data, da.Array) else data[rows, cols]
    weights = inside / inside.sum(axis=1, keepdims=True)
    dtype = np.result_type(data.dtype, np.float32)
    return (spectra * weights.astype(dtype)[..., None]).sum(axis=1)


def _profile_signal(signal, data, length: float, units: str, line: dict):
    positions = data.shape[0]
    energy = signal.axes_manager.signal_axes[0].get_axis_dictionary()
    position = {"name": "Position", "size": positions, "offset": 0.0,
                "scale": length / (positions - 1), "units": units, "navigate": False}
    energy["navigate"] = False
    metadata = signal.metadata.deepcopy().as_dictionary()
    title = metadata["General"].get("title", "")
    metadata["General"]["title"] = f"{title} (line profile)" if title else "line profile"
    metadata.setdefault("Signal", {})["LineProfile"] = line
    kind = hs.signals.LazySignal2D if isinstance(data, da.Array) else hs.signals.Signal2D
    return kind(data, axes=[position, energy], metadata=metadata,
                original_metadata=signal.original_metadata.deepcopy().as_dictionary())


def interactive_line_profile(signal, roi: hs.roi.Line2DROI | None = None, width: int | None = 7):
    """A line profile that follows a ``Line2DROI`` dragged on the navigator.

    Plots ``signal`` (if it is not plotted), adds the ROI's widget to its
    navigator and plots the profile, which is recomputed whenever the
    line or its width changes (in Jupyter, use ``%matplotlib widget`` or
    ``qt``). A lazy signal is read again at each change; compute it first
    (``s.compute()``) for fluid dragging.

    Parameters
    ----------
    signal
        A spectrum image (see :func:`line_profile`).
    roi
        The line; by default a horizontal line through the middle of the
        map, from 10 % to 90 % of its x range.
    width
        Pixels averaged across the line, set on the ROI's ``linewidth``;
        None keeps the ROI's ``linewidth``.

    Returns
    -------
    profile, roi
        The live profile (a Signal2D, see :func:`line_profile`) and the ROI.
    """
    x_axis, y_axis = _navigation_plane(signal)
    if roi is None:
        y = y_axis.axis[y_axis.size // 2]
        x0, x1 = np.percentile(x_axis.axis, [10, 90])
        roi = hs.roi.Line2DROI(x0, y, x1, y)
    if width is not None:
        roi.linewidth = _pixel_width(roi, width, x_axis, y_axis) * min(x_axis.scale, y_axis.scale)
    if signal._plot is None or not signal._plot.is_active:
        signal.plot()
    roi.add_widget(signal, axes=(x_axis, y_axis))
    profile = hs.interactive(_computed_line_profile, event=roi.events.changed,
                             recompute_out_event=None, signal=signal, line=roi)
    profile.plot()
    return profile, roi


def _computed_line_profile(signal, line):
    """:func:`line_profile` with the ROI's width, computed."""
    profile = line_profile(signal, line, width=None)
    if profile._lazy:
        profile.compute(show_progressbar=False)
    return profile


def plot_line_profiles(
    raw_profile,
    *restored_profiles,
    titles: Sequence[str] | None = None,
    energy_range: tuple[float, float] | None = None,
    norm: Literal["log", "power"] = "log",
    gamma: float = 0.4,
    axes=None,
    cmap: str = "inferno",
):
    """Raw and restored modal-evolution maps side by side.

    Energy runs along x, position along the line along y. Each panel has
    its own colour scale (1st to 99.9th percentile of the shown values),
    logarithmic or power-law, so that weak loss features show next to the
    zero-loss peak and its tail.

    Parameters
    ----------
    raw_profile, *restored_profiles
        Line profiles from :func:`line_profile` (computed if lazy), the
        raw one first, then one or more restorations (EELSpecNet,
        Richardson-Lucy...).
    titles
        One title per panel; by default "Raw" and the restorations'
        ``metadata.Signal.Deconvolution.method``.
    energy_range
        ``(low, high)`` energies to show, in the energy axis' units; by
        default the whole axis.
    norm
        ``"log"`` or ``"power"`` (``gamma``, from 0); values below the 1st
        percentile of the positive ones (zeros and negatives included)
        take the lowest colour.
    gamma
        Exponent of the power-law scale.
    axes
        Matplotlib axes to draw in, one per profile; by default a new
        figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    profiles = (raw_profile, *restored_profiles)
    if not restored_profiles:
        raise ValueError("give the raw profile and at least one restored profile")
    titles = list(titles) if titles is not None else ["Raw", *map(_method, restored_profiles)]
    if len(titles) != len(profiles):
        raise ValueError(f"give one title per profile ({len(profiles)}), got {len(titles)}")
    if axes is None:
        _, axes = plt.subplots(1, len(profiles), figsize=(4.5 * len(profiles), 4),
                               sharey=True, constrained_layout=True)
    for ax, profile, title in zip(np.ravel(axes), profiles, titles, strict=False):
        _draw_map(ax, profile, title, energy_range, _norm(norm, gamma), cmap)
    return np.ravel(axes)[0].figure


def axis_edges(axis) -> tuple[float, float]:
    """Outer edges of the first and last pixels of a uniform axis."""
    return axis.low_value - axis.scale / 2, axis.high_value + axis.scale / 2


def _method(profile) -> str:
    return profile.metadata.get_item("Signal.Deconvolution.method", "Restored")


def _norm(kind: str, gamma: float):
    from matplotlib import colors

    if kind == "log":
        return colors.LogNorm
    if kind == "power":
        return lambda vmin, vmax: colors.PowerNorm(gamma, vmin=0.0, vmax=vmax)
    raise ValueError(f"norm must be 'log' or 'power', got {kind!r}")


def _draw_map(ax, profile, title: str, energy_range, make_norm, cmap: str) -> None:
    if profile.axes_manager.signal_dimension != 2:
        raise ValueError(f"{title}: expected a line profile (Signal2D), got {profile}")
    energy, position = profile.axes_manager.signal_axes
    if energy_range is not None:
        profile = profile.isig[float(energy_range[0]):float(energy_range[1]), :]
        energy, position = profile.axes_manager.signal_axes
    values = np.asarray(profile.data, dtype=float)
    positive = values[values > 0]
    low, high = np.percentile(positive, [1, 99.9]) if positive.size else (1e-12, 1.0)
    image = ax.imshow(
        np.clip(values, low, None), origin="lower", aspect="auto", cmap=cmap,
        norm=make_norm(vmin=low, vmax=high),
        extent=(*axis_edges(energy), *axis_edges(position)),
    )
    quantity = profile.metadata.get_item("Signal.quantity", "Intensity")
    ax.figure.colorbar(image, ax=ax, label=quantity)
    ax.set_title(title)
    ax.set_xlabel(f"{energy.name} ({energy.units})")
    ax.set_ylabel(f"{position.name} ({position.units})")
