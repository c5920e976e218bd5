"""The models: the shipped model folders, the registry and the custom layers.

A model is a directory holding ``model.keras`` and ``card.json``; the
shipped ones are the folders beside this file.

Modules
-------
registry
    Finding a model by name or path, checking and loading it.
card
    :class:`ModelCard`, the typed schema of ``card.json``.
layers
    The custom Keras layers the networks use (imports Keras).
keras_import
    :func:`~hyperspy_eelspecnet.models.keras_import.import_keras`, the one
    way the package imports Keras, without TensorFlow's C++ start-up lines.
"""

from hyperspy_eelspecnet.models.card import ModelCard
from hyperspy_eelspecnet.models.registry import ModelSpec, list_models, resolve_model

__all__ = ["ModelCard", "ModelSpec", "list_models", "resolve_model"]
