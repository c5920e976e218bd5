"""The network's input, and the vacuum reference of a model that takes one.

A blind model sees the spectrum alone and has to guess the instrument's
response from it. A reference model (card ``preprocessing.reference``)
is also given a vacuum recording of the ZLP, the response Richardson-Lucy
is given:

``"channel"``
    the reference, aligned and normalised like the spectrum, as a second
    input channel;
``"subtracted"``
    the spectrum less the reference, scaled to fit the spectrum's ZLP peak
    (:func:`subtract_reference`), as the second channel: what lies beside
    the ZLP, a phonon on its tail, is then in the input itself rather than
    in a small difference of two large channels that the network would
    have to learn to take;
``"richardson_lucy"``
    also Richardson-Lucy's result with that reference (a third channel,
    ``reference_iterations`` iterations), so that the network starts from
    a restoration that used the exact reference, whatever its shape, and
    is left to denoise and correct it.

Training (:func:`hyperspy_eelspecnet.training.train.network_pairs`) and
inference (:func:`hyperspy_eelspecnet.inference.restore.restore_spectra`)
build the input with the same :func:`network_input`.
"""

from __future__ import annotations

import numpy as np

from hyperspy_eelspecnet.inference.alignment import alignment_shifts, shift_spectra
from hyperspy_eelspecnet.inference.value_scale import to_network
from hyperspy_eelspecnet.models.card import Preprocessing
from hyperspy_eelspecnet.restoration.richardson_lucy import normalise_psf, richardson_lucy_kernel


def check_reference_use(preprocessing: Preprocessing, has_reference: bool, model: str) -> None:
    """Refuse a reference for a blind model, and a reference model without one.

    Parameters
    ----------
    preprocessing
        The model card's ``preprocessing``.
    has_reference
        Whether the caller gave a reference (``psf``).
    model
        The model's name, for the messages.

    Raises
    ------
    ValueError
        Naming the model and the fix.
    """
    takes_one = preprocessing.takes_reference
    if has_reference and not takes_one:
        raise ValueError(
            f"model {model!r} is blind: it takes no vacuum reference. Call it without "
            "psf=, or choose a model that takes one (its card's preprocessing.reference), "
            "or use richardson_lucy with the reference"
        )
    if takes_one and not has_reference:
        raise ValueError(
            f"model {model!r} needs the measured vacuum ZLP: pass psf= a vacuum recording "
            "(one spectrum, or one per pixel with the data's navigation shape), or choose "
            "a blind model such as 'nzeels-2048'"
        )


def reference_rows(reference: np.ndarray, n_spectra: int) -> np.ndarray:
    """The unit-integral references of ``n_spectra`` spectra.

    Parameters
    ----------
    reference
        One recording of shape (m,), or one per spectrum of shape
        (n_spectra, m); any length ``m`` and offset (each is aligned on
        its own maximum).
    n_spectra
        Number of spectra.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape (n_spectra, m), or (1, m) where one
        reference serves all spectra (aligned, and given to
        Richardson-Lucy, once for all). Negative values, the noise about
        zero of a dark-subtracted recording, count as 0, as
        :func:`~hyperspy_eelspecnet.restoration.richardson_lucy.normalise_psf`
        counts them for Richardson-Lucy.

    Raises
    ------
    ValueError
        For a shape that fits neither, a value that is not finite, or a
        reference whose total is not positive.
    """
    ref = np.asarray(reference, dtype=np.float64)
    if ref.ndim == 1:
        ref = ref[None, :]
    if ref.ndim != 2 or ref.shape[0] not in (1, n_spectra):
        raise ValueError(
            f"the reference has shape {np.shape(reference)}: give one spectrum of "
            f"shape (channels,) or one per spectrum, shape ({n_spectra}, channels)"
        )
    if ref.shape[1] < 2:
        raise ValueError(
            f"the reference has {ref.shape[1]} channel: a vacuum recording needs the "
            "channels of its ZLP; give the whole recording, not one value"
        )
    if not np.all(np.isfinite(ref)):
        raise ValueError("the reference holds NaN or inf values: give a finite recording")
    totals = ref.sum(axis=1)
    if np.any(totals <= 0):
        raise ValueError("a reference whose total is not positive cannot be normalised: "
                         "give the vacuum recording itself (counts, not a difference)")
    return normalise_psf(ref)


def network_input(normalised: np.ndarray, shifts: np.ndarray, length: int,
                  preprocessing: Preprocessing,
                  reference: np.ndarray | None = None) -> np.ndarray:
    """The network's input for unit-integral spectra.

    Parameters
    ----------
    normalised
        Spectra of shape (n, channels), unit integral, in the
        measurement frame.
    shifts
        Their alignment shifts (:func:`~.alignment.alignment_shifts`).
    length
        Channels of the network's window.
    preprocessing
        The model card's ``preprocessing``.
    reference
        Unit-integral references (:func:`reference_rows`), one per
        spectrum or one row for all, for a reference model; None for a
        blind one.

    Returns
    -------
    numpy.ndarray
        Float32 array of shape (n, length, input channels): the aligned
        spectrum, then Richardson-Lucy's result (``"richardson_lucy"``)
        aligned with it, then the reference aligned on its own maximum (or,
        ``"subtracted"``, the spectrum less it).
    """
    channels = [shift_spectra(normalised, shifts, length)]
    if preprocessing.reference == "richardson_lucy":
        kernel = reference[0] if len(reference) == 1 else reference
        restored = richardson_lucy_kernel(np.clip(normalised, 0, None), kernel,
                                          preprocessing.reference_iterations)
        channels.append(shift_spectra(restored, shifts, length))
    if preprocessing.reference != "none":
        own_shifts = alignment_shifts(reference, preprocessing.zlp_channel)
        aligned = np.broadcast_to(shift_spectra(reference, own_shifts, length),
                                  (len(normalised), length))
        channels.append(subtract_reference(channels[0], aligned)
                        if preprocessing.reference == "subtracted" else aligned)
    return np.stack([to_network(c, preprocessing) for c in channels], axis=-1).astype(
        np.float32)


def subtract_reference(spectra: np.ndarray, references: np.ndarray) -> np.ndarray:
    """The spectra less their references, each scaled to fit the spectrum's ZLP peak.

    The scale is the least-squares fit of the reference to the spectrum
    over the reference's core, the channels where it is at least half its
    maximum: the ZLP alone, whatever share of the spectrum's counts the
    losses hold.

    Parameters
    ----------
    spectra, references
        Arrays of the same shape (n, channels), aligned on the same channel.

    Returns
    -------
    numpy.ndarray
        Float64 array of that shape, negative where the reference exceeds
        the spectrum.
    """
    s, r = np.asarray(spectra, np.float64), np.asarray(references, np.float64)
    return s - core_fit_scale(s, r)[:, None] * r


def core_fit_scale(spectra: np.ndarray, references: np.ndarray) -> np.ndarray:
    """The least-squares scale of each reference to its spectrum over the reference's core.

    The core: the channels where the reference is at least half its
    maximum, the ZLP alone, whatever share of the spectrum's counts the
    losses hold.

    Parameters
    ----------
    spectra, references
        Arrays of the same shape (n, channels), aligned on the same channel.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape (n,).
    """
    s, r = np.asarray(spectra, np.float64), np.asarray(references, np.float64)
    core = r >= 0.5 * r.max(axis=1, keepdims=True)
    return (core * s * r).sum(1) / (core * r * r).sum(1)
