"""EELSpecNet restoration of plain arrays of spectra (no HyperSpy here).

Modules
-------
restore
    :func:`restore_spectra`: a block of spectra in, their restorations out.
precision
    float32 or bfloat16 networks, and whether the processor computes bfloat16.
alignment
    Whole-channel alignment on the ZLP, shared with training.
value_scale
    How unit-integral spectra are mapped to and from the network.
reference
    The network's input, with the vacuum reference of a model that takes one.
energy_units
    Which axis units are energies, and how many eV each is.
domain
    Checks that a map lies inside the range a model was trained on.
reference_match
    Whether a vacuum reference matches the spectra's ZLP.
blocks
    The one chunking helper and the block map every lazy method uses.
"""

from hyperspy_eelspecnet.inference.domain import (
    DomainReport,
    OutOfDomainWarning,
    ReferenceMismatchWarning,
)
from hyperspy_eelspecnet.inference.restore import restore_spectra

__all__ = ["DomainReport", "OutOfDomainWarning", "ReferenceMismatchWarning", "restore_spectra"]
