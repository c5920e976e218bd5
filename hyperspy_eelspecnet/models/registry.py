"""Named models shipped in the package, models exported to a path, loading.

A model is a directory holding ``model.keras`` (architecture and weights)
and ``card.json`` (what it was trained on, how to feed it, what it
scored). Shipped models live in ``hyperspy_eelspecnet/models/<name>/``;
``model=`` also takes the path of a directory written by
:func:`hyperspy_eelspecnet.training.export.export_model`.

Nothing here imports Keras until a network is first needed; networks are
cached per process, so a dask worker loads each model once.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

MODELS_DIR = Path(__file__).parent
WEIGHTS_FILE = "model.keras"
CARD_FILE = "card.json"


@dataclass(frozen=True)
class ModelSpec:
    """A resolved model: where it is, its card and its weights' checksum."""

    name: str
    path: Path
    card: dict
    sha256: str

    @property
    def preprocessing(self) -> dict:
        """How inputs are put to the network (see the model card)."""
        return self.card["preprocessing"]


def list_models() -> dict[str, dict]:
    """The models shipped in the package, with their cards.

    Returns
    -------
    dict
        Model name to model card (a dict read from ``card.json``).

    Examples
    --------
    >>> import hyperspy_eelspecnet
    >>> sorted(hyperspy_eelspecnet.list_models())  # doctest: +SKIP
    ['nzeels-2048', 'nzeels-2048-nozlp']
    """
    return {
        path.parent.name: json.loads(path.read_text())
        for path in sorted(MODELS_DIR.glob(f"*/{CARD_FILE}"))
    }


def resolve_model(model: str | Path) -> ModelSpec:
    """Find a model by shipped name or by path and check its files.

    Parameters
    ----------
    model
        The name of a shipped model (see :func:`list_models`) or the path
        of an exported model directory (or of its ``model.keras``).

    Returns
    -------
    ModelSpec

    Raises
    ------
    ValueError
        If the name is unknown (the message lists the shipped names).
    FileNotFoundError
        If the directory lacks its weights or card.
    OSError
        If the weights do not match the checksum in the card (a corrupt
        or partly copied file).
    """
    path = Path(model)
    if isinstance(model, str) and (MODELS_DIR / model / CARD_FILE).exists():
        path = MODELS_DIR / model
    elif not path.exists():
        available = ", ".join(sorted(list_models())) or "none"
        raise ValueError(
            f"unknown model {str(model)!r}: give one of the shipped models "
            f"({available}) or the path of an exported model directory"
        )
    if path.is_file():
        path = path.parent
    weights, card_file = path / WEIGHTS_FILE, path / CARD_FILE
    for required in (weights, card_file):
        if not required.exists():
            raise FileNotFoundError(
                f"model directory {path} has no {required.name}: export the model "
                "again with hyperspy_eelspecnet.training.export_model"
            )
    card = json.loads(card_file.read_text())
    digest = file_sha256(weights)
    expected = card.get("weights_sha256")
    if expected and expected != digest:
        raise OSError(
            f"{weights} is corrupt or not the file its card describes "
            f"(sha256 {digest[:12]}..., card says {expected[:12]}...): "
            "reinstall the package or export the model again"
        )
    return ModelSpec(card.get("name", path.name), path, card, digest)


@functools.lru_cache(maxsize=1024)
def _sha256_cached(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, cached by path, modification time and size."""
    stat = Path(path).stat()
    return _sha256_cached(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def load_network(path: str, sha256: str):
    """Load (once per process) the Keras network of a resolved model.

    Parameters
    ----------
    path
        Model directory.
    sha256
        Checksum of its weights, part of the cache key so that a model
        exported again to the same path is reloaded.

    Returns
    -------
    keras.Model
    """
    import keras

    from hyperspy_eelspecnet.models import layers  # noqa: F401  (registers the custom layers)

    try:
        return keras.saving.load_model(Path(path) / WEIGHTS_FILE, compile=False)
    except Exception as error:  # keras raises many kinds on a bad file
        raise OSError(
            f"could not load the network in {path}: {error}. Reinstall the "
            "package or export the model again"
        ) from error
