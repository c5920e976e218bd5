"""The EELSpecNet U-Net in plain Keras 3 (``keras`` and ``keras.ops`` only).

The same code builds the paper's 218 M-parameter "10 by 10" network and
the compact variants this package ships; it runs on the TensorFlow, JAX
or PyTorch backend.
"""

from __future__ import annotations

import contextlib
import math

from hyperspy_eelspecnet.models.keras_import import import_keras
from hyperspy_eelspecnet.training.config import NetworkConfig

#: The paper's encoder filters (10 levels): 218,094,209 trainable parameters.
PAPER_FILTERS = (64, 128, 256, 512, 1024, 2048, 2048, 2048, 2048, 2048)

#: Named layouts. ``compact-10`` is the facts file's 1.2 M-parameter net.
PRESETS: dict[str, NetworkConfig] = {
    "paper-10x10": NetworkConfig(filters=PAPER_FILTERS),
    "paper-9x9": NetworkConfig(filters=PAPER_FILTERS[:9]),
    "compact-10": NetworkConfig(
        filters=(16, 32, 64, 128, 128, 128, 128, 128, 128, 128)
    ),
    "tiny-6": NetworkConfig(filters=(4, 8, 8, 8, 8, 8)),
}


def build_unet(config: NetworkConfig, length: int | None = None, name: str = "eelspecnet",
               precision: str = "float32", input_channels: int = 1):
    """Build the U-shaped fully convolutional network.

    Parameters
    ----------
    config
        Filters per encoding level (the depth is their number), kernel
        size and output activation.
    length
        Number of channels of the input, or None for any multiple of
        ``2**depth`` (the network is fully convolutional).
    name
        Name of the Keras model.
    precision
        Keras dtype policy of every layer but the output activation, which
        is float32: ``"float32"`` or ``"mixed_bfloat16"`` (see
        ``TrainingConfig.precision``). Keras' global policy is set only
        while the network is built.
    input_channels
        Channels of the input: 1 for the spectrum alone, more for a model
        that also takes a vacuum reference
        (:mod:`hyperspy_eelspecnet.inference.reference`).

    Returns
    -------
    keras.Model
        Input of shape (batch, length, input_channels) and output of
        shape (batch, length, 1), float32.

    Notes
    -----
    Encoder: ``depth`` strided convolutions (stride 2, "same", ReLU).
    Decoder: a transposed convolution (or, with ``upsampling="resize"``,
    a doubling and a convolution) per level back up, each output
    concatenated with the encoder output of the same length, then a last
    such step to one filter, optionally a fixed filter that removes the
    period-2 component (``nyquist_filter``), and the output activation.
    Weights are initialised ``random_uniform`` as in the paper.
    """
    keras = import_keras()

    from hyperspy_eelspecnet.models.layers import NyquistFilter, PositiveTanh

    init = "random_uniform"
    conv = dict(kernel_size=config.kernel_size, strides=2, padding="same",
                kernel_initializer=init)
    with _global_dtype_policy(precision):
        inputs = keras.Input(shape=(length, input_channels), name="spectrum")
        skips = []
        x = inputs
        for level, filters in enumerate(config.filters):
            x = keras.layers.Conv1D(filters, activation="relu", name=f"down_{level}", **conv)(x)
            skips.append(x)
        for level in range(len(config.filters) - 2, -1, -1):
            x = _up(config, config.filters[level], f"up_{level}", "relu", level + 1)(x)
            x = keras.layers.Concatenate(name=f"skip_{level}")([x, skips[level]])
        x = _up(config, 1, "to_spectrum", None, 0)(x)
        if config.nyquist_filter:
            x = NyquistFilter(name="nyquist_filter")(x)
        if config.output_activation == "positive_tanh":
            outputs = PositiveTanh(name="positive_tanh", dtype="float32")(x)
        else:
            outputs = keras.layers.Activation(config.output_activation, name="output",
                                              dtype="float32")(x)
        return keras.Model(inputs, outputs, name=name)


@contextlib.contextmanager
def _global_dtype_policy(name: str):
    """Set Keras' global dtype policy to ``name`` inside the block only."""
    keras = import_keras()
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _up(config: NetworkConfig, filters: int, name: str, activation, finest: int):
    """Decoder step ``finest`` (0 for the last) that doubles the length.

    See ``NetworkConfig.upsampling`` and ``NetworkConfig.resize_steps``.
    """
    keras = import_keras()

    conv = dict(kernel_size=config.kernel_size, padding="same",
                kernel_initializer="random_uniform", activation=activation)
    resize = config.upsampling == "resize" and (
        config.resize_steps is None or finest < config.resize_steps)
    if not resize:
        return keras.layers.Conv1DTranspose(filters, strides=2, name=name, **conv)
    return keras.Sequential(
        [keras.layers.UpSampling1D(2), keras.layers.Conv1D(filters, **conv)], name=name
    )


def count_parameters(model) -> int:
    """Number of trainable parameters of a Keras model."""
    return int(sum(math.prod(w.shape) for w in model.trainable_weights))
