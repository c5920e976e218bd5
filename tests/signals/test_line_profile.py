"""Line profiles of spectrum images (modal-evolution maps) and their plots."""

from __future__ import annotations

import hyperspy.api as hs
import matplotlib
import numpy as np
import pytest
from exspy.signals import EELSSpectrum

from hyperspy_eelspecnet.signals.line_profile import (
    interactive_line_profile,
    line_profile,
    plot_line_profiles,
)

matplotlib.use("Agg")

SCALE, OFFSET = 2.5, 1.0


def _map(shape=(9, 12), channels=32, seed=0) -> EELSSpectrum:
    """A spectrum image of random values, navigation axes in nm."""
    data = np.random.default_rng(seed).random((*shape, channels)).astype(np.float32)
    s = EELSSpectrum(data)
    for axis, name in zip(s.axes_manager.navigation_axes, "xy", strict=True):
        axis.name, axis.scale, axis.offset, axis.units = name, SCALE, OFFSET, "nm"
    energy = s.axes_manager.signal_axes[0]
    energy.name, energy.scale, energy.offset, energy.units = "Energy loss", 0.005, -0.1, "eV"
    s.metadata.General.title = "map"
    return s


def _nm(column: float, row: float) -> tuple[float, float]:
    return OFFSET + column * SCALE, OFFSET + row * SCALE


def test_axes_are_calibrated_and_sized() -> None:
    s = _map()
    p = line_profile(s, (_nm(1, 4), _nm(9, 4)), width=3)
    assert isinstance(p, hs.signals.Signal2D) and not p._lazy
    assert p.data.shape == (9, 32)
    energy, position = p.axes_manager.signal_axes
    assert energy.get_axis_dictionary() | {"navigate": True} == (
        s.axes_manager.signal_axes[0].get_axis_dictionary() | {"navigate": True}
    )
    assert (position.name, position.units, position.size) == ("Position", "nm", 9)
    assert position.offset == 0 and position.scale == pytest.approx(SCALE)
    assert p.metadata.General.title == "map (line profile)"
    assert p.metadata.Signal.LineProfile.width_pixels == 3
    spectra = p.as_signal1D(0)
    assert isinstance(spectra, EELSSpectrum) and spectra.axes_manager.navigation_shape == (9,)


def test_width_mean_equals_hand_computed_mean() -> None:
    s = _map()
    p = line_profile(s, (_nm(2, 4), _nm(10, 4)), width=7)
    np.testing.assert_allclose(p.data, s.data[1:8, 2:11].mean(axis=0), rtol=1e-6)


def test_samples_outside_the_map_are_left_out_of_the_mean() -> None:
    s = _map()
    p = line_profile(s, (_nm(2, 1), _nm(10, 1)), width=7)
    np.testing.assert_allclose(p.data, s.data[0:5, 2:11].mean(axis=0), rtol=1e-6)


def test_equals_hyperspy_line2droi_profile_on_a_slanted_line() -> None:
    s = _map()
    roi = hs.roi.Line2DROI(*_nm(2, 2), *_nm(9, 6), linewidth=3 * SCALE)
    np.testing.assert_allclose(line_profile(s, roi, width=None).data, roi(s).data, rtol=1e-6)


def test_lazy_input_gives_a_lazy_profile_of_the_same_values() -> None:
    s = _map()
    line = (_nm(1, 3), _nm(10, 7))
    lazy = line_profile(s.as_lazy(), line, width=5)
    assert isinstance(lazy, hs.signals.LazySignal2D)
    np.testing.assert_allclose(lazy.data.compute(), line_profile(s, line, width=5).data)


def test_line2droi_equals_tuple_line() -> None:
    s = _map()
    roi = hs.roi.Line2DROI(*_nm(1, 2), *_nm(10, 5), linewidth=5 * SCALE)
    expected = line_profile(s, (_nm(1, 2), _nm(10, 5)), width=5).data
    np.testing.assert_array_equal(line_profile(s, roi, width=None).data, expected)
    np.testing.assert_array_equal(line_profile(s, roi, width=5).data, expected)


def test_registered_as_an_eels_method() -> None:
    s = _map()
    line = (_nm(1, 4), _nm(9, 4))
    np.testing.assert_array_equal(s.line_profile(line, width=3).data,
                                  line_profile(s, line, width=3).data)


@pytest.mark.parametrize(
    ("signal", "line", "width", "message"),
    [
        (_map(), (_nm(1, 4), _nm(30, 4)), 7, "outside the map"),
        (_map(), (_nm(1, 4), _nm(1, 4)), 7, "zero length"),
        (_map(), (_nm(1, 4), _nm(9, 4)), 0, "width must be"),
        (_map(), (_nm(1, 4), _nm(9, 4)), None, "width=None"),
        (_map(), (1.0, 2.0), 7, r"\(\(x0, y0\), \(x1, y1\)\)"),
        (_map().inav[:, 0], (_nm(1, 0), _nm(9, 0)), 7, "spectrum image"),
    ],
)
def test_bad_input_is_named(signal, line, width, message) -> None:
    with pytest.raises(ValueError, match=message):
        line_profile(signal, line, width=width)


def test_interactive_profile_follows_the_roi() -> None:
    s = _map()
    profile, roi = interactive_line_profile(s, width=3)
    assert profile.metadata.Signal.LineProfile.width_pixels == 3
    roi.y1 = roi.y2 = _nm(0, 6)[1]
    expected = line_profile(s, ((roi.x1, roi.y1), (roi.x2, roi.y2)), width=3)
    np.testing.assert_allclose(profile.data, expected.data)
    roi.linewidth = 5 * SCALE
    np.testing.assert_allclose(profile.data, line_profile(s, roi, width=5).data)
    import matplotlib.pyplot as plt

    plt.close("all")


def test_plot_line_profiles_draws_each_map_in_the_energy_range() -> None:
    import matplotlib.pyplot as plt

    s = _map()
    raw = line_profile(s, (_nm(1, 4), _nm(9, 4)), width=3)
    restored = raw.deepcopy()
    restored.metadata.set_item("Signal.Deconvolution.method", "EELSpecNet")
    figure = plot_line_profiles(raw, restored, raw.as_lazy(), energy_range=(-0.05, 0.0),
                                norm="power", titles=("Raw", "EELSpecNet", "lazy"))
    maps = [ax for ax in figure.axes if ax.images]
    assert [ax.get_title() for ax in maps] == ["Raw", "EELSpecNet", "lazy"]
    left, right, bottom, top = maps[0].images[0].get_extent()
    assert (left, right) == pytest.approx((-0.0525, -0.0025))
    assert (bottom, top) == pytest.approx((-SCALE / 2, 8.5 * SCALE))
    default = plot_line_profiles(raw, restored)
    assert [ax.get_title() for ax in default.axes if ax.images] == ["Raw", "EELSpecNet"]
    with pytest.raises(ValueError, match="norm must be"):
        plot_line_profiles(raw, restored, norm="linear")
    plt.close("all")
