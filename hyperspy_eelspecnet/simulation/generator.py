"""Generated training spectra: the paper's generalized learning, widened.

A ground truth (quasi-Dirac ZLP, Lorentzian peaks, optional continua) is
put through the three distortions of a near-zero-loss measurement: energy
jitter during the exposure (a sum of shifted copies), the instrument's
optical transfer function (OTF) and detector noise. Everything is drawn
per spectrum from the ranges of a :class:`~.config.GeneratorConfig` and
computed for whole batches at once with numpy; there is no Python loop
over channels or spectra.

Spectra are returned in the measurement frame (the ZLP where it was
drawn), each normalised to unit integral. Aligning them for a network is
the job of :mod:`hyperspy_eelspecnet.inference.alignment`, shared with inference.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.fft
import scipy.sparse

from hyperspy_eelspecnet.metrics import fwhm
from hyperspy_eelspecnet.restoration.convolution import fft_convolve
from hyperspy_eelspecnet.simulation.config import GeneratorConfig

_LN2 = np.log(2.0)
_CHUNK = 512


@dataclass
class GeneratedSet:
    """A batch of generated spectra, each of shape (n, channels), float32.

    Attributes
    ----------
    distorted
        The measured spectra: jitter, OTF, noise; unit integral.
    target
        What the network must return: the truth (``quasi_dirac``) or the
        truth without its ZLP (``zlp_free``), on the scale of the truth's
        unit integral.
    truth
        Undistorted spectra with their ZLP, unit integral.
    clean
        The distorted spectra before noise (jitter and OTF only), unit
        integral: ``distorted - clean`` is the noise that was added.
    psf
        The ZLP alone through the same jitter, OTF and noise (the kernel
        the paper gives Richardson-Lucy), unit integral; None unless asked.
    params
        Per-spectrum draws: ``zlp_centre``, ``otf_fwhm``, ``noise`` (the
        Gaussian amplitude, or NaN for Poisson), ``zlp_counts`` (NaN for
        Gaussian), ``n_valid`` (channels kept).
    """

    distorted: np.ndarray
    target: np.ndarray
    truth: np.ndarray
    clean: np.ndarray
    psf: np.ndarray | None
    params: dict[str, np.ndarray]


def load_measured_zlp(path: str | Path) -> np.ndarray:
    """Read a vacuum ZLP recording as a 1D array of counts.

    Accepts a single line or column of numbers, or a two-column
    (energy, intensity) table with or without a header.
    """
    text = Path(path).read_text().replace(",", " ").splitlines()
    rows = [line.split() for line in text if line.strip()]
    if rows and not _is_number(rows[0][0]):
        rows = rows[1:]
    values = np.array([[float(v) for v in row] for row in rows])
    if values.ndim == 2 and values.shape[0] == 1:
        return values[0]
    return values[:, -1] if values.ndim == 2 else values


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def _prepare_shape(counts: np.ndarray, source: str | Path) -> tuple[np.ndarray, int, float]:
    """Clip, normalise and measure one recorded ZLP shape (read from ``source``)."""
    shape = np.clip(counts, 0, None)
    shape = np.where(shape >= 1e-5 * shape.max(), shape, 0.0)
    width = float(fwhm(shape))
    if not np.isfinite(width):
        raise ValueError(
            f"the ZLP recorded in {source} does not fall to half its maximum on both "
            "sides of its peak: record the whole ZLP, its tails included"
        )
    return shape / shape.max(), int(np.argmax(shape)), width


class SpectrumGenerator:
    """Draws (distorted, target) pairs from a :class:`GeneratorConfig`.

    Parameters
    ----------
    config
        The ranges to draw from.
    seed
        Seed of the generator's random stream: the same seed gives the same
        spectra, call after call.

    Examples
    --------
    >>> from hyperspy_eelspecnet.simulation import GeneratorConfig, SpectrumGenerator
    >>> gen = SpectrumGenerator(GeneratorConfig(), seed=1)
    >>> batch = gen.generate(16)
    >>> batch.distorted.shape
    (16, 2048)
    """

    def __init__(self, config: GeneratorConfig, seed: int = 0):
        self.config = config
        self.rng = np.random.default_rng(seed)
        self._measured = [
            _prepare_shape(load_measured_zlp(p), p) for p in config.measured_zlp_files
        ]

    def generate(self, n: int, with_psf: bool = False) -> GeneratedSet:
        """Draw ``n`` spectra.

        Parameters
        ----------
        n
            Number of spectra.
        with_psf
            Also return the ZLP alone through the same distortions.

        Returns
        -------
        GeneratedSet
        """
        parts = [
            self._generate_chunk(min(_CHUNK, n - start), with_psf)
            for start in range(0, n, _CHUNK)
        ]
        return GeneratedSet(
            distorted=np.concatenate([p.distorted for p in parts]),
            target=np.concatenate([p.target for p in parts]),
            truth=np.concatenate([p.truth for p in parts]),
            clean=np.concatenate([p.clean for p in parts]),
            psf=np.concatenate([p.psf for p in parts]) if with_psf else None,
            params={
                k: np.concatenate([p.params[k] for p in parts])
                for k in parts[0].params
            },
        )

    # -- one chunk -----------------------------------------------------
    def _generate_chunk(self, n: int, with_psf: bool) -> GeneratedSet:
        cfg, rng = self.config, self.rng
        x = np.arange(cfg.channels, dtype=float)
        if cfg.zlp_channel_range is None:
            base = np.full(n, float(cfg.zlp_channel))
        else:
            base = rng.integers(
                int(cfg.zlp_channel_range[0]), int(cfg.zlp_channel_range[1]) + 1, n
            ).astype(float)
        centre = base + rng.uniform(-0.5, 0.5, n)
        energy = x[None, :] - centre[:, None]

        zlp = np.exp(-4 * _LN2 * (energy / cfg.zlp_fwhm_channels) ** 2)
        loss = self._peaks(energy) + self._near_zlp_peaks(energy) + self._continua(energy)
        truth = zlp + loss

        otf_fwhm = rng.uniform(*cfg.otf_fwhm_channels, n)
        kernel_f = self._kernel_spectrum(otf_fwhm)
        distorted = self._convolve(truth, kernel_f)
        psf = self._convolve(zlp, kernel_f) if with_psf else None

        n_valid = self._valid_lengths(n)
        valid = x[None, :] < n_valid[:, None]
        clean = _unit_integral(distorted * valid)
        distorted, noise, counts = self._add_noise(distorted, valid)
        if psf is not None:
            psf = self._add_noise(psf, np.ones_like(valid))[0]

        truth = truth * valid
        total = truth.sum(axis=1, keepdims=True)
        target = truth if cfg.target == "quasi_dirac" else loss * valid
        params = {
            "zlp_centre": centre,
            "otf_fwhm": otf_fwhm,
            "noise": noise,
            "zlp_counts": counts,
            "n_valid": n_valid,
        }
        return GeneratedSet(
            distorted=_unit_integral(distorted),
            target=(target / total).astype(np.float32),
            truth=(truth / total).astype(np.float32),
            clean=clean,
            psf=None if psf is None else _unit_integral(psf),
            params=params,
        )

    def _valid_lengths(self, n: int) -> np.ndarray:
        cfg = self.config
        if cfg.min_channels is None:
            return np.full(n, cfg.channels)
        return self.rng.integers(cfg.min_channels, cfg.channels + 1, n)

    def _peaks(self, energy: np.ndarray) -> np.ndarray:
        """Sum of 0..n Lorentzians placed from 0 eV to the last channel."""
        cfg, rng = self.config, self.rng
        n, channels = energy.shape
        k_max = cfg.n_peaks[1]
        if k_max == 0:
            return np.zeros_like(energy)
        count = rng.integers(cfg.n_peaks[0], k_max + 1, n)
        zero_channel = np.ceil(-energy[:, 0])
        span = channels - 1 - zero_channel[:, None]
        position = np.floor(rng.uniform(0, 1, (n, k_max)) * span) + zero_channel[:, None]
        width = rng.uniform(*cfg.peak_fwhm_ev, (n, k_max)) / cfg.dispersion
        height = 1.0 / rng.uniform(*cfg.peak_ratio, (n, k_max))
        return _lorentzian_sum(channels, count, position, width, height)

    def _near_zlp_peaks(self, energy: np.ndarray) -> np.ndarray:
        """Narrow Lorentzians a short distance past the ZLP (:class:`NearZlpPeaks`)."""
        near, rng = self.config.near_zlp_peaks, self.rng
        n, channels = energy.shape
        if near.probability <= 0:
            return np.zeros_like(energy)
        k_max = near.count[1]
        count = rng.integers(near.count[0], k_max + 1, n)
        count *= rng.uniform(0, 1, n) < near.probability
        dispersion = self.config.dispersion
        position = -energy[:, :1] + rng.uniform(*near.distance_ev, (n, k_max)) / dispersion
        width = rng.uniform(*near.fwhm_ev, (n, k_max)) / dispersion
        height = 1.0 / rng.uniform(*near.ratio, (n, k_max))
        return _lorentzian_sum(channels, count, position, width, height)

    def _continua(self, energy: np.ndarray) -> np.ndarray:
        """Tails, backgrounds, onsets and Drude plasmons on the loss side."""
        c, rng = self.config.continua, self.rng
        n = energy.shape[0]
        onset = 0.5 * (1 + np.tanh(energy / 2.0))
        e_pos = np.clip(energy, 0, None)
        total = np.zeros_like(energy)

        def draw(probability: float, shape: np.ndarray) -> None:
            if probability <= 0:
                return
            on = rng.uniform(0, 1, n) < probability
            height = np.exp(rng.uniform(*np.log(c.height_fraction), n))
            total[:] += (on * height)[:, None] * shape

        def u(bounds, log=False):
            if log:
                return np.exp(rng.uniform(*np.log(bounds), n))[:, None]
            return rng.uniform(*bounds, n)[:, None]

        if c.tail_probability > 0:
            shape = (1 + e_pos / u(c.tail_scale_channels, True)) ** -u(c.tail_power)
            draw(c.tail_probability, shape * onset)
        if c.exponential_probability > 0:
            draw(c.exponential_probability,
                 np.exp(-e_pos / u(c.exponential_decay_channels, True)) * onset)
        if c.background_probability > 0:
            mu = rng.uniform(0, 1, n)[:, None] * energy[:, -1:]
            sigma = u(c.background_width_channels) / 2.355
            draw(c.background_probability,
                 np.exp(-0.5 * ((energy - mu) / sigma) ** 2) * onset)
        if c.onset_probability > 0:
            exponent = u(c.onset_exponent)
            scaled = np.clip(
                (energy - u(c.onset_energy_channels, True))
                / u(c.onset_decay_channels, True), 0, None)
            shape = scaled**exponent * np.exp(exponent - scaled) / exponent**exponent
            draw(c.onset_probability, shape)
        if c.drude_probability > 0:
            ep, gamma = u(c.drude_energy_channels, True), u(c.drude_width_channels, True)
            shape = e_pos * gamma * ep**2 / ((e_pos**2 - ep**2) ** 2 + (e_pos * gamma) ** 2)
            draw(c.drude_probability, shape / shape.max(axis=1, keepdims=True))
        return total

    # -- distortions ---------------------------------------------------
    def _fft_size(self) -> int:
        return 2 * self.config.channels

    def _kernel_spectrum(self, otf_fwhm: np.ndarray) -> np.ndarray:
        """rFFT of OTF convolved with the jitter kernel, per spectrum."""
        size = self._fft_size()
        grid = np.arange(size, dtype=float)
        grid[grid >= size // 2] -= size
        otf = self._otf(grid, otf_fwhm)
        otf /= otf.sum(axis=1, keepdims=True)
        return scipy.fft.rfft(otf, axis=1) * scipy.fft.rfft(
            self._jitter(len(otf_fwhm), size), axis=1
        )

    def _convolve(self, spectra: np.ndarray, kernel_f: np.ndarray) -> np.ndarray:
        """Convolve with a kernel given by its rFFT at `_fft_size` (twice the channels)."""
        return fft_convolve(spectra, kernel_f, self._fft_size())

    def _jitter(self, n: int, size: int) -> np.ndarray:
        """Sum of shifted deltas (linear interpolation), unit sum."""
        cfg = self.config
        if cfg.jitter_ev_range is None:
            amplitude = np.full((n, 1), cfg.jitter_ev)
        else:
            amplitude = self.rng.uniform(*cfg.jitter_ev_range, (n, 1))
        shifts = self.rng.uniform(-1, 1, (n, cfg.jitter_copies)) * (
            amplitude / cfg.dispersion
        )
        shifts[:, 0] = 0.0
        if cfg.jitter_centred:
            shifts -= shifts.mean(axis=1, keepdims=True)
        low = np.floor(shifts)
        frac = shifts - low
        kernel = np.zeros((n, size))
        rows = np.repeat(np.arange(n), cfg.jitter_copies)
        low = low.ravel().astype(int)
        np.add.at(kernel, (rows, low % size), (1 - frac).ravel())
        np.add.at(kernel, (rows, (low + 1) % size), frac.ravel())
        return kernel / cfg.jitter_copies

    def _otf(self, grid: np.ndarray, fwhm: np.ndarray) -> np.ndarray:
        """OTF of the drawn shape and FWHM (channels), maximum at 0."""
        weights = np.array(list(self.config.otf_shapes.model_dump().values()))
        kind = self.rng.choice(len(weights), size=len(fwhm), p=weights / weights.sum())
        out = np.empty((len(fwhm), len(grid)))
        builders = (self._lorentzian, self._gaussian, self._voigt, self._pearson7,
                    self._asymmetric, self._measured_shape)
        for index, build in enumerate(builders):
            rows = kind == index
            if rows.any():
                out[rows] = build(grid[None, :] / fwhm[rows, None])
        return out

    @staticmethod
    def _lorentzian(u: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + 4 * u**2)

    @staticmethod
    def _gaussian(u: np.ndarray) -> np.ndarray:
        return np.exp(-4 * _LN2 * u**2)

    def _voigt(self, u: np.ndarray) -> np.ndarray:
        """Pseudo-Voigt: Lorentzian fraction drawn in [0, 1], same FWHM."""
        eta = self.rng.uniform(0, 1, (len(u), 1))
        return eta * self._lorentzian(u) + (1 - eta) * self._gaussian(u)

    def _pearson7(self, u: np.ndarray) -> np.ndarray:
        """Pearson VII with exponent m in [1, 10] (1 is a Lorentzian)."""
        m = self.rng.uniform(1, 10, (len(u), 1))
        return (1 + 4 * u**2 * (2 ** (1 / m) - 1)) ** -m

    def _asymmetric(self, u: np.ndarray) -> np.ndarray:
        """Split pseudo-Voigt, the loss side up to 2.5 times wider."""
        ratio = self.rng.uniform(1, 2.5, (len(u), 1))
        scaled = np.where(u < 0, u * (1 + ratio) / 2, u * (1 + ratio) / (2 * ratio))
        return self._voigt(scaled)

    def _measured_shape(self, u: np.ndarray) -> np.ndarray:
        """A recorded vacuum ZLP stretched to the drawn FWHM."""
        pick = self.rng.integers(0, len(self._measured), len(u))
        out = np.zeros_like(u)
        for index, (shape, centre, width) in enumerate(self._measured):
            rows = pick == index
            position = u[rows] * width + centre
            out[rows] = np.interp(position, np.arange(len(shape)), shape,
                                  left=0.0, right=0.0)
        return out

    def _add_noise(self, spectra: np.ndarray, valid: np.ndarray):
        """Gaussian (paper) or Poisson (optionally spread) plus read noise, and gain.

        Channels outside ``valid`` (a truncated spectrum) stay exactly zero.
        """
        cfg, rng = self.config, self.rng
        n, channels = spectra.shape
        spectra = spectra * valid
        spectra = spectra / spectra.sum(axis=1, keepdims=True)
        if cfg.gain_amplitude > 0:
            spectra = spectra * self._gain(n, channels)
        peak = spectra.max(axis=1, keepdims=True)
        amplitude = rng.uniform(*cfg.gaussian_noise, n)
        dark = rng.uniform(*cfg.dark_mean, n)
        gaussian = spectra + peak * (
            amplitude[:, None] * rng.standard_normal(spectra.shape)
        ) + dark[:, None]
        poisson_rows = rng.uniform(0, 1, n) < cfg.poisson_probability
        counts = np.exp(rng.uniform(*np.log(cfg.poisson_zlp_counts), n))
        counts = np.where(poisson_rows, counts, np.nan)
        if poisson_rows.any():
            scale = counts[poisson_rows, None] / peak[poisson_rows]
            expected = np.clip(spectra[poisson_rows] * scale, 0, None)
            read = rng.uniform(*cfg.read_noise_counts, poisson_rows.sum())[:, None]
            counted = rng.poisson(expected).astype(float)
            if cfg.detector_blur_channels is not None:
                counted = self._detector_blur(counted)
            noisy = counted + read * rng.standard_normal(expected.shape)
            gaussian[poisson_rows] = noisy / scale
        amplitude = np.where(poisson_rows, np.nan, amplitude)
        return gaussian * valid, amplitude, counts

    def _detector_blur(self, counted: np.ndarray) -> np.ndarray:
        """Each spectrum through a Gaussian detector point spread (counts kept).

        The standard deviation is drawn per spectrum from
        ``detector_blur_channels``; the convolution is zero-padded, so no
        counts wrap from one end of the spectrum to the other.
        """
        sigma = self.rng.uniform(*self.config.detector_blur_channels, len(counted))
        size = self._fft_size()
        frequency = scipy.fft.rfftfreq(size)
        kernel_f = np.exp(-2 * (np.pi * sigma[:, None] * frequency[None, :]) ** 2)
        return self._convolve(counted, kernel_f)

    def _gain(self, n: int, channels: int) -> np.ndarray:
        """A slowly varying detector gain, 1 +- gain_amplitude."""
        rng = self.rng
        x = np.linspace(0, 1, channels)[None, None, :]
        cycles = rng.uniform(0.3, 3, (n, 3, 1))
        phase = rng.uniform(0, 2 * np.pi, (n, 3, 1))
        wave = np.cos(2 * np.pi * cycles * x + phase).sum(axis=1)
        wave /= np.abs(wave).max(axis=1, keepdims=True)
        return 1 + self.config.gain_amplitude * rng.uniform(0, 1, (n, 1)) * wave


def _lorentzian_sum(channels: int, count: np.ndarray, position: np.ndarray,
                    width: np.ndarray, height: np.ndarray) -> np.ndarray:
    """Per spectrum, the sum of its first ``count`` Lorentzians.

    ``position``, ``width`` (FWHM) and ``height`` are (n, k) arrays in
    channels; only the drawn peaks are evaluated, in place and in float32.
    """
    n, k_max = position.shape
    active = np.arange(k_max)[None, :] < count[:, None]
    rows = np.nonzero(active)[0]
    profile = np.arange(channels, dtype=np.float32)[None, :] - position[
        active
    ].astype(np.float32)[:, None]
    profile *= (2.0 / width[active]).astype(np.float32)[:, None]
    np.square(profile, out=profile)
    profile += 1.0
    np.reciprocal(profile, out=profile)
    weights = scipy.sparse.csr_matrix(
        (height[active], (rows, np.arange(len(rows)))), shape=(n, len(rows))
    )
    return np.asarray(weights @ profile, dtype=float)


def _unit_integral(spectra: np.ndarray) -> np.ndarray:
    return (spectra / spectra.sum(axis=1, keepdims=True)).astype(np.float32)
