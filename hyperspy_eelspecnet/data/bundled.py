"""The bundled synthetic silver-nanowire map: loading and regenerating it.

``silver_nanowire.dm4`` is :func:`write_bundled_nanowire`'s output; after a
change to :mod:`hyperspy_eelspecnet.simulation.nanowire`, regenerate it
from the repository root with::

    .venv/bin/python -c "import hyperspy_eelspecnet.data as d; d.write_bundled_nanowire()"

(``tests/simulation/test_nanowire.py`` checks that the file equals the
simulation). Its measured ZLP is 45 meV FWHM, the median over the map.
"""

from __future__ import annotations

from pathlib import Path

import hyperspy.api as hs
import numpy as np
from exspy.signals import EELSSpectrum

from hyperspy_eelspecnet.io.dm4_writer import write_signal_dm4
from hyperspy_eelspecnet.simulation.nanowire import nanowire_spectrum_image

#: The bundled file: :func:`nanowire_spectrum_image` with seed 0, int16 counts.
BUNDLED_FILE = Path(__file__).with_name("silver_nanowire.dm4")


def write_bundled_nanowire(path: str | Path = BUNDLED_FILE) -> None:
    """Write the default simulation (seed 0) as a ``.dm4`` file of int16 counts.

    Whole counts in int16 keep the file at 2.4 MB (float32 would take
    4.7 MB) and, unlike uint16, keep the few negative counts of the read
    noise; the default dose keeps the ZLP maximum (2.4e4 at most) within
    int16.

    Parameters
    ----------
    path
        Where to write; by default the file bundled with the package.

    Raises
    ------
    OverflowError
        If a count does not fit in int16.
    """
    measured, _ = nanowire_spectrum_image()
    limits = np.iinfo(np.int16)
    if measured.data.min() < limits.min or measured.data.max() > limits.max:
        raise OverflowError("counts exceed the int16 range; lower the dose")
    measured.change_dtype("int16")
    write_signal_dm4(path, measured)


def silver_nanowire(lazy: bool = False) -> EELSSpectrum:
    """Load the bundled synthetic silver-nanowire spectrum image.

    It is :func:`nanowire_spectrum_image` with default parameters (seed 0),
    stored as int16 counts in ``silver_nanowire.dm4`` (24 x 48 pixels,
    1024 channels) and returned as float32 counts.

    Parameters
    ----------
    lazy
        Load lazily (dask) instead of into memory.

    Returns
    -------
    exspy.signals.EELSSpectrum or exspy.signals.LazyEELSSpectrum
    """
    signal = hs.load(BUNDLED_FILE, lazy=lazy)
    signal.change_dtype("float32")
    return signal


def silver_nanowire_truth() -> EELSSpectrum:
    """Ground truth of :func:`silver_nanowire`, regenerated (seed 0).

    Returns
    -------
    exspy.signals.EELSSpectrum
        Undistorted expected counts, shape ``(24, 48 | 1024)``.
    """
    return nanowire_spectrum_image()[1]
