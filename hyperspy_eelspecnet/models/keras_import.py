"""Import Keras without TensorFlow's C++ start-up lines on stderr.

Importing TensorFlow prints lines such as *"oneDNN custom operations are
on ..."* to every user. Unless the user has set ``TF_CPP_MIN_LOG_LEVEL``
themselves, :func:`import_keras` sets it to `TF_LOG_LEVEL` (TensorFlow's
C++ info and warning lines hidden, errors shown) before TensorFlow is
first imported. Some lines are logged before TensorFlow reads that
variable (the oneDNN notice through absl's early logging, which ignores
it), so during the import the info and warning lines in absl's format
are also taken out of what is written to stderr; everything else is
passed on once the import is done. Nothing else changes: oneDNN stays
on, and the numerics with it.

Every place in the package that needs Keras calls :func:`import_keras`
instead of ``import keras``.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: ``TF_CPP_MIN_LOG_LEVEL`` set when the user has not set it: info and
#: warning lines hidden, errors shown.
TF_LOG_LEVEL = "2"

#: Lines of absl's early logging hidden at `TF_LOG_LEVEL`: info and warning
#: records (``I0101 12:00:00.000000  1234 port.cc:153] ...``; before absl is
#: initialised the date is 0000 and the seconds count from 1970) and absl's
#: notice that such records go to stderr.
_HIDDEN_LINE = re.compile(
    rb"[IW]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^ \]]+:\d+\] "
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
)

_IMPORT_LOCK = threading.Lock()


def import_keras():
    """Import Keras (and TensorFlow) quietly, once per process.

    Returns
    -------
    module
        The ``keras`` module.

    Notes
    -----
    With ``TF_CPP_MIN_LOG_LEVEL`` unset, it is set to `TF_LOG_LEVEL` and
    TensorFlow's start-up info and warning lines are filtered out of
    stderr while Keras is imported; a value the user has set is kept and
    nothing is filtered. Once Keras is imported, this is a plain lookup.
    """
    with _IMPORT_LOCK:
        if "keras" in sys.modules or "TF_CPP_MIN_LOG_LEVEL" in os.environ:
            import keras

            return keras
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = TF_LOG_LEVEL
        with start_up_lines_hidden():
            import keras

        return keras


@contextmanager
def start_up_lines_hidden() -> Iterator[None]:
    """Hide absl's info and warning lines written to stderr in the block.

    File descriptor 2 is pointed at a temporary file while the block
    runs; then it is restored, and every line the block wrote there
    (from Python or from C++) is written to it, except those of
    ``_HIDDEN_LINE``. Where stderr has no file descriptor, the block runs
    as it is.

    Yields
    ------
    None
    """
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (e.g. pythonw)
        yield
        return
    with tempfile.TemporaryFile() as captured:
        _flush_stderr()
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            _flush_stderr()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().splitlines(keepends=True)
                    if not _HIDDEN_LINE.match(line)]
            os.write(2, b"".join(kept))


def _flush_stderr() -> None:
    """Write out what Python holds for stderr, if it has one."""
    if sys.stderr is not None:
        sys.stderr.flush()
