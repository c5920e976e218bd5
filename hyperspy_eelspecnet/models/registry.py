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

import dataclasses
import functools
import hashlib
from pathlib import Path

from hyperspy_eelspecnet.models.card import ModelCard, Preprocessing
from hyperspy_eelspecnet.models.keras_import import import_keras

MODELS_DIR = Path(__file__).parent
WEIGHTS_FILE = "model.keras"
CARD_FILE = "card.json"
#: The precisions :func:`load_network` builds a network in.
NETWORK_PRECISIONS = ("float32", "bfloat16")


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A resolved model: where it is, its card and its weights' checksum."""

    name: str
    path: Path
    card: ModelCard
    sha256: str

    @property
    def preprocessing(self) -> Preprocessing:
        """How inputs are put to the network (the card's ``preprocessing``)."""
        return self.card.preprocessing


def list_models() -> dict[str, ModelCard]:
    """The models shipped in the package, with their cards.

    Returns
    -------
    dict
        Model name to its card, read from ``card.json``.

    Examples
    --------
    >>> import hyperspy_eelspecnet
    >>> sorted(hyperspy_eelspecnet.list_models())  # doctest: +SKIP
    ['nzeels-2048', 'nzeels-2048-nozlp']
    """
    return {
        path.parent.name: ModelCard.read(path)
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
        If the name is unknown (the message lists the shipped names), or
        the card is not a valid model card (the message names the key).
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
    card = ModelCard.read(card_file)
    digest = file_sha256(weights)
    if card.weights_sha256 != digest:
        raise OSError(
            f"{weights} is corrupt or not the file its card describes "
            f"(sha256 {digest[:12]}..., card says {card.weights_sha256[:12]}...): "
            "reinstall the package or export the model again"
        )
    return ModelSpec(card.name, path, card, digest)


def resolve_models(models: list[str | Path]) -> list[ModelSpec]:
    """Resolve several models to compare, each under a name of its own.

    A retrained model usually keeps the card name of the one it replaces;
    where two models share a name, each one given by a path is named by
    that path as given, so that the two stay apart in tables and figures.

    Parameters
    ----------
    models
        Shipped names or paths, as for :func:`resolve_model`.

    Returns
    -------
    list of ModelSpec
        In the order given.
    """
    specs = [resolve_model(m) for m in models]
    names = [spec.name for spec in specs]
    return [
        dataclasses.replace(spec, name=str(given))
        if names.count(spec.name) > 1 and str(given) != spec.name else spec
        for given, spec in zip(models, specs, strict=True)
    ]


def write_card(model_dir: str | Path, card: ModelCard) -> Path:
    """Write a model's ``card.json`` (see :meth:`ModelCard.write`).

    Parameters
    ----------
    model_dir
        The model directory.
    card
        The whole card.

    Returns
    -------
    pathlib.Path
        The card file.
    """
    path = Path(model_dir, CARD_FILE)
    card.write(path)
    return path


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
def load_network(path: str, sha256: str, precision: str = "float32"):
    """Load (once per process and precision) the Keras network of a resolved model.

    Parameters
    ----------
    path
        Model directory.
    sha256
        Checksum of its weights, part of the cache key so that a model
        exported again to the same path is reloaded.
    precision
        ``"float32"``, the network as saved, or ``"bfloat16"``: the same
        network and weights rebuilt under Keras' ``mixed_bfloat16`` policy
        (bfloat16 arithmetic), but for its output layers, which stay float32.

    Returns
    -------
    keras.Model

    Raises
    ------
    ValueError
        For another precision.
    OSError
        If the file cannot be loaded.
    """
    if precision not in NETWORK_PRECISIONS:
        raise ValueError(f"unknown network precision {precision!r}: give one of "
                         f"{', '.join(map(repr, NETWORK_PRECISIONS))}")
    if precision == "bfloat16":  # a copy of the cached float32 network: read once
        return _mixed_bfloat16(load_network(path, sha256, "float32"))
    keras = import_keras()

    from hyperspy_eelspecnet.models import layers  # noqa: F401  (registers the custom layers)

    try:
        return keras.saving.load_model(Path(path) / WEIGHTS_FILE, compile=False)
    except Exception as error:  # keras raises many kinds on a bad file
        raise OSError(
            f"could not load the network in {path}: {error}. Reinstall the "
            "package or export the model again"
        ) from error


def _mixed_bfloat16(network):
    """A copy of a network that computes in bfloat16, with the same weights.

    Every layer but the outputs is rebuilt under Keras' ``mixed_bfloat16``
    policy (float32 weights, bfloat16 arithmetic); the output layers stay
    float32, so the network returns float32 values.

    Parameters
    ----------
    network
        A functional Keras model.

    Returns
    -------
    keras.Model
    """
    keras = import_keras()

    def rebuild(layer):
        config = layer.get_config()
        if layer.name not in network.output_names:
            config["dtype"] = "mixed_bfloat16"
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(network, clone_function=rebuild, recursive=True)
    copy.set_weights(network.get_weights())
    return copy
