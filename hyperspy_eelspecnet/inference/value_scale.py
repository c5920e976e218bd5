"""The value scale a network sees, shared by training and inference.

Spectra reach the network normalised to unit integral. Two scales map
those values to the network's input and its output back:

``"offset"`` (the paper's)
    ``x + offset``, with targets in [0, 1] for a binary cross-entropy
    loss. The loss region past the ZLP (1e-5 of the integral per channel
    in a real low-loss spectrum) then sits far below the offset (1e-3),
    and a network learns it only to within about the offset.
``"asinh"``
    ``asinh(x / width) / asinh(1 / width)``: linear within ``width`` of
    zero (so noise around zero stays symmetric), logarithmic above it, 1
    at 1. Every decade above ``width`` gets about the same share of the
    range, so a squared-error loss weighs a 1 % error of the weak loss
    region as much as a 1 % error of the ZLP.
"""

from __future__ import annotations

import numpy as np

from hyperspy_eelspecnet.models.card import ValueScale


def to_network(spectra: np.ndarray, preprocessing: ValueScale) -> np.ndarray:
    """Map unit-integral spectra to the network's value scale.

    Parameters
    ----------
    spectra
        Spectra normalised to unit integral, any shape.
    preprocessing
        A model card's ``preprocessing``
        (:class:`~hyperspy_eelspecnet.models.card.Preprocessing`), or just
        its value scale (:class:`~hyperspy_eelspecnet.models.card.ValueScale`).

    Returns
    -------
    numpy.ndarray
        Array of ``spectra``'s shape and dtype float64.
    """
    x = np.asarray(spectra, dtype=np.float64)
    if preprocessing.scale == "asinh":
        width = preprocessing.asinh_width
        return np.arcsinh(x / width) / np.arcsinh(1.0 / width)
    return x + preprocessing.offset


def from_network(values: np.ndarray, preprocessing: ValueScale) -> np.ndarray:
    """Inverse of :func:`to_network`: network outputs to unit-integral values."""
    y = np.asarray(values, dtype=np.float64)
    if preprocessing.scale == "asinh":
        width = preprocessing.asinh_width
        return width * np.sinh(y * np.arcsinh(1.0 / width))
    return y - preprocessing.offset
