"""Keras layers that saved EELSpecNet models need when they are loaded.

Importing this module imports Keras: only the model loader and the
training code do so.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="hyperspy_eelspecnet")
class PositiveTanh(keras.layers.Layer):
    """The paper's output activation, ``tanh(relu(x) + 1e-12)``, in [0, 1).

    A registered layer rather than a ``Lambda``: a ``.keras`` file that
    holds a ``Lambda`` cannot be reloaded without its Python source.
    """

    def call(self, inputs):
        return ops.tanh(ops.relu(inputs) + 1e-12)

    def compute_output_shape(self, input_shape):
        return input_shape
