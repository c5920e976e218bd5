"""Units of energy axes: which are energies, and how many eV each is.

An energy axis may be in eV, meV (vibrational spectra), keV or any other
unit of energy that :mod:`pint` (HyperSpy's unit library, through its
application registry, the one HyperSpy's ``convert_to_units`` uses)
converts to eV. Unit names are case-sensitive, as pint and HyperSpy
write them: ``"meV"`` is a milli-electronvolt, ``"MeV"`` a
mega-electronvolt, ``"mev"`` and ``"EV"`` are not energies.

The networks and the out-of-domain checks work in channels, so a
spectrum's unit changes nothing in its restoration. Where energies are
compared with each other or with values in eV (the batch tool compares a
map's dispersion with its PSF's), they are multiplied by
:func:`ev_per_unit` first; the axis itself is left as it is.
"""

from __future__ import annotations

import functools

import pint

#: The accepted units, as messages name them.
ENERGY_UNITS = "eV, meV, keV or another unit of energy"


@functools.lru_cache(maxsize=64)
def _ev_per_unit(units: str) -> float | None:
    registry = pint.get_application_registry()
    try:
        unit = registry.parse_units(units)
    # Malformed strings raise pint's errors but also ValueError,
    # AssertionError and tokenize.TokenError: none of them is an energy.
    except Exception:
        return None
    if unit.dimensionality != registry.electron_volt.dimensionality:
        return None
    return float(registry.Quantity(1.0, unit).to(registry.electron_volt).magnitude)


def ev_per_unit(units) -> float | None:
    """How many eV one ``units`` is, or None if ``units`` is not an energy.

    Parameters
    ----------
    units
        An axis' ``units``: a string such as ``"eV"`` or ``"meV"``, or
        HyperSpy's ``Undefined`` (no unit given).

    Returns
    -------
    float or None
        The size of the unit in eV (1.0 for ``"eV"``, 0.001 for
        ``"meV"``); None for a unit that is not an energy (``"nm"``), a
        string that is no unit, or no unit.

    Examples
    --------
    >>> ev_per_unit("meV")
    0.001
    >>> ev_per_unit("keV")
    1000.0
    >>> ev_per_unit("nm") is None
    True
    """
    return _ev_per_unit(units) if isinstance(units, str) else None
