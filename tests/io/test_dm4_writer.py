"""Round trips through :mod:`hyperspy_eelspecnet.io.dm4_writer` and RosettaSciIO."""

from __future__ import annotations

import struct
from pathlib import Path

import exspy  # noqa: F401  (registers the EELS signal classes)
import hyperspy.api as hs
import numpy as np
import pytest
from exspy.signals import EELSSpectrum, LazyEELSSpectrum
from rsciio.digitalmicrograph import file_reader

from hyperspy_eelspecnet.io.dm4_writer import SUPPORTED_DTYPES, write_dm4, write_signal_dm4

SI_AXES = [
    {"name": "y", "scale": 2.5, "offset": 1.0, "units": "nm"},
    {"name": "x", "scale": 1.5, "offset": -3.0, "units": "nm"},
    {"name": "Energy loss", "scale": 0.005, "offset": -0.5, "units": "eV"},
]


def _data(shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """Distinct values in every position, so that any transposition shows."""
    values = np.arange(np.prod(shape)).reshape(shape) % 30000
    return values.astype(dtype)


def _axes_in_array_order(signal) -> list:
    manager = signal.axes_manager
    nav = sorted(manager.navigation_axes, key=lambda axis: axis.index_in_array)
    return [*nav, *manager.signal_axes]


def _assert_axes(signal, axes: list[dict], shape: tuple[int, ...]) -> None:
    read = _axes_in_array_order(signal)
    assert len(read) == len(axes)
    for axis, expected, size in zip(read, axes, shape, strict=True):
        assert axis.size == size
        assert axis.name == expected["name"]
        assert axis.units == expected["units"]
        assert axis.scale == pytest.approx(expected["scale"], rel=1e-12)
        assert axis.offset == pytest.approx(expected["offset"], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "int16", "uint32", ">f8"])
def test_spectrum_image_round_trip(tmp_path: Path, dtype: str, lazy: bool) -> None:
    data = _data((3, 4, 16), dtype)
    path = tmp_path / "si.dm4"
    write_dm4(path, data, SI_AXES, title="Ag wire")

    signal = hs.load(path, lazy=lazy)

    assert isinstance(signal, LazyEELSSpectrum if lazy else EELSSpectrum)
    assert signal.metadata.Signal.signal_type == "EELS"
    assert signal.metadata.General.title == "Ag wire"
    assert signal.data.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(np.asarray(signal.data), data)
    _assert_axes(signal, SI_AXES, data.shape)


@pytest.mark.parametrize("dtype", SUPPORTED_DTYPES)
def test_every_supported_dtype(tmp_path: Path, dtype: str) -> None:
    data = _data((2, 3, 8), dtype)
    write_dm4(tmp_path / "si.dm4", data, SI_AXES)
    # Read back in the dtype it was written in, not only equal values.
    np.testing.assert_array_equal(hs.load(tmp_path / "si.dm4").data, data, strict=True)


def test_rosettasciio_reader_sees_dm_layout(tmp_path: Path) -> None:
    """Before HyperSpy's post-processing: energy first, DM tags in place."""
    data = _data((3, 4, 16), "float32")
    write_dm4(tmp_path / "si.dm4", data, SI_AXES, title="raw")

    (image,) = file_reader(tmp_path / "si.dm4")

    np.testing.assert_array_equal(image["data"], np.moveaxis(data, -1, 0))
    assert [axis["name"] for axis in image["axes"]] == ["Energy loss", "y", "x"]
    assert [axis["units"] for axis in image["axes"]] == ["eV", "nm", "nm"]
    assert image["metadata"]["Signal"]["signal_type"] == "EELS"
    assert image["metadata"]["General"]["title"] == "raw"
    tags = image["original_metadata"]["ImageList"]["TagGroup0"]["ImageTags"]
    assert tags["Meta Data"] == {"Format": "Spectrum image", "Signal": "EELS"}


def test_line_of_spectra(tmp_path: Path) -> None:
    data = _data((5, 16), "float32")
    axes = SI_AXES[1:]
    write_dm4(tmp_path / "line.dm4", data, axes, title="line")

    signal = hs.load(tmp_path / "line.dm4")

    assert isinstance(signal, EELSSpectrum)
    np.testing.assert_array_equal(signal.data, data)
    _assert_axes(signal, axes, data.shape)


@pytest.mark.parametrize("lazy", [False, True])
def test_single_spectrum(tmp_path: Path, lazy: bool) -> None:
    data = _data((32,), "int32")
    axes = SI_AXES[2:]
    write_dm4(tmp_path / "spectrum.dm4", data, axes, title="one")

    signal = hs.load(tmp_path / "spectrum.dm4", lazy=lazy)

    assert isinstance(signal, LazyEELSSpectrum if lazy else EELSSpectrum)
    assert signal.metadata.General.title == "one"
    np.testing.assert_array_equal(np.asarray(signal.data), data)
    _assert_axes(signal, axes, data.shape)


def test_write_lazy_signal(tmp_path: Path) -> None:
    data = _data((3, 4, 16), "float32")
    signal = EELSSpectrum(
        data,
        axes=[{**axis, "size": n} for axis, n in zip(SI_AXES, data.shape, strict=True)],
        metadata={
            "General": {"title": "from a signal"},
            "Acquisition_instrument": {"TEM": {"beam_energy": 80.0}},
        },
    ).as_lazy()
    write_signal_dm4(tmp_path / "signal.dm4", signal)

    read = hs.load(tmp_path / "signal.dm4")

    np.testing.assert_array_equal(read.data, data)
    _assert_axes(read, SI_AXES, data.shape)
    assert read.metadata.General.title == "from a signal"
    assert read.metadata.Acquisition_instrument.TEM.beam_energy == 80.0


@pytest.mark.parametrize("dtype", ["complex64", "int8", "bool", "uint64"])
def test_unsupported_dtype(tmp_path: Path, dtype: str) -> None:
    with pytest.raises(TypeError, match=f"cannot store dtype {dtype}"):
        write_dm4(tmp_path / "bad.dm4", np.zeros((2, 3, 8), dtype=dtype), SI_AXES)


def test_bad_arguments(tmp_path: Path) -> None:
    data = np.zeros((2, 3, 8), dtype="float32")
    with pytest.raises(ValueError, match="2 axes given"):
        write_dm4(tmp_path / "bad.dm4", data, SI_AXES[:2])
    with pytest.raises(ValueError, match="signal_type"):
        write_dm4(tmp_path / "bad.dm4", data, SI_AXES, signal_type="XPS")
    with pytest.raises(ValueError, match="contains '.'"):
        write_dm4(tmp_path / "bad.dm4", data, SI_AXES, metadata={"a.b": 1})


def test_unstored_axis_names_warn(tmp_path: Path) -> None:
    axes = [{**axis, "name": name} for axis, name in zip(SI_AXES, "abc", strict=True)]
    with pytest.warns(UserWarning, match="store no axis names"):
        write_dm4(tmp_path / "names.dm4", np.zeros((2, 3, 8), "float32"), axes)


def _walk_group(raw: bytes, position: int) -> int:
    """Follow a DM4 tag group; return where it ends. Checks every size field."""
    count = struct.unpack_from(">Q", raw, position + 2)[0]
    position += 10
    for _ in range(count):
        kind, name_length = struct.unpack_from(">BH", raw, position)
        position += 3 + name_length
        size = struct.unpack_from(">Q", raw, position)[0]
        position += 8
        if kind == 20:
            assert _walk_group(raw, position) == position + size
        else:
            assert kind == 21 and raw[position : position + 4] == b"%%%%"
        position += size
    return position


def test_file_structure_is_dm4(tmp_path: Path) -> None:
    """Header, tag sizes and end marker as DM4 defines them."""
    write_dm4(tmp_path / "si.dm4", _data((2, 3, 8), "float32"), SI_AXES)
    raw = (tmp_path / "si.dm4").read_bytes()

    version, root_size, little_endian = struct.unpack_from(">iQi", raw)

    assert (version, little_endian) == (4, 1)
    assert root_size == len(raw) - 24
    assert _walk_group(raw, 16) == len(raw) - 8
    assert raw[-8:] == bytes(8)
