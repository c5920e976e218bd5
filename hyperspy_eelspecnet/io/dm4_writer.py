"""Write Gatan DigitalMicrograph 4 (``.dm4``) files of EELS spectra.

RosettaSciIO reads ``.dm3``/``.dm4`` files but cannot write them. This module
writes a single spectrum, a line of spectra or a spectrum image into a
``.dm4`` file that RosettaSciIO (hence :func:`hyperspy.api.load`) reads back
with the same data, calibrations, title and signal type.

What is written
---------------
A DM4 file is a big-endian header followed by one tree of tags:

* header: version ``4`` (int32), size of the root tag group in bytes
  (uint64, the file size minus the 16-byte header and the 8 closing zero
  bytes), byte order of the data (int32, ``1`` = little-endian);
* tag group: ``sorted`` and ``open`` flags (one byte each), number of tags
  (uint64), then the tags;
* tag: kind (one byte, ``20`` group or ``21`` data), name length (uint16),
  name (bytes, may be empty: DM lists are groups of unnamed tags), size in
  bytes of what follows (uint64), then the group, or, for data, the marker
  ``%%%%``, the length of the type definition (uint64), the definition (that
  many int64) and the value in the data byte order (little-endian here).

Every integer of the structure is big-endian; only values are little-endian.
Values use the DM type codes 3 (int32), 7 (float64), 8 (bool), 11 (int64)
and arrays (``20, element type, length``). Strings are arrays of UTF-16
code units (element type 4), as DM writes them.

The tree holds ``ImageList`` with one image group::

    ImageData/Calibrations/Brightness      Origin 0, Scale 1, Units ""
    ImageData/Calibrations/Dimension/[i]   Origin, Scale, Units per DM axis
    ImageData/Data                         the values, DM axis 0 fastest
    ImageData/DataType                     DM image type code
    ImageData/Dimensions/[i]               size of DM axis i
    ImageData/PixelDepth                   bytes per value
    ImageTags/Meta Data/Format             "Spectrum image" or "Spectrum"
    ImageTags/Meta Data/Signal             "EELS" (or "X-ray", "CL")
    Name                                   the title

Axis order: DM lists axes fastest first, the reverse of NumPy's C order.
DM keeps a spectrum image as X, Y, energy (an image per energy channel),
and a line of spectra as energy, position. RosettaSciIO reverses the DM
order, and, when ``Meta Data/Format`` is ``"Spectrum image"`` and there are
three axes, turns the stack of images back into spectra. So HyperSpy data of
shape ``(ny, nx, channels)`` is stored as a C array ``(channels, ny, nx)``
with DM axes ``[x, y, energy]``; ``(n, channels)`` is stored as it is, with
DM axes ``[energy, position]``.

Calibration: DM gives ``value = (index - Origin) * Scale``, so HyperSpy's
``offset`` is ``-Origin * Scale`` and the writer stores
``Origin = -offset / scale``.

Limits
------
* Tested against RosettaSciIO's reader only. The file has no thumbnail,
  display objects or image-source list, so Gatan DigitalMicrograph itself
  may not open it.
* DM stores calibrations as float32; this writer stores float64 so that the
  axes read back by HyperSpy are those written (RosettaSciIO reads both).
* DM files carry no axis names: RosettaSciIO names the axes itself ("y",
  "x" for the navigation axes and "Energy loss" for an EELS axis in eV).
  Other names given here are not stored (a warning says so).
* Tag names may not contain ``.``: RosettaSciIO removes it on reading.
"""

from __future__ import annotations

import struct
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from os import PathLike
from typing import Any, BinaryIO

import numpy as np

__all__ = ["SUPPORTED_DTYPES", "write_dm4", "write_signal_dm4"]

# NumPy dtype -> (DM image DataType code, DM tag element type code).
_IMAGE_TYPES: dict[np.dtype, tuple[int, int]] = {
    np.dtype("int16"): (1, 2),
    np.dtype("float32"): (2, 6),
    np.dtype("int32"): (7, 3),
    np.dtype("uint16"): (10, 4),
    np.dtype("uint32"): (11, 5),
    np.dtype("float64"): (12, 7),
}
SUPPORTED_DTYPES: tuple[str, ...] = tuple(sorted(str(d) for d in _IMAGE_TYPES))

# HyperSpy signal_type -> DM "Meta Data/Signal" (None: tag not written).
_DM_SIGNALS: dict[str, str | None] = {
    "EELS": "EELS",
    "EDS_TEM": "X-ray",
    "CL": "CL",
    "": None,
}

_GROUP_TAG, _DATA_TAG = 20, 21
_INT32, _UINT16, _FLOAT64, _BOOL, _INT64, _ARRAY = 3, 4, 7, 8, 11, 20
_INT32_RANGE = range(-(2**31), 2**31)


@dataclass(frozen=True)
class _Data:
    """A data tag: its DM type definition and its little-endian value."""

    definition: tuple[int, ...]
    value: np.ndarray

    @property
    def size(self) -> int:
        """Bytes after the tag's size field: marker, definition, value."""
        return 4 + 8 * (1 + len(self.definition)) + self.value.nbytes


# A group is a list of (name, node) pairs; unnamed tags have the name "".
_Node = _Data | list[tuple[str, "_Node"]]


def _scalar(value: bool | Integral | Real) -> _Data:
    """Encode a Python or NumPy number as a bool, int32, int64 or float64."""
    if isinstance(value, (bool, np.bool_)):
        return _Data((_BOOL,), np.array(value, dtype="u1"))
    if isinstance(value, Integral):
        number = int(value)
        code, dtype = (_INT32, "<i4") if number in _INT32_RANGE else (_INT64, "<i8")
        return _Data((code,), np.array(number, dtype=dtype))
    return _Data((_FLOAT64,), np.array(value, dtype="<f8"))


def _string(text: str) -> _Data:
    """Encode a string as DM does: an array of UTF-16 code units."""
    units = np.frombuffer(text.encode("utf-16-le"), dtype="<u2")
    return _Data((_ARRAY, _UINT16, units.size), units)


def _node(value: Any) -> _Node:
    """Turn nested dicts, lists, strings and numbers into a tag tree.

    A mapping becomes a group of named tags (sorted by name, as DM writes
    them), a list or tuple a group of unnamed tags (a DM tag list).
    """
    if isinstance(value, _Data):
        return value
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (bool, np.bool_, Integral, Real)):
        return _scalar(value)
    if isinstance(value, Mapping):
        return [(str(name), _node(value[name])) for name in sorted(value)]
    if isinstance(value, (list, tuple)):
        return [("", _node(item)) for item in value]
    raise TypeError(f"cannot store a {type(value).__name__} in a DM tag")


def _tag_name(name: str) -> bytes:
    """Encode a tag name (one byte per character)."""
    if "." in name:
        raise ValueError(f"DM tag name {name!r} contains '.', which readers drop")
    return name.encode("latin-1")


def _body_size(node: _Node) -> int:
    """Bytes of a group's or data tag's body, after the tag's size field."""
    if isinstance(node, _Data):
        return node.size
    return 10 + sum(
        11 + len(_tag_name(name)) + _body_size(child) for name, child in node
    )


def _write_node(f: BinaryIO, node: _Node) -> None:
    """Write the body of a group (flags, count, tags) or of a data tag."""
    if isinstance(node, _Data):
        n = len(node.definition)
        f.write(b"%%%%" + struct.pack(f">Q{n}q", n, *node.definition))
        f.write(np.ascontiguousarray(node.value).data)
        return
    f.write(struct.pack(">??Q", True, False, len(node)))
    for name, child in node:
        encoded = _tag_name(name)
        kind = _DATA_TAG if isinstance(child, _Data) else _GROUP_TAG
        f.write(struct.pack(">BH", kind, len(encoded)) + encoded)
        f.write(struct.pack(">Q", _body_size(child)))
        _write_node(f, child)


def _check_input(data: np.ndarray, axes: Sequence[Mapping[str, Any]]) -> None:
    """Check the data's dtype, and its shape against the axes."""
    if data.dtype.newbyteorder("=") not in _IMAGE_TYPES:
        raise TypeError(
            f"the DM4 writer cannot store dtype {data.dtype}; "
            f"use one of {', '.join(SUPPORTED_DTYPES)}"
        )
    if not 1 <= data.ndim <= 3:
        raise ValueError(
            f"data must have 1 to 3 dimensions (navigation, then energy), "
            f"not {data.ndim}"
        )
    if len(axes) != data.ndim:
        raise ValueError(f"{len(axes)} axes given for {data.ndim}-dimensional data")
    if any(axis["scale"] == 0 for axis in axes):
        raise ValueError("an axis of scale 0 cannot be stored (Origin = -offset/scale)")


def _warn_unstored_names(axes: Sequence[Mapping[str, Any]], signal_type: str) -> None:
    """Warn when axis names differ from those RosettaSciIO will give them."""
    if signal_type != "EELS" or axes[-1]["units"] != "eV":
        return
    as_read = [*("y", "x")[3 - len(axes) :], "Energy loss"]
    given = [axis.get("name") for axis in axes]
    if any(name is not None and name != read for name, read in zip(given, as_read, strict=True)):
        warnings.warn(
            f"DM files store no axis names: axes named {given} will be read "
            f"back as {as_read}",
            stacklevel=3,
        )


def _image(
    data: np.ndarray,
    axes: Sequence[Mapping[str, Any]],
    title: str,
    signal_type: str,
    metadata: Mapping[str, Any],
) -> dict[str, Any]:
    """Build the ImageList entry of one spectrum, line or spectrum image."""
    # HyperSpy axis behind each axis of the stored C array: a spectrum image
    # is stored energy first (an image per channel), other data as they are.
    # DM lists the stored axes fastest first, i.e. reversed.
    order = (2, 0, 1) if data.ndim == 3 else tuple(range(data.ndim))
    dtype = data.dtype.newbyteorder("=")
    image_type, element_type = _IMAGE_TYPES[dtype]
    stored = np.ascontiguousarray(data.transpose(order), dtype=dtype.newbyteorder("<"))
    dm_axes = [axes[i] for i in reversed(order)]
    meta_data = {**metadata.get("Meta Data", {})}
    meta_data["Format"] = "Spectrum image" if data.ndim > 1 else "Spectrum"
    if _DM_SIGNALS[signal_type] is not None:
        meta_data["Signal"] = _DM_SIGNALS[signal_type]
    return {
        "ImageData": {
            "Calibrations": {
                "Brightness": {"Origin": 0.0, "Scale": 1.0, "Units": ""},
                "Dimension": [
                    {
                        "Origin": -float(axis["offset"]) / float(axis["scale"]),
                        "Scale": float(axis["scale"]),
                        "Units": str(axis["units"]),
                    }
                    for axis in dm_axes
                ],
                "DisplayCalibratedUnits": True,
            },
            "Data": _Data((_ARRAY, element_type, stored.size), stored.reshape(-1)),
            "DataType": image_type,
            "Dimensions": [int(n) for n in reversed(stored.shape)],
            "PixelDepth": dtype.itemsize,
        },
        "ImageTags": {**metadata, "Meta Data": meta_data},
        "Name": title,
    }


def write_dm4(
    filename: str | PathLike,
    data: np.ndarray,
    axes: Sequence[Mapping[str, Any]],
    *,
    title: str = "",
    signal_type: str = "EELS",
    metadata: Mapping[str, Any] | None = None,
) -> None:
    """Write a spectrum, a line of spectra or a spectrum image as ``.dm4``.

    Parameters
    ----------
    filename
        Path of the file to write (overwritten if it exists).
    data
        Array of shape ``(ny, nx, channels)``, ``(n, channels)`` or
        ``(channels,)``, of dtype float32, float64, int16, int32, uint16 or
        uint32 (any byte order).
    axes
        One mapping per array axis, in HyperSpy order (navigation axes, then
        energy), with keys ``"scale"``, ``"offset"``, ``"units"`` and
        optionally ``"name"``. Names are not stored in DM files; see
        the module notes.
    title
        Image name, read back as ``metadata.General.title``.
    signal_type
        HyperSpy signal type: ``"EELS"``, ``"EDS_TEM"``, ``"CL"`` or ``""``
        (none). Stored as DM's ``Meta Data/Signal``.
    metadata
        Further DM image tags, as nested mappings of strings, numbers and
        booleans, e.g. ``{"Microscope Info": {"Voltage": 80000.0}}``.

    Raises
    ------
    TypeError
        If the dtype is not supported, or a metadata value cannot be stored.
    ValueError
        If the shape does not match the axes, an axis has zero scale, the
        signal type is unknown or a tag name contains a dot.

    Examples
    --------
    >>> data = np.zeros((2, 3, 100), dtype="float32")
    >>> axes = [
    ...     {"name": "y", "scale": 2.0, "offset": 0.0, "units": "nm"},
    ...     {"name": "x", "scale": 2.0, "offset": 0.0, "units": "nm"},
    ...     {"name": "Energy loss", "scale": 0.005, "offset": -0.1, "units": "eV"},
    ... ]
    >>> write_dm4("si.dm4", data, axes, title="SI")  # doctest: +SKIP
    """
    data = np.asarray(data)
    _check_input(data, axes)
    if signal_type not in _DM_SIGNALS:
        raise ValueError(
            f"signal_type {signal_type!r} cannot be stored; use one of "
            f"{sorted(_DM_SIGNALS)}"
        )
    _warn_unstored_names(axes, signal_type)
    root = _node(
        {"ImageList": [_image(data, axes, title, signal_type, metadata or {})]}
    )
    with open(filename, "wb") as f:
        f.write(struct.pack(">iQi", 4, _body_size(root), 1))
        _write_node(f, root)
        f.write(bytes(8))


def write_signal_dm4(filename: str | PathLike, signal: Any) -> None:
    """Write a HyperSpy one-dimensional signal (EELS spectrum image) as ``.dm4``.

    Lazy data are computed. The title, the signal type, the axes and the
    beam energy (``Acquisition_instrument.TEM.beam_energy``, stored as DM's
    ``Microscope Info/Voltage``) are kept.

    Parameters
    ----------
    filename
        Path of the file to write.
    signal
        A :class:`hyperspy.signal.BaseSignal` with one uniform signal axis
        and at most two uniform navigation axes.

    Raises
    ------
    ValueError
        If the signal does not have one signal axis or has a non-uniform
        axis; see :func:`write_dm4` for the rest.
    """
    manager = signal.axes_manager
    if manager.signal_dimension != 1:
        raise ValueError(
            f"only signals with one signal axis can be written, not "
            f"{manager.signal_dimension}"
        )
    hs_axes = [
        *sorted(manager.navigation_axes, key=lambda axis: axis.index_in_array),
        *manager.signal_axes,
    ]
    if not all(axis.is_uniform for axis in hs_axes):
        raise ValueError("DM calibrations are linear: every axis must be uniform")
    axes = [
        {
            "name": axis.name,
            "scale": axis.scale,
            "offset": axis.offset,
            "units": axis.units if isinstance(axis.units, str) else "",
        }
        for axis in hs_axes
    ]
    beam_energy = signal.metadata.get_item("Acquisition_instrument.TEM.beam_energy")
    tags = {}
    if beam_energy is not None:  # keV in HyperSpy, V in DM
        tags["Microscope Info"] = {"Voltage": beam_energy * 1e3}
    write_dm4(
        filename,
        np.asarray(signal.data),
        axes,
        title=signal.metadata.General.title,
        signal_type=signal.metadata.Signal.signal_type,
        metadata=tags,
    )
