"""Example data sets, in the manner of :mod:`exspy.data`.

Functions
---------
nanowire_spectrum_image
    Simulate a silver-nanowire near-zero-loss EELS spectrum image.
nanowire_vacuum_zlp
    The ZLP alone through the same distortions: its vacuum recording.
silver_nanowire
    Load the bundled simulation (``silver_nanowire.dm4``).
silver_nanowire_truth
    Its ground truth.
write_bundled_nanowire
    Regenerate the bundled file.
"""

from hyperspy_eelspecnet.data.bundled import (
    silver_nanowire,
    silver_nanowire_truth,
    write_bundled_nanowire,
)
from hyperspy_eelspecnet.simulation.nanowire import nanowire_spectrum_image, nanowire_vacuum_zlp

__all__ = [
    "nanowire_spectrum_image",
    "nanowire_vacuum_zlp",
    "silver_nanowire",
    "silver_nanowire_truth",
    "write_bundled_nanowire",
]
