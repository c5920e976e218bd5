"""Move each spectrum's maximum onto the channel a model was trained for.

A fully convolutional network does not give alignment invariance for
free: a net trained with the ZLP at channel 400 fails on spectra whose
ZLP sits elsewhere. Inference and training therefore share these two
operations: shift every spectrum by whole channels so that its maximum
lands on the trained channel (zero-filling what is uncovered, never
wrapping around), and shift the restoration back. A vacuum reference is
laid on a spectrum's ZLP by a fraction of a channel too
(:func:`zlp_core_centre`, :func:`fractional_shift`).
"""

from __future__ import annotations

import numpy as np


def alignment_shifts(spectra: np.ndarray, target_channel: int) -> np.ndarray:
    """Whole-channel shifts that move each maximum onto ``target_channel``.

    Parameters
    ----------
    spectra
        Array of shape (n, channels).
    target_channel
        Channel the maximum should land on.

    Returns
    -------
    numpy.ndarray
        Integer shifts of shape (n,); positive moves a spectrum to
        higher channels.
    """
    return target_channel - np.argmax(spectra, axis=-1)


def shift_spectra(spectra: np.ndarray, shifts: np.ndarray, length: int) -> np.ndarray:
    """Shift each spectrum by whole channels into an array of ``length``.

    ``out[i, k] = spectra[i, k - shifts[i]]`` where that index exists, and
    zero elsewhere: nothing wraps around.

    Parameters
    ----------
    spectra
        Array of shape (n, channels).
    shifts
        Integer shifts of shape (n,).
    length
        Number of channels of the output.

    Returns
    -------
    numpy.ndarray
        Array of shape (n, length) and the dtype of ``spectra``.
    """
    n_channels = spectra.shape[-1]
    source = np.arange(length)[None, :] - np.asarray(shifts)[:, None]
    inside = (source >= 0) & (source < n_channels)
    taken = np.take_along_axis(spectra, np.clip(source, 0, n_channels - 1), axis=-1)
    return np.where(inside, taken, 0).astype(spectra.dtype, copy=False)


def required_length(
    n_channels: int, shifts: np.ndarray, minimum: int, multiple: int
) -> np.ndarray:
    """Smallest network length that holds each shifted spectrum whole.

    Parameters
    ----------
    n_channels
        Channels of the measured spectra.
    shifts
        Shifts from :func:`alignment_shifts`.
    minimum
        The smallest window the model runs in (its card's
        ``preprocessing.smallest_window``).
    multiple
        The network's length granularity, ``2**depth``.

    Returns
    -------
    numpy.ndarray
        Per-spectrum lengths, each a multiple of ``multiple`` and at least
        ``minimum``.
    """
    needed = np.maximum(n_channels + np.asarray(shifts), minimum)
    return (-(-needed // multiple) * multiple).astype(int)


def zlp_core_centre(rows: np.ndarray) -> np.ndarray:
    """Each row's ZLP centre, in channels: the centroid of its top above half maximum.

    Parameters
    ----------
    rows
        Array of shape (n, channels), each row with a positive maximum.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape (n,).
    """
    rows = np.asarray(rows, np.float64)
    top = np.clip(rows - 0.5 * rows.max(axis=1, keepdims=True), 0, None)
    return (top * np.arange(rows.shape[1])).sum(axis=1) / top.sum(axis=1)


def fractional_shift(rows: np.ndarray, shifts: np.ndarray, length: int) -> np.ndarray:
    """Rows moved by ``shifts`` channels, fractions included, into ``length`` channels.

    A phase ramp of the Fourier transform over ``length`` channels: each
    row, zero-padded to ``length``, comes back circularly shifted, so
    nothing wraps onto the channels kept when ``length`` is at least the
    row's length plus the largest shift either way.

    Parameters
    ----------
    rows
        Array of shape (n, channels).
    shifts
        Shape (n,): positive moves a row to higher channels.
    length
        Channels of the output, at least ``channels``.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape (n, length); a sharp peak moved by a
        fraction of a channel rings slightly either side.
    """
    frequencies = np.fft.rfftfreq(length)
    ramp = np.exp(-2j * np.pi * frequencies[None, :] * np.asarray(shifts, float)[:, None])
    return np.fft.irfft(np.fft.rfft(rows, length, axis=1) * ramp, length, axis=1)
