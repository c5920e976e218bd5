"""Training losses beyond Keras's own, for the asinh value scale.

Importing this module imports Keras: only the trainer does so.
"""

from __future__ import annotations

import math

from hyperspy_eelspecnet.models.keras_import import import_keras

keras = import_keras()
ops = keras.ops

#: Network outputs are clipped to this range before they are mapped back
#: to unit-integral values (``sinh`` grows fast; the truth lies in [0, 1]).
_LINEAR_CLIP = (-1.0, 1.2)


@keras.saving.register_keras_serializable(package="hyperspy_eelspecnet")
class AsinhLinearMSE(keras.losses.Loss):
    """Squared error on the asinh scale plus on the unit-integral values.

    The asinh scale (:mod:`hyperspy_eelspecnet.inference.value_scale`) weighs
    relative errors alike everywhere, which restores the weak loss
    region but leaves the ZLP's height loose: a 1 % error at the ZLP's
    top costs no more than a 1 % error a thousand times lower. The second
    term, the mean squared error of the values mapped back to unit
    integral, is the paper's fidelity measure, dominated by the ZLP.

    Parameters
    ----------
    asinh_width
        The value scale's ``asinh_width``.
    linear_weight
        Weight of the unit-integral term.
    difference_weight
        Weight of a third term, the squared error of neighbouring-channel
        differences on the asinh scale. Noise left in a restoration
        changes from channel to channel; a smooth error hardly does. So
        this term weighs the noise a restoration lets through more than a
        slightly wrong level or width.
    difference_zlp_margin
        Channels on each side of the target's maximum (the quasi-Dirac
        ZLP) that the difference term leaves out, so that it weighs the
        loss region's noise and not the ZLP's steep flanks.
    loss_region_asinh_width
        In ``loss_region_window``, the first and third terms measure the
        error on an asinh scale of this width instead (1e-4: linear up to
        about a phonon's height beside a 10-channel ZLP). Where a network
        cannot tell a weak peak from no peak (a phonon under the ZLP's
        tail, in noise), the best answer on the narrow asinh scale is a
        mean of logarithms, far below the mean count, so near-ZLP peaks
        come out with a fraction of their counts: for a peak of 1e-4 of
        the integral per channel that is as likely as none, 0.14 of the
        mean, and 0.91 of it on a scale of width 1e-4
        (``tests/inference/test_value_scale.py``). Unlike a heavily weighted
        linear term, the wider scale keeps the window's errors of the same
        size as the rest, so that training does not forget the far loss
        region.
    loss_region_window
        ``(inner, outer)``: the channels more than ``inner`` and at most
        ``outer`` channels from the target's maximum, on both sides: the
        near-ZLP region, where peaks hide in the ZLP's tail.
    loss_region_weight
        Weight of the first term's squared errors in ``loss_region_window``
        against 1 elsewhere. On the wide scale a phonon's channels hold
        well under 1 % of the loss of a whole spectrum, too little for a
        network to learn to tell it from the ZLP's tail (or to use a
        vacuum reference that would).
    zlp_channel
        Where the ZLP is, for the window and the difference term's margin:
        this channel instead of the target's maximum. For a ZLP-free
        target, whose maximum is a loss peak, the channel every spectrum's
        ZLP is aligned to.
    """

    def __init__(self, asinh_width: float, linear_weight: float,
                 difference_weight: float = 0.0, difference_zlp_margin: int = 0,
                 loss_region_asinh_width: float | None = None,
                 loss_region_window: tuple[int, int] = (3, 160),
                 loss_region_weight: float = 1.0,
                 zlp_channel: int | None = None,
                 name: str = "asinh_linear_mse", **kwargs):
        super().__init__(name=name, **kwargs)
        self.asinh_width = float(asinh_width)
        self.linear_weight = float(linear_weight)
        self.difference_weight = float(difference_weight)
        self.difference_zlp_margin = int(difference_zlp_margin)
        self.loss_region_asinh_width = (None if loss_region_asinh_width is None
                                        else float(loss_region_asinh_width))
        self.loss_region_window = tuple(int(c) for c in loss_region_window)
        self.loss_region_weight = float(loss_region_weight)
        self.zlp_channel = None if zlp_channel is None else int(zlp_channel)

    def call(self, y_true, y_pred):
        # one value per spectrum: (batch, channels, 1) flattened to (batch, channels)
        y_pred = ops.reshape(y_pred, (ops.shape(y_pred)[0], -1))
        y_true = ops.reshape(ops.cast(y_true, y_pred.dtype), ops.shape(y_pred))
        error = y_pred - y_true
        linear_pred, linear_true = self._to_linear(y_pred), self._to_linear(y_true)
        distance = self._zlp_distance(y_true)
        inner, outer = self.loss_region_window
        window = ops.cast((distance > inner) & (distance <= outer), error.dtype)
        if self.loss_region_asinh_width is not None:
            wide = self._wide_scale(linear_pred) - self._wide_scale(linear_true)
            error = error + window * (wide - error)
        squared = ops.square(error)
        if self.loss_region_weight != 1.0:
            squared = squared * (1.0 + (self.loss_region_weight - 1.0) * window)
        asinh_term = ops.mean(squared, axis=-1)
        linear_error = linear_pred - linear_true
        linear_term = ops.mean(ops.square(linear_error), axis=-1)
        loss = asinh_term + self.linear_weight * linear_term
        if self.difference_weight:
            step = ops.square(error[:, 1:] - error[:, :-1])
            if self.difference_zlp_margin:
                outside = ops.cast(distance > self.difference_zlp_margin, step.dtype)
                step = step * outside[:, 1:] * outside[:, :-1]
            loss = loss + self.difference_weight * ops.mean(step, axis=-1)
        return loss

    def _wide_scale(self, linear):
        """Unit-integral values on the asinh scale of ``loss_region_asinh_width``."""
        width = self.loss_region_asinh_width
        return ops.arcsinh(linear / width) / math.asinh(1.0 / width)

    def _zlp_distance(self, y_true):
        """Channels from the ZLP: ``zlp_channel`` if set, else the target's maximum."""
        channel = ops.arange(ops.shape(y_true)[1])[None, :]
        if self.zlp_channel is not None:
            return ops.abs(channel - self.zlp_channel)
        return ops.abs(channel - ops.expand_dims(ops.argmax(y_true, axis=-1), -1))

    def _to_linear(self, y):
        """``value_scale.from_network`` in ``keras.ops``, on clipped values."""
        stretch = math.asinh(1.0 / self.asinh_width)
        return self.asinh_width * ops.sinh(stretch * ops.clip(y, *_LINEAR_CLIP))

    def get_config(self) -> dict:
        return {**super().get_config(), "asinh_width": self.asinh_width,
                "linear_weight": self.linear_weight,
                "difference_weight": self.difference_weight,
                "difference_zlp_margin": self.difference_zlp_margin,
                "loss_region_asinh_width": self.loss_region_asinh_width,
                "loss_region_window": self.loss_region_window,
                "loss_region_weight": self.loss_region_weight,
                "zlp_channel": self.zlp_channel}
