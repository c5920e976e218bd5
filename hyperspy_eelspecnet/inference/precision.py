"""The arithmetic a network runs in: float32 or bfloat16.

A network runs in bfloat16 under Keras' ``mixed_bfloat16`` policy
(weights kept in float32, the last layer computed in float32), which
this CPU feature check tells apart from a slow emulation: only processors
with AMX or AVX-512 BF16 instructions compute bfloat16 natively.

``"auto"`` resolves to bfloat16 only where the processor supports it and
:data:`AUTO_USES_BFLOAT16` is True; it is False until the evaluation
figures of the bfloat16 networks are shown to stay within 2 % of the
float32 ones, so ``"auto"`` means float32 for now.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hyperspy_eelspecnet.models.registry import NETWORK_PRECISIONS

#: The values of a ``precision`` argument.
PRECISIONS = ("auto", *NETWORK_PRECISIONS)
#: Whether ``"auto"`` picks bfloat16 on processors that support it.
AUTO_USES_BFLOAT16 = False
#: Where Linux lists the processor's flags.
CPUINFO = Path("/proc/cpuinfo")
#: Flags of processors that compute bfloat16 natively.
BFLOAT16_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})


def native_bfloat16() -> bool:
    """Whether this processor computes bfloat16 natively.

    Returns
    -------
    bool
        True on Linux when ``/proc/cpuinfo`` lists ``amx_bf16`` or
        ``avx512_bf16``; False elsewhere or when it cannot be read.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        text = CPUINFO.read_text()
    except OSError:
        return False
    flags = {flag for line in text.splitlines() if line.startswith("flags")
             for flag in line.partition(":")[2].split()}
    return bool(flags & BFLOAT16_FLAGS)


def resolve_precision(precision: str) -> str:
    """The precision a network will run in.

    Parameters
    ----------
    precision
        ``"float32"``, ``"bfloat16"`` or ``"auto"`` (bfloat16 where
        :func:`native_bfloat16` and :data:`AUTO_USES_BFLOAT16`, else
        float32).

    Returns
    -------
    str
        ``"float32"`` or ``"bfloat16"``.

    Raises
    ------
    ValueError
        For any other value.
    """
    if precision not in PRECISIONS:
        raise ValueError(
            f"unknown precision {precision!r}: give one of {', '.join(map(repr, PRECISIONS))}"
        )
    if precision == "auto":
        return "bfloat16" if AUTO_USES_BFLOAT16 and native_bfloat16() else "float32"
    return precision
