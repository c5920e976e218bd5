"""Energy axes in meV, keV... restore as in eV, without a warning; other units warn."""

from __future__ import annotations

import warnings

import hyperspy.api as hs
import numpy as np
import pytest
import traits.api as t
from conftest import eels_signal

from hyperspy_eelspecnet.inference.domain import ReferenceMismatchWarning
from hyperspy_eelspecnet.inference.energy_units import ev_per_unit
from hyperspy_eelspecnet.signals.line_profile import line_profile
from hyperspy_eelspecnet.tools.batch import deconvolve_files


def _in_ev(lazy=False):
    """A 2 x 3 map in eV that draws no out-of-domain warning from the tiny model."""
    return eels_signal(shape=(2, 3), channels=256, zlp_channel=70, lazy=lazy)


def _in_units(signal, units: str, per_ev: float):
    """A copy of ``signal`` with its energy axis in ``units`` (``per_ev`` of them per eV)."""
    converted = signal.deepcopy()
    axis = converted.axes_manager.signal_axes[0]
    axis.scale, axis.offset, axis.units = axis.scale * per_ev, axis.offset * per_ev, units
    return converted


def _energy_axis(signal):
    axis = signal.axes_manager.signal_axes[0]
    return axis.units, axis.scale, axis.offset, axis.size


def _psf(units="eV", per_ev=1.0):
    """A Lorentzian vacuum ZLP of the maps' dispersion, 0.005 eV per channel."""
    x = np.arange(256) - 128
    psf = hs.signals.Signal1D(1.0 / (1 + (2 * x / 6.0) ** 2))
    axis = psf.axes_manager.signal_axes[0]
    axis.scale, axis.units = 0.005 * per_ev, units
    psf.metadata.General.title = "vacuum ZLP"
    return psf


def _without_warnings(function, *args, **kwargs):
    """Call ``function``, computing a lazy result; any warning is an error.

    Except the reference-mismatch warning: :func:`_psf` is no recording of
    the generated maps' ZLPs, and says so.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ReferenceMismatchWarning)
        result = function(*args, **kwargs)
        if result._lazy:
            result.compute()
    return result


@pytest.mark.parametrize(("units", "electronvolts"), [
    ("eV", 1.0), ("meV", 1e-3), ("keV", 1e3), ("µeV", 1e-6), ("MeV", 1e6),
])
def test_units_of_energy_are_sized_in_ev(units, electronvolts):
    assert ev_per_unit(units) == pytest.approx(electronvolts, rel=1e-12)


@pytest.mark.parametrize("units", ["nm", "mev", "EV", "", "counts", "1/cm", "eV)", t.Undefined])
def test_other_units_are_not_energies(units):
    # Case-sensitive as HyperSpy writes units: "mev" is no unit, "EV" an exavolt.
    assert ev_per_unit(units) is None


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
@pytest.mark.parametrize(("units", "per_ev"), [("meV", 1e3), ("keV", 1e-3)])
def test_deconvolve_in_other_energy_units_equals_ev_without_a_warning(
    tiny_model, lazy, units, per_ev
):
    s_ev = _in_ev(lazy)
    s = _in_units(s_ev, units, per_ev)
    before, axis_before = np.array(s.data), _energy_axis(s)
    r = _without_warnings(s.deconvolve_eelspecnet, str(tiny_model))
    expected = _without_warnings(s_ev.deconvolve_eelspecnet, str(tiny_model))
    np.testing.assert_allclose(r.data, expected.data, rtol=1e-6, atol=0)
    assert _energy_axis(r) == axis_before
    assert r.axes_manager.signal_axes[0].units == units
    np.testing.assert_array_equal(np.array(s.data), before)
    assert _energy_axis(s) == axis_before


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_richardson_lucy_in_mev_equals_ev_without_a_warning(lazy):
    s_ev = _in_ev(lazy)
    s = _in_units(s_ev, "meV", 1e3)
    r = _without_warnings(s.richardson_lucy, _psf("meV", 1e3), iterations=5)
    expected = _without_warnings(s_ev.richardson_lucy, _psf(), iterations=5)
    np.testing.assert_allclose(r.data, expected.data, rtol=1e-6, atol=0)
    assert _energy_axis(r) == _energy_axis(s)


@pytest.mark.parametrize(("units", "given"), [
    ("nm", "is in 'nm'"), ("mev", "is in 'mev'"), (t.Undefined, "has no unit"), ("", "has no unit"),
])
def test_an_axis_not_in_energy_units_warns_naming_the_unit_and_the_accepted_ones(
    tiny_model, units, given
):
    s = _in_ev()
    s.axes_manager.signal_axes[0].units = units
    message = f"the energy axis {given}: it should be in eV, meV, keV or another unit of energy"
    with pytest.warns(UserWarning, match=message):
        s.deconvolve_eelspecnet(str(tiny_model))
    with pytest.warns(UserWarning, match=message):
        s.richardson_lucy(_psf(), iterations=2)


def test_line_profile_keeps_the_mev_axis():
    s_ev = _in_ev()
    s = _in_units(s_ev, "meV", 1e3)
    line = ((0.0, 0.0), (5.0, 2.5))
    profile = line_profile(s, line, width=1)
    np.testing.assert_array_equal(profile.data, line_profile(s_ev, line, width=1).data)
    assert _energy_axis(profile) == _energy_axis(s)


def test_batch_richardson_lucy_compares_dispersions_in_ev(tmp_path):
    _in_units(_in_ev(), "meV", 1e3).save(tmp_path / "map_mev.hspy")
    _in_ev().save(tmp_path / "map_ev.hspy")
    _psf().save(tmp_path / "psf_ev.hspy")
    _psf("meV", 2e3).save(tmp_path / "psf_coarse.hspy")  # 10 meV per channel
    run = {"method": "richardson-lucy", "iterations": 3, "out_dir": tmp_path / "out",
           "show_progressbar": False}
    summary = deconvolve_files([tmp_path / "map_mev.hspy", tmp_path / "map_ev.hspy"],
                               psf=tmp_path / "psf_ev.hspy", **run)
    assert [r.status for r in summary.results] == ["written"] * 2
    assert not [r.reason for r in summary.results if "energy axis" in r.reason]
    mev, ev = (hs.load(r.output) for r in summary.written)
    np.testing.assert_allclose(mev.data, ev.data, rtol=1e-6, atol=0)
    assert _energy_axis(mev)[0] == "meV"
    failed = deconvolve_files([tmp_path / "map_mev.hspy"], psf=tmp_path / "psf_coarse.hspy",
                              overwrite=True, **run).failed
    assert "the PSF has 0.01 eV per channel, the data 0.005 eV" in failed[0].reason
