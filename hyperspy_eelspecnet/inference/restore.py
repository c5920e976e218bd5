"""EELSpecNet restoration of plain arrays of spectra (no HyperSpy here).

:func:`restore_spectra` takes a block of spectra, shape (n, channels), and
returns their restorations: each spectrum is normalised to unit integral
as the paper does, moved by whole channels so that its maximum sits on
the channel the model was trained for, zero-padded to the smallest window
that holds it of those the model runs in (a multiple of the card's
``length_multiple`` and at least its ``smallest_window``), mapped to the model's value scale
(:mod:`hyperspy_eelspecnet.inference.value_scale`), given with its vacuum
reference to a model that takes one
(:mod:`hyperspy_eelspecnet.inference.reference`), restored in batches,
mapped back, moved back and scaled back to the input's counts.
"""

from __future__ import annotations

import threading

import numpy as np

from hyperspy_eelspecnet.inference.alignment import alignment_shifts, required_length, shift_spectra
from hyperspy_eelspecnet.inference.precision import resolve_precision
from hyperspy_eelspecnet.inference.reference import (
    check_reference_use,
    network_input,
    reference_rows,
)
from hyperspy_eelspecnet.inference.refinement import refine_restoration
from hyperspy_eelspecnet.inference.value_scale import from_network
from hyperspy_eelspecnet.models.registry import ModelSpec, load_network

_PREDICT_LOCK = threading.Lock()


def restore_spectra(
    spectra: np.ndarray, model: ModelSpec, batch_size: int = 256, precision: str = "auto",
    reference: np.ndarray | None = None,
) -> np.ndarray:
    """Restore a block of spectra with an EELSpecNet model.

    Parameters
    ----------
    spectra
        Array of shape (n, channels), any real dtype, finite.
    model
        A resolved model (:func:`hyperspy_eelspecnet.models.registry.resolve_model`).
    batch_size
        Spectra per network call.
    precision
        ``"float32"``, ``"bfloat16"`` (the network computes in bfloat16,
        faster on processors with native support) or ``"auto"`` (see
        :func:`hyperspy_eelspecnet.inference.precision.resolve_precision`).
    reference
        For a model that takes one (card ``preprocessing.reference``): the
        vacuum recording, one of shape (m,) for all spectra or one per
        spectrum, shape (n, m); any length and offset (see
        :func:`hyperspy_eelspecnet.inference.reference.reference_rows`).
        None for a blind model.

    Returns
    -------
    numpy.ndarray
        Float32 array of the input's shape. For a quasi-Dirac model each
        restored spectrum has the input's total counts; for a ZLP-free
        model the restored loss spectrum is on the input's scale (its
        total is the input's minus the ZLP). A refined model (card
        ``preprocessing.refinement``) returns the refinement's output, whose
        counts fit the spectrum's through the reference. Spectra whose total
        is not positive come back as zeros.

    Raises
    ------
    ValueError
        For an unknown precision, a reference given to a blind model or
        missing for a reference model, or a reference that is not usable.
    """
    precision = resolve_precision(precision)
    pre = model.preprocessing
    check_reference_use(pre, reference is not None, model.name)
    x = np.asarray(spectra, dtype=np.float64)
    totals = x.sum(axis=1)
    usable = totals > 0
    out = np.zeros(x.shape, dtype=np.float64)
    if not usable.any():
        return out.astype(np.float32)
    normalised = x[usable] / totals[usable, None]
    if reference is not None:
        reference = reference_rows(reference, x.shape[0])
        reference = reference if len(reference) == 1 else reference[usable]
    shifts = alignment_shifts(normalised, pre.zlp_channel)
    lengths = required_length(x.shape[1], shifts, pre.smallest_window, pre.length_multiple)
    restored = np.empty_like(normalised)
    network = load_network(str(model.path), model.sha256, precision)
    for length in np.unique(lengths):
        rows = lengths == length
        own = reference if reference is None or len(reference) == 1 else reference[rows]
        inputs = network_input(normalised[rows], shifts[rows], int(length), pre, own)
        outputs = from_network(_predict(network, inputs, batch_size)[..., 0], pre)
        restored[rows] = shift_spectra(outputs, -shifts[rows], x.shape[1])
    if pre.target == "quasi_dirac":  # the restoration keeps the total counts
        sums = restored.sum(axis=1, keepdims=True)
        restored = np.where(sums > 0, restored / np.where(sums > 0, sums, 1), 0.0)
    out[usable] = restored * totals[usable, None]
    if pre.refinement is not None:
        out[usable] = refine_restoration(x[usable], out[usable], reference, pre.refinement)
    return out.astype(np.float32)


def _predict(network, inputs: np.ndarray, batch_size: int) -> np.ndarray:
    """Network outputs for ``inputs``, ``batch_size`` spectra per call."""
    with _PREDICT_LOCK:
        return np.concatenate([
            np.asarray(network.predict_on_batch(inputs[start:start + batch_size]))
            for start in range(0, len(inputs), batch_size)
        ])
