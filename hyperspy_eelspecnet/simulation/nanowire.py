"""Synthetic near-zero-loss EELS spectrum image of a silver nanowire.

It imitates the experimental case of Mousavi et al., Sci. Rep. 12, 17462
(2022): a silver nanowire on a 30 nm SiN membrane, scanned with an 80 keV
monochromated probe of 45 meV resolution in vacuum.

What is physical
----------------
* Surface-plasmon modes SP1..SP4 of a wire antenna (0.6, 1.05, 1.45 and
  1.8 eV, Lorentzian line shapes of 0.12 to 0.2 eV FWHM). Mode ``n`` is a
  standing wave of charge along the wire: its loss probability follows
  ``cos(n pi s / L)**2`` (``s`` the distance from a tip, ``L`` the length),
  so it has ``n`` nodes and ``n + 1`` maxima, two of them at the tips; the
  dipole mode SP1 is strongest at the tips.
* Outside the wire the plasmon signal decays as ``exp(-d / lambda_n)`` with
  the distance ``d`` from the surface and the aloof decay length
  ``lambda_n = hbar v / (2 E_n)`` of an electron of speed ``v`` (80 keV),
  so that high modes are more confined. It is strongest at the wire edges.
* A SiN optical phonon at 0.1 eV (30 meV FWHM) everywhere on the membrane.
* A coupled phonon-plasmon state "C" at 0.16 eV where the phonon meets the
  SP1 field near the tips: there part of the phonon's weight moves to C.
* A quasi-Dirac zero-loss peak (Gaussian, FWHM 3 channels) of height 1,
  with loss features 1/350 to 1/1500 of it at their strongest (the paper's
  training range is 1/300 to 1/4000): the ZLP dominates the integral.
* Fewer electrons reach the spectrometer through the wire (transmission
  0.6) than through the membrane.
* The distortions of the paper's generator, per pixel: energy jitter (25
  copies shifted by up to +-``jitter``), a Lorentzian optical transfer
  function of FWHM ``resolution``, and detection: Poisson counting noise
  plus Gaussian read noise, digitised to whole counts (which can be
  negative where the signal is a few counts, as after dark subtraction).

What is simplified
------------------
* Line shapes are plain Lorentzians that extend below 0 eV, as in the
  paper's training data; no energy-gain peaks, no bulk or interband losses
  of silver, no SiN absorption onset, no substrate-induced mode shifts.
* The wire is a capsule (a rod with rounded ends) in projection; the beam
  inside it is treated like an aloof beam at the surface, at half strength.
* Mode energies and widths are set, not computed from the wire's size.
* The radial decay is an exponential, not the modified-Bessel profile.
* Coupling is a transfer of weight, not a fitted two-oscillator model.
* The detector has a flat gain and no dark current, pedestal or
  saturation.

The truth is deterministic; ``seed`` draws only the jitter and the noise.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from exspy.signals import EELSSpectrum
from scipy import fft

from hyperspy_eelspecnet.restoration.convolution import fft_convolve

__all__ = ["nanowire_spectrum_image"]

BEAM_ENERGY_KEV = 80.0
WIRE_LENGTH_NM = 1200.0
WIRE_RADIUS_NM = 45.0
WIRE_SPAN = 0.8  # fraction of the long scan direction the wire covers
WIRE_TRANSMISSION = 0.6
INSIDE_WIRE_PLASMON = 0.5
PHONON_TO_COUPLED = 0.8  # fraction of phonon weight moved to C at SP1's maxima
JITTER_COPIES = 25
READ_NOISE_COUNTS = 2.0
ELECTRON_REST_ENERGY_KEV = 510.999
HBAR_C_EV_NM = 197.327


class Peak(NamedTuple):
    """A Lorentzian loss peak; ``height`` is relative to the ZLP maximum."""

    energy: float
    fwhm: float
    height: float


SURFACE_PLASMONS = (
    Peak(0.60, 0.12, 1 / 350),
    Peak(1.05, 0.15, 1 / 600),
    Peak(1.45, 0.17, 1 / 1000),
    Peak(1.80, 0.20, 1 / 1500),
)
PHONON = Peak(0.10, 0.03, 1 / 1200)
COUPLED = Peak(0.16, 0.04, 1 / 1200)


def _lorentzian(x: np.ndarray, centre: float, fwhm: float) -> np.ndarray:
    """Lorentzian of height 1 at ``centre``."""
    return 1.0 / (1.0 + ((x - centre) / (fwhm / 2)) ** 2)


def _pixel_size(navigation_shape: tuple[int, int]) -> float:
    """Pixel size (nm) that makes the wire span ``WIRE_SPAN`` of the scan."""
    return WIRE_LENGTH_NM / (WIRE_SPAN * navigation_shape[1])


def _wire_coordinates(
    navigation_shape: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Distance from the wire surface and position along it, per pixel (nm).

    The wire lies along x, centred in the scan. Distances are negative
    inside the wire; positions run from 0 at one tip to the wire length at
    the other and are clipped there beyond the tips.
    """
    ny, nx = navigation_shape
    pixel = _pixel_size(navigation_shape)
    y = (np.arange(ny) - (ny - 1) / 2)[:, None] * pixel
    x = (np.arange(nx) - (nx - 1) / 2)[None, :] * pixel
    half_rod = WIRE_LENGTH_NM / 2 - WIRE_RADIUS_NM
    from_axis = np.hypot(np.maximum(np.abs(x) - half_rod, 0.0), y)
    along = np.clip(x + WIRE_LENGTH_NM / 2, 0.0, WIRE_LENGTH_NM)
    return from_axis - WIRE_RADIUS_NM, np.broadcast_to(along, (ny, nx))


def _decay_length_nm(energy_ev: float) -> float:
    """Aloof decay length ``hbar v / (2 E)`` of the loss probability."""
    gamma = 1.0 + BEAM_ENERGY_KEV / ELECTRON_REST_ENERGY_KEV
    beta = np.sqrt(1.0 - gamma**-2)
    return HBAR_C_EV_NM * beta / (2.0 * energy_ev)


def _plasmon_maps(navigation_shape: tuple[int, int]) -> np.ndarray:
    """Relative strength (max 1) of SP1..SP4 per pixel, shape (ny, nx, 4)."""
    distance, along = _wire_coordinates(navigation_shape)
    maps = []
    for order, peak in enumerate(SURFACE_PLASMONS, start=1):
        radial = np.where(
            distance < 0,
            INSIDE_WIRE_PLASMON,
            np.exp(-np.maximum(distance, 0.0) / _decay_length_nm(peak.energy)),
        )
        maps.append(np.cos(order * np.pi * along / WIRE_LENGTH_NM) ** 2 * radial)
    return np.stack(maps, axis=-1)


def _truth_shapes(navigation_shape: tuple[int, int], energy: np.ndarray) -> np.ndarray:
    """Undistorted spectra with a ZLP of height 1, shape (ny, nx, channels)."""
    dispersion = energy[1] - energy[0]
    zlp_sigma = 3 * dispersion / (2 * np.sqrt(2 * np.log(2)))
    zlp = np.exp(-0.5 * (energy / zlp_sigma) ** 2)
    plasmons = _plasmon_maps(navigation_shape)
    coupled = PHONON_TO_COUPLED * plasmons[..., :1]
    heights = np.concatenate(
        [
            plasmons * [p.height for p in SURFACE_PLASMONS],
            PHONON.height * (1 - coupled),
            COUPLED.height * coupled,
        ],
        axis=-1,
    )
    peaks = (*SURFACE_PLASMONS, PHONON, COUPLED)
    shapes = np.stack([_lorentzian(energy, p.energy, p.fwhm) for p in peaks])
    return zlp + heights @ shapes


def _transmission(navigation_shape: tuple[int, int]) -> np.ndarray:
    """Fraction of the dose reaching the spectrometer, per pixel."""
    distance, _ = _wire_coordinates(navigation_shape)
    return np.where(distance < 0, WIRE_TRANSMISSION, 1.0)


def _jitter_kernels(
    rng: np.random.Generator, n_spectra: int, jitter_channels: float
) -> np.ndarray:
    """Per-spectrum sums of shifted deltas, shape (n_spectra, 2 K + 2).

    ``JITTER_COPIES`` copies, the first unshifted, the others shifted by a
    uniform draw in +-``jitter_channels``, each spread over its two nearest
    channels (linear interpolation). Index ``K`` is zero shift.
    """
    half = int(np.ceil(jitter_channels))
    width = 2 * half + 2
    shifts = rng.uniform(-jitter_channels, jitter_channels, (n_spectra, JITTER_COPIES))
    shifts[:, 0] = 0.0
    low = np.floor(shifts)
    upper_weight = shifts - low
    rows = np.arange(n_spectra)[:, None] * width
    index = (rows + low.astype(int) + half).ravel()
    weights = np.concatenate([(1 - upper_weight).ravel(), upper_weight.ravel()])
    kernels = np.bincount(
        np.concatenate([index, index + 1]), weights, minlength=n_spectra * width
    )
    return kernels.reshape(n_spectra, width) / JITTER_COPIES


def _distort(
    spectra: np.ndarray,
    rng: np.random.Generator,
    jitter_channels: float,
    resolution_channels: float,
) -> np.ndarray:
    """Jitter then blur each spectrum; returns unit-integral spectra.

    Linear ("same") convolution, through one zero-padded FFT, with the
    per-spectrum jitter kernel and a Lorentzian optical transfer function of
    FWHM ``resolution_channels`` sampled over +-(channels - 1).
    """
    channels = spectra.shape[-1]
    jitter = _jitter_kernels(rng, spectra.shape[0], jitter_channels)
    offsets = np.arange(-(channels - 1), channels)
    otf = _lorentzian(offsets, 0.0, resolution_channels)
    otf /= otf.sum()
    size = fft.next_fast_len(channels + jitter.shape[1] + otf.size - 2, real=True)
    transfer = fft.rfft(jitter, size) * fft.rfft(otf, size)
    start = (jitter.shape[1] - 2) // 2 + channels - 1
    blurred = fft_convolve(spectra, transfer, size, start)
    blurred = np.clip(blurred, 0.0, None)
    return blurred / blurred.sum(axis=-1, keepdims=True)


def _detect(expected: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Poisson counts plus Gaussian read noise, digitised to whole counts."""
    counts = rng.poisson(expected) + rng.normal(0.0, READ_NOISE_COUNTS, expected.shape)
    return np.rint(counts).astype(np.float32)


def _spectrum_image(
    data: np.ndarray, pixel: float, dispersion: float, zlp_channel: int, title: str
) -> EELSSpectrum:
    """Wrap (ny, nx, channels) data as a calibrated EELS spectrum image."""
    ny, nx, channels = data.shape
    axes = [
        {"name": "y", "size": ny, "scale": pixel, "offset": 0.0, "units": "nm"},
        {"name": "x", "size": nx, "scale": pixel, "offset": 0.0, "units": "nm"},
        {
            "name": "Energy loss",
            "size": channels,
            "scale": dispersion,
            "offset": -zlp_channel * dispersion,
            "units": "eV",
        },
    ]
    metadata = {
        "General": {"title": title},
        "Signal": {"signal_type": "EELS"},
        "Acquisition_instrument": {"TEM": {"beam_energy": BEAM_ENERGY_KEV}},
    }
    return EELSSpectrum(data, axes=axes, metadata=metadata)


def nanowire_spectrum_image(
    navigation_shape: tuple[int, int] = (24, 48),
    channels: int = 1024,
    dispersion: float = 0.005,
    zlp_channel: int = 100,
    resolution: float = 0.045,
    jitter: float = 0.05,
    dose: float = 5e5,
    seed: int | None = 0,
) -> tuple[EELSSpectrum, EELSSpectrum]:
    """Simulate a near-zero-loss EELS spectrum image of a silver nanowire.

    The wire (1.2 um long, 90 nm wide) lies along x, the long scan
    direction, centred and covering 80 % of it, on a SiN membrane that
    covers the whole scan. See the module notes for the physics.

    Parameters
    ----------
    navigation_shape
        ``(ny, nx)`` pixels; the pixel size follows from ``nx``.
    channels
        Number of energy channels.
    dispersion
        Energy per channel (eV).
    zlp_channel
        Channel of 0 eV: the energy axis offset is
        ``-zlp_channel * dispersion``.
    resolution
        FWHM (eV) of the Lorentzian optical transfer function.
    jitter
        Largest energy shift (eV) of the 25 jittered copies per pixel. The
        default (the paper's training value) widens the measured ZLP to
        about 0.11 eV FWHM; ``jitter=0`` leaves ``resolution`` alone.
    dose
        Expected counts per pixel on the membrane (the wire transmits 0.6
        of it). The default gives a measured ZLP maximum of about 2e4.
    seed
        Seed of the jitter and noise draws.

    Returns
    -------
    measured, truth
        :class:`exspy.signals.EELSSpectrum` of shape
        ``(ny, nx | channels)``, float32 counts (measured: jittered,
        blurred, noisy, whole counts) and float64 expected counts (truth:
        undistorted spectra scaled to the same expected total per pixel).
    """
    energy = (np.arange(channels) - zlp_channel) * dispersion
    shapes = _truth_shapes(navigation_shape, energy).reshape(-1, channels)
    totals = dose * _transmission(navigation_shape).reshape(-1, 1)
    rng = np.random.default_rng(seed)
    blurred = _distort(shapes, rng, jitter / dispersion, resolution / dispersion)
    expected = totals * blurred
    truth = totals * shapes / shapes.sum(axis=-1, keepdims=True)
    pixel = _pixel_size(navigation_shape)
    shape = (*navigation_shape, channels)
    return (
        _spectrum_image(
            _detect(expected, rng).reshape(shape),
            pixel,
            dispersion,
            zlp_channel,
            "Silver nanowire (synthetic): measured",
        ),
        _spectrum_image(
            truth.reshape(shape),
            pixel,
            dispersion,
            zlp_channel,
            "Silver nanowire (synthetic): truth",
        ),
    )
