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
import scipy.ndimage
import scipy.sparse

from hyperspy_eelspecnet.metrics import fwhm
from hyperspy_eelspecnet.restoration.convolution import fft_convolve
from hyperspy_eelspecnet.simulation.config import GeneratorConfig

_LN2 = np.log(2.0)
#: Boltzmann's constant, eV per kelvin.
BOLTZMANN_EV = 8.617333262e-5
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
    reference
        A mismatched vacuum recording with its own counting noise
        (:class:`~.config.ReferenceConfig`), unit integral, in the same
        channels as the spectrum but never cropped; None unless the
        configuration draws one.
    params
        Per-spectrum draws: ``zlp_centre``, ``otf_fwhm``, ``zlp_fwhm``
        (the measured ZLP's), ``noise`` (the Gaussian amplitude, or NaN for
        Poisson), ``zlp_counts`` (NaN for Gaussian), ``first_channel`` and
        ``n_valid`` (the channels kept), ``bare`` (the ZLP alone), and
        those of the near-ZLP peaks and the reference.
    """

    distorted: np.ndarray
    target: np.ndarray
    truth: np.ndarray
    clean: np.ndarray
    psf: np.ndarray | None
    params: dict[str, np.ndarray]
    reference: np.ndarray | None = None


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
            reference=(None if self.config.reference is None
                       else np.concatenate([p.reference for p in parts])),
            params={
                k: np.concatenate([p.params[k] for p in parts])
                for k in parts[0].params
            },
        )

    def distort(self, spectra: np.ndarray) -> np.ndarray:
        """Put given spectra through the configured jitter and OTF.

        For each spectrum an OTF width, shape and jitter are drawn from the
        config, as :meth:`generate` draws them, and the spectrum is
        convolved with their kernel (the OTF's maximum at zero shift, the
        jitter copies shifted about it as in :meth:`generate`); no noise is
        added. The draws depend on the number of spectra only, so two
        generators of the same seed give the same kernels to spectra of the
        same count.

        Parameters
        ----------
        spectra
            Array of shape (n, channels), ``channels`` that of the config.

        Returns
        -------
        numpy.ndarray
            The distorted spectra, float64, shape (n, channels): the linear
            convolution, its counts kept except what the kernel's tails push
            past either end.

        Raises
        ------
        ValueError
            If ``spectra`` is not (n, channels).
        """
        spectra = np.asarray(spectra, dtype=float)
        if spectra.ndim != 2 or spectra.shape[1] != self.config.channels:
            raise ValueError(f"spectra must have shape (n, {self.config.channels}), "
                             f"got {spectra.shape}")
        return self._convolve(spectra, self._kernel_spectrum(self._otf_widths(len(spectra))))

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
        loss = self._peaks(energy) + self._continua(energy)

        otf_fwhm = self._otf_widths(n)
        kernel_f = self._kernel_spectrum(otf_fwhm)
        measured_zlp = self._convolve(zlp, kernel_f)
        zlp_fwhm = fwhm(measured_zlp)
        near_loss, near_params = self._near_zlp_peaks(energy, zlp_fwhm)
        loss = loss + near_loss
        bare = np.zeros(n, dtype=bool)
        if cfg.bare_probability > 0:
            bare = rng.uniform(0, 1, n) < cfg.bare_probability
            loss[bare] = 0.0
        truth = zlp + loss
        distorted = self._convolve(truth, kernel_f)

        first, n_valid = self._kept_channels(distorted, n)
        valid = (x[None, :] >= first[:, None]) & (x[None, :] < n_valid[:, None])
        clean = _unit_integral(distorted * valid)
        distorted, noise, counts = self._add_noise(distorted, valid)
        psf = None
        if with_psf:
            psf = self._add_noise(measured_zlp, np.ones_like(valid))[0]

        reference, reference_params = None, {}
        if cfg.reference is not None:
            reference, reference_params = self._reference(zlp, measured_zlp, centre, counts)

        truth = truth * valid
        total = truth.sum(axis=1, keepdims=True)
        target = truth if cfg.target == "quasi_dirac" else loss * valid
        params = {
            "zlp_centre": centre,
            "otf_fwhm": otf_fwhm,
            "zlp_fwhm": zlp_fwhm,
            "noise": noise,
            "zlp_counts": counts,
            "first_channel": first,
            "n_valid": n_valid,
            "bare": bare,
            **near_params,
            **reference_params,
        }
        return GeneratedSet(
            distorted=_unit_integral(distorted),
            target=(target / total).astype(np.float32),
            truth=(truth / total).astype(np.float32),
            clean=clean,
            psf=None if psf is None else _unit_integral(psf),
            params=params,
            reference=reference,
        )

    def _reference(self, zlp: np.ndarray, measured_zlp: np.ndarray, centre: np.ndarray,
                   counts: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Mismatched, noisy vacuum references (:class:`~.config.ReferenceConfig`).

        Drawn after everything else, so that a configuration with a
        reference gives the same spectra as one without.
        """
        ref, rng = self.config.reference, self.rng
        n, channels = zlp.shape
        base = measured_zlp.copy()
        other = rng.uniform(0, 1, n) < ref.other_response_probability
        if other.any():
            kernel_f = self._kernel_spectrum(self._otf_widths(int(other.sum())))
            base[other] = self._convolve(zlp[other], kernel_f)
        scale = 1 + rng.uniform(-ref.width_mismatch, ref.width_mismatch, n)
        tail = 1 + rng.uniform(-ref.tail_mismatch, ref.tail_mismatch, n)
        shift = rng.uniform(-ref.shift_channels, ref.shift_channels, n)
        x = np.arange(channels, dtype=float)[None, :]
        source = centre[:, None] + (x - centre[:, None] - shift[:, None]) / scale[:, None]
        rows = np.broadcast_to(np.arange(n)[:, None], source.shape)
        reference = scipy.ndimage.map_coordinates(base, [rows, source], order=1,
                                                  mode="constant")
        distance = (x - centre[:, None] - shift[:, None]) / fwhm(base)[:, None]
        reference *= 1 + (tail[:, None] - 1) * (1 - np.exp(-distance**2))
        dose = np.where(np.isfinite(counts), counts,
                        _log_uniform(rng, self.config.poisson_zlp_counts, n))
        dose = dose * _log_uniform(rng, ref.dose_ratio, n)
        expected = np.clip(reference, 0, None) * (dose / reference.max(axis=1))[:, None]
        params = {"reference_counts": dose, "reference_width_scale": scale,
                  "reference_tail_scale": tail, "reference_shift": shift,
                  "reference_other_response": other}
        return _unit_integral(rng.poisson(expected).astype(float)), params

    def _otf_widths(self, n: int) -> np.ndarray:
        """OTF FWHMs in channels, uniform or log-uniform in ``otf_fwhm_channels``."""
        cfg = self.config
        if cfg.otf_fwhm_log_uniform:
            return _log_uniform(self.rng, cfg.otf_fwhm_channels, n)
        return self.rng.uniform(*cfg.otf_fwhm_channels, n)

    def _kept_channels(self, distorted: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """First and one-past-last channel each spectrum keeps.

        Truncation (``min_channels``) shortens a spectrum at its end; a
        crop (:class:`~.config.CropConfig`) instead keeps a drawn length
        starting a drawn number of channels before the measured ZLP
        maximum (shorter only where the window ends first).
        """
        crop, rng = self.config.crop, self.rng
        first = np.zeros(n, dtype=int)
        end = self._valid_lengths(n)
        if crop.probability <= 0:
            return first, end
        cropped = rng.uniform(0, 1, n) < crop.probability
        before = np.rint(_log_uniform(rng, crop.channels_before_zlp, n)).astype(int)
        length = np.rint(_log_uniform(rng, crop.length, n)).astype(int)
        before = np.minimum(before, length - 1)
        start = np.maximum(np.argmax(distorted, axis=1) - before, 0)
        first = np.where(cropped, start, 0)
        end = np.where(cropped, np.minimum(self.config.channels, start + length), end)
        return first, end

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

    def _near_zlp_peaks(self, energy: np.ndarray, zlp_fwhm: np.ndarray
                        ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Narrow peaks past the ZLP, their doublets and gain partners.

        See :class:`~.config.NearZlpPeaks`. ``zlp_fwhm`` is each
        spectrum's measured ZLP width (channels), the unit of the doublet
        separations.

        Returns
        -------
        tuple
            The summed peaks, shape of ``energy``, and their draws:
            ``near_distance``, ``near_height`` and ``near_gain_weight``
            of shape (n, count high), NaN for slots not drawn, with
            doublet partners left out; ``temperature`` and
            ``gain_dispersion`` of shape (n,), NaN where a spectrum has no
            gain partners.
        """
        near, rng = self.config.near_zlp_peaks, self.rng
        n, channels = energy.shape
        if near.probability <= 0:
            return np.zeros_like(energy), {}
        k = near.count[1]
        count = rng.integers(near.count[0], k + 1, n)
        count *= rng.uniform(0, 1, n) < near.probability
        active = np.arange(k)[None, :] < count[:, None]
        distance = _log_uniform(rng, near.distance_channels, (n, k))
        width = _log_uniform(rng, near.fwhm_channels, (n, k))
        height = _log_uniform(rng, near.height_fraction, (n, k))
        shape_weights = np.array(list(near.shapes.model_dump().values()))
        kind = rng.choice(3, size=(n, k), p=shape_weights / shape_weights.sum())
        eta = np.select([kind == 0, kind == 1], [1.0, 0.0], rng.uniform(0, 1, (n, k)))
        far_ratio = np.where(kind == 2, rng.uniform(*near.asymmetry, (n, k)), 1.0)
        near_width = 2 * width / (1 + far_ratio)
        far_width = near_width * far_ratio
        doublet = active & (rng.uniform(0, 1, (n, k)) < near.doublet_probability)
        separation = rng.uniform(*near.doublet_separation, (n, k)) * zlp_fwhm[:, None]
        partner_height = height * _log_uniform(rng, near.doublet_height_ratio, (n, k))

        gain_on = rng.uniform(0, 1, n) < near.gain_probability
        temperature = rng.uniform(*near.temperature_k, n)
        dispersion = (np.full(n, self.config.dispersion) if near.gain_dispersion_ev is None
                      else _log_uniform(rng, near.gain_dispersion_ev, n))

        def gain_weight(d):
            kt = BOLTZMANN_EV * temperature[:, None]
            with np.errstate(divide="ignore", over="ignore"):
                weight = np.exp(-d * dispersion[:, None] / kt)
            return np.where(gain_on[:, None] & (kt > 0), weight, 0.0)

        # Every peak as (row, signed distance, left and right widths, height,
        # eta): loss peaks have their near (ZLP) side on the left, gain
        # partners are their mirror images.
        loss_distance = np.concatenate([distance, distance + separation], axis=1)
        loss_active = np.concatenate([active, doublet], axis=1)
        loss_height = np.concatenate([height, partner_height], axis=1)
        weight = gain_weight(loss_distance)
        both = lambda a: np.concatenate([a, a], axis=1)  # noqa: E731
        table = {
            "offset": np.concatenate([loss_distance, -loss_distance], axis=1),
            "left": np.concatenate([both(near_width), both(far_width)], axis=1),
            "right": np.concatenate([both(far_width), both(near_width)], axis=1),
            "height": np.concatenate([loss_height, loss_height * weight], axis=1),
            "eta": both(both(eta)),
        }
        use = np.concatenate([loss_active, loss_active & (weight > 0)], axis=1)
        rows = np.nonzero(use)[0]
        peaks = {key: value[use] for key, value in table.items()}
        summed = _peak_sum(energy, rows, peaks["offset"], peaks["left"], peaks["height"],
                           width_right=peaks["right"], eta=peaks["eta"])
        params = {
            "near_distance": np.where(active, distance, np.nan),
            "near_height": np.where(active, height, np.nan),
            "near_gain_weight": np.where(active, weight[:, :k], np.nan),
            "temperature": np.where(gain_on, temperature, np.nan),
            "gain_dispersion": np.where(gain_on, dispersion, np.nan),
        }
        return summed, params

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
            self._jitter(otf_fwhm, size), axis=1
        )

    def _convolve(self, spectra: np.ndarray, kernel_f: np.ndarray) -> np.ndarray:
        """Convolve with a kernel given by its rFFT at `_fft_size` (twice the channels)."""
        return fft_convolve(spectra, kernel_f, self._fft_size())

    def _jitter(self, otf_fwhm: np.ndarray, size: int) -> np.ndarray:
        """Sum of shifted deltas (linear interpolation), unit sum."""
        cfg = self.config
        n = len(otf_fwhm)
        if cfg.jitter_otf_fraction is not None:
            amplitude = (self.rng.uniform(*cfg.jitter_otf_fraction, n)
                         * otf_fwhm * cfg.dispersion)[:, None]
        elif cfg.jitter_ev_range is None:
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
    channels.
    """
    n, k_max = position.shape
    active = np.arange(k_max)[None, :] < count[:, None]
    channel = np.broadcast_to(np.arange(channels, dtype=float), (n, channels))
    return _peak_sum(channel, np.nonzero(active)[0], position[active], width[active],
                     height[active])


def _peak_sum(axis: np.ndarray, rows: np.ndarray, position: np.ndarray,
              width_left: np.ndarray, height: np.ndarray, *,
              width_right: np.ndarray | None = None,
              eta: np.ndarray | None = None) -> np.ndarray:
    """Per spectrum, the sum of the peaks that belong to it.

    Only the drawn peaks are evaluated, in place and in float32.

    Parameters
    ----------
    axis
        (n, channels) positions of the channels, in channels.
    rows
        (m,) the spectrum each peak belongs to.
    position, height
        (m,) centre on ``axis`` and height of each peak.
    width_left, width_right
        (m,) twice the half widths at half maximum below and above the
        centre; ``width_right`` None makes each peak symmetric, its FWHM
        ``width_left``.
    eta
        (m,) Lorentzian fraction of a pseudo-Voigt (the rest Gaussian of
        the same widths); None: Lorentzians.

    Returns
    -------
    numpy.ndarray
        (n, channels) float64.
    """
    profile = axis[rows].astype(np.float32) - position.astype(np.float32)[:, None]
    if width_right is None:
        profile *= (2.0 / width_left).astype(np.float32)[:, None]
    else:
        profile *= np.where(profile < 0, (2.0 / width_left).astype(np.float32)[:, None],
                            (2.0 / width_right).astype(np.float32)[:, None])
    np.square(profile, out=profile)
    if eta is None:
        profile += 1.0
        np.reciprocal(profile, out=profile)
    else:
        mix = eta.astype(np.float32)[:, None]
        profile = mix / (1.0 + profile) + (1.0 - mix) * np.exp(-np.float32(_LN2) * profile)
    weights = scipy.sparse.csr_matrix(
        (height, (rows, np.arange(len(rows)))), shape=(axis.shape[0], len(rows))
    )
    return np.asarray(weights @ profile, dtype=float)


def _log_uniform(rng: np.random.Generator, bounds, size) -> np.ndarray:
    """Draws spread evenly in log between the two (positive) ``bounds``."""
    return np.exp(rng.uniform(*np.log(bounds), size))


def _unit_integral(spectra: np.ndarray) -> np.ndarray:
    return (spectra / spectra.sum(axis=1, keepdims=True)).astype(np.float32)
