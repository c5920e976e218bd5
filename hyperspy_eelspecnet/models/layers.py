"""Keras layers that saved EELSpecNet models need when they are loaded.

Importing this module imports Keras: only the model loader and the
training code do so.
"""

from __future__ import annotations

from hyperspy_eelspecnet.models.keras_import import import_keras

keras = import_keras()
ops = keras.ops


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


@keras.saving.register_keras_serializable(package="hyperspy_eelspecnet")
class NyquistFilter(keras.layers.Layer):
    """``[1, 2, 1] / 4`` along the channels: removes the period-2 component.

    A fixed, centred filter whose response falls from 1 at zero frequency
    to 0 at a period of 2 channels. Put after a network's last stride-2
    transposed convolution, it keeps that layer's even/odd ripple out of
    the output; a quasi-Dirac ZLP of 3 channels FWHM holds almost nothing
    at that period, so the network can sharpen before it to match.
    Channels beyond the ends count as zero.
    """

    def call(self, inputs):
        padded = ops.pad(inputs, [[0, 0], [1, 1], [0, 0]])
        return 0.25 * padded[:, :-2] + 0.5 * padded[:, 1:-1] + 0.25 * padded[:, 2:]

    def compute_output_shape(self, input_shape):
        return input_shape
