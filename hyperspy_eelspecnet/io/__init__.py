"""File writers the package needs and RosettaSciIO lacks.

Modules
-------
dm4_writer
    A Digital Micrograph 4 writer that RosettaSciIO's reader reads back.
"""

from hyperspy_eelspecnet.io.dm4_writer import write_dm4, write_signal_dm4

__all__ = ["write_dm4", "write_signal_dm4"]
