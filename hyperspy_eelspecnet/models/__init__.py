"""The models: the shipped model folders, the registry and the custom layers.

A model is a directory holding ``model.keras`` and ``card.json``; the
shipped ones are the folders beside this file.

Modules
-------
registry
    Finding a model by name or path, checking and loading it.
layers
    The custom Keras layers the networks use (imports Keras).
"""

from hyperspy_eelspecnet.models.registry import ModelSpec, list_models, resolve_model

__all__ = ["ModelSpec", "list_models", "resolve_model"]
