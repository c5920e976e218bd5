"""Spectra measured through real vacuum ZLP shapes, for the near-ZLP evaluation sets.

The instrument's response is a recorded vacuum ZLP (the realdata folder
beside the repository, see its README), resampled on the energy axis so
that the whole measured ZLP, the truth's quasi-Dirac ZLP (a Gaussian of
:data:`QUASI_DIRAC_FWHM` channels) through the response, has the FWHM
asked for. A truth, in counts, is convolved with the response (unit
area, centred on its maximum) and given Poisson noise. Richardson-Lucy's
kernel is a vacuum recording: the truth's ZLP alone through the same
response, with its own Poisson noise at :data:`VACUUM_DOSE` times the
spectrum's dose.

The shipped models were trained on ``ws2_25meV/vacuum_17.txt``,
``ws2_25meV/vacuum_22.txt`` and ``zlp_monochromated_10meV.csv``
(:data:`TRAINING_SHAPES`); ``ws2_25meV/vacuum_23.txt``, held out, is
the main response (:data:`MAIN_RESPONSE`), and the monochromated shape
is reported beside it so that no figure hangs on one shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.interpolate import PchipInterpolator

from hyperspy_eelspecnet.metrics import fwhm
from hyperspy_eelspecnet.restoration.richardson_lucy import convolve_psf
from hyperspy_eelspecnet.simulation.generator import load_measured_zlp

#: The realdata folder beside the repository (not installed with the package).
REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"
#: The vacuum ZLP shapes the training generator uses, relative to the realdata folder.
TRAINING_SHAPES = ("ws2_25meV/vacuum_17.txt", "ws2_25meV/vacuum_22.txt",
                   "zlp_monochromated_10meV.csv")
#: The responses of the evaluation sets: name to file in the realdata folder.
RESPONSES = {"vacuum_23": "ws2_25meV/vacuum_23.txt",
             "mono_10meV": "zlp_monochromated_10meV.csv"}
#: For a response of :data:`RESPONSES`: another recording of the same instrument in
#: the same session, minutes away (the reference a user would have). Richardson-Lucy
#: and the reference models are also given it in place of the exact recording.
SESSION_RECORDINGS = {"vacuum_23": "ws2_25meV/vacuum_22.txt"}
#: The held-out response, first in every table.
MAIN_RESPONSE = "vacuum_23"
#: FWHM, in channels, of the truth's quasi-Dirac ZLP (what ``nzeels-2048`` restores).
QUASI_DIRAC_FWHM = 3.0
#: Dose of the vacuum recording, in units of the spectrum's.
VACUUM_DOSE = 100.0
#: Channels of the recording tapered to zero at each end (a cosine ramp), so
#: that the response does not stop with a step where the recording does.
TAPER_CHANNELS = 16

_LN2 = np.log(2.0)


def check_realdata(folder: str | Path) -> Path:
    """The realdata folder, checked to hold the evaluation responses.

    Parameters
    ----------
    folder
        The folder (see :data:`REALDATA`).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError
        Naming the folder, what it lacks and how to point to one.
    """
    folder = Path(folder)
    missing = [name for name in (*RESPONSES.values(), *SESSION_RECORDINGS.values())
               if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"the near-ZLP evaluation sets need the vacuum ZLP recordings of the realdata "
            f"folder, but {folder} lacks {', '.join(missing)}. It is shared/realdata beside "
            "the repository (not installed with the package): pass the folder that holds "
            "them (eelspecnet evaluate --realdata DIR, or realdata=DIR)"
        )
    return folder


def load_response_shape(name: str, realdata: str | Path = REALDATA) -> np.ndarray:
    """A recorded vacuum ZLP of :data:`RESPONSES` (see :func:`load_recording`).

    Parameters
    ----------
    name
        A key of :data:`RESPONSES`.
    realdata
        The realdata folder.

    Returns
    -------
    numpy.ndarray
        The recording's counts, float64.
    """
    return load_recording(RESPONSES[name], check_realdata(realdata))


def load_recording(path: str, realdata: str | Path = REALDATA) -> np.ndarray:
    """A vacuum ZLP recording, its negative counts set to 0 and its ends tapered.

    Parameters
    ----------
    path
        The recording's file, relative to the realdata folder.
    realdata
        The realdata folder.

    Returns
    -------
    numpy.ndarray
        The recording's counts, float64.
    """
    shape = np.clip(load_measured_zlp(Path(realdata) / path), 0, None)
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(TAPER_CHANNELS) + 0.5) / TAPER_CHANNELS)
    shape[:TAPER_CHANNELS] *= ramp
    shape[-TAPER_CHANNELS:] *= ramp[::-1]
    return shape


def stretch(shape: np.ndarray, scale: float) -> np.ndarray:
    """Resample a recorded shape, ``scale`` of its channels to one new channel.

    Area-preserving: the new channels are differences of a monotone cubic
    (PCHIP) interpolation of the cumulative counts, so the result is
    non-negative and smooth whether the shape is squeezed or widened. The
    new channel 0 is centred on the recording's maximum channel; only new
    channels that the recording covers whole are kept.

    Parameters
    ----------
    shape
        Non-negative counts of the recording.
    scale
        Recorded channels per new channel (above 1 narrows the shape).

    Returns
    -------
    numpy.ndarray
        The resampled shape, unit sum.
    """
    offset = np.arange(len(shape) + 1) - 0.5 - int(np.argmax(shape))
    cumulative = PchipInterpolator(offset, np.concatenate([[0.0], np.cumsum(shape)]))
    first = int(np.ceil(offset[0] / scale + 0.5))
    last = int(np.floor(offset[-1] / scale - 0.5))
    values = np.clip(np.diff(cumulative((np.arange(first, last + 2) - 0.5) * scale)), 0, None)
    return values / values.sum()


def quasi_dirac(channels: np.ndarray) -> np.ndarray:
    """The truth's ZLP, maximum 1, at ``channels`` from its centre."""
    return np.exp(-4 * _LN2 * (np.asarray(channels) / QUASI_DIRAC_FWHM) ** 2)


def pseudo_voigt(energy: np.ndarray, centre, width, eta) -> np.ndarray:
    """A peak of maximum 1: ``eta`` Lorentzian, ``1 - eta`` Gaussian, FWHM ``width``.

    ``centre``, ``width`` and ``eta`` broadcast with ``energy``.
    """
    u = (np.asarray(energy) - centre) / width
    return eta / (1 + 4 * u**2) + (1 - eta) * np.exp(-4 * _LN2 * u**2)


def measured_zlp_fwhm(response: np.ndarray) -> float:
    """FWHM, in channels, of the quasi-Dirac ZLP through ``response``."""
    channels = np.arange(2 * len(response)) - len(response)
    return float(fwhm(convolve_psf(quasi_dirac(channels), response)))


def response_for(shape: np.ndarray, total_fwhm: float) -> np.ndarray:
    """The recorded shape stretched so that the measured ZLP has ``total_fwhm``.

    Parameters
    ----------
    shape
        A recording (:func:`load_response_shape`).
    total_fwhm
        FWHM, in channels, of the quasi-Dirac ZLP through the response
        (:func:`measured_zlp_fwhm`), within 0.01 %.

    Returns
    -------
    numpy.ndarray
        The response, unit sum (:func:`stretch`).

    Raises
    ------
    ValueError
        If ``total_fwhm`` is not wider than the quasi-Dirac ZLP.
    """
    if total_fwhm <= QUASI_DIRAC_FWHM:
        raise ValueError(f"a measured ZLP of {total_fwhm} channels FWHM is not wider than "
                         f"the truth's ({QUASI_DIRAC_FWHM} channels)")
    scale = float(fwhm(shape)) / total_fwhm
    for _ in range(50):  # the width falls as the scale grows: a fixed point
        response = stretch(shape, scale)
        width = measured_zlp_fwhm(response)
        if abs(width / total_fwhm - 1) < 1e-4:
            return response
        scale *= width / total_fwhm
    raise RuntimeError(f"no stretch of the shape gives a ZLP of {total_fwhm} channels FWHM")


def extended_energy(channels: int, zlp_channel: np.ndarray, dispersion: float,
                    pad: int) -> np.ndarray:
    """Energy (eV) of a window's channels and of ``pad`` more on each side.

    Parameters
    ----------
    channels
        Channels of the recorded window.
    zlp_channel
        Shape (n,): where each truth's ZLP centre sits in the window, a
        channel with a fraction.
    dispersion
        eV per channel.
    pad
        Channels added before and after the window.

    Returns
    -------
    numpy.ndarray
        Shape (n, channels + 2 pad).
    """
    grid = np.arange(-pad, channels + pad, dtype=float)
    return (grid[None, :] - np.asarray(zlp_channel, dtype=float)[:, None]) * dispersion


@dataclass
class Measurement:
    """Truths and what was measured of them, in counts, within the recorded window.

    Attributes
    ----------
    energy
        Shape (n, channels): eV from each truth's ZLP centre.
    truth
        Shape (n, channels): the truth, ZLP included.
    zlp
        Shape (n, channels): the truth's ZLP alone.
    measured
        Shape (n, pixels, channels): Poisson counts of the truth through
        the response, ``pixels`` recordings of each truth.
    vacuum
        Shape (n, channels): the vacuum recording of each truth's ZLP.
    """

    energy: np.ndarray
    truth: np.ndarray
    zlp: np.ndarray
    measured: np.ndarray
    vacuum: np.ndarray

    def reference(self, zlp_free: bool) -> np.ndarray:
        """What a restoration is compared with: the truth, less its ZLP if ``zlp_free``."""
        return self.truth - self.zlp if zlp_free else self.truth


def measure(energy: np.ndarray, zlp: np.ndarray, loss: np.ndarray, response: np.ndarray,
            pad: int, zlp_counts: np.ndarray, rng: np.random.Generator,
            pixels: int = 1) -> Measurement:
    """Put truths through the response, crop the window and count.

    Parameters
    ----------
    energy, zlp, loss
        Shape (n, channels + 2 pad) (:func:`extended_energy`): the energy
        axis, the truth's ZLP and the rest of the truth, on any scale.
    response
        The response (:func:`response_for`), at most ``pad`` channels long.
    pad
        Channels cut from each end after the convolution, so that the
        window holds what the whole spectrum sends into it.
    zlp_counts
        Shape (n,) or a scalar: counts at the measured ZLP's maximum.
    rng
        Random stream of the Poisson noise.
    pixels
        Independent recordings of each truth (a box of pixels).

    Returns
    -------
    Measurement
    """
    window = slice(pad, energy.shape[1] - pad)
    clean = np.clip(convolve_psf(zlp + loss, response)[:, window], 0, None)
    scale = np.asarray(zlp_counts, dtype=float).reshape(-1, 1) / clean.max(1, keepdims=True)
    clean_zlp = np.clip(convolve_psf(zlp, response)[:, window], 0, None)
    return Measurement(
        energy=energy[:, window], truth=(zlp + loss)[:, window] * scale,
        zlp=zlp[:, window] * scale,
        measured=rng.poisson(np.repeat((clean * scale)[:, None, :], pixels, axis=1)).astype(float),
        vacuum=rng.poisson(clean_zlp * scale * VACUUM_DOSE).astype(float),
    )
