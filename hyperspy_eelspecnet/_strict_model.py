"""The base of every typed schema in the package: configs and model cards.

A :class:`StrictModel` is a frozen pydantic model that rejects unknown
keys, so that a misspelt setting is an error, not a silently ignored one.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

#: A closed interval ``(low, high)``.
Range = tuple[float, float]


class StrictModel(BaseModel):
    """Frozen pydantic model with ``extra="forbid"``."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_range(name: str, value: Range, low: float = 0.0) -> None:
    """Raise ``ValueError`` unless ``low <= value[0] <= value[1]``."""
    if not (low <= value[0] <= value[1]):
        raise ValueError(
            f"{name} must be an increasing pair >= {low}, got {list(value)}"
        )
