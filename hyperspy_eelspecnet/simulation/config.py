"""Ranges of the generated spectra: the generator's typed configuration.

:class:`GeneratorConfig` is the ``generator`` section of a training
configuration (:class:`hyperspy_eelspecnet.training.config.TrainingConfig`)
and is copied into every model card. It lives beside the generator, not
in :mod:`hyperspy_eelspecnet.training`, because evaluation, the tests and
the benchmarks draw spectra from it too.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from hyperspy_eelspecnet._strict_model import Range, StrictModel, check_range


class ShapeWeights(StrictModel):
    """Relative weights of the optical-transfer-function (ZLP) shapes.

    A weight of zero switches a shape off; the weights need not sum to 1.
    ``measured`` uses the vacuum recordings listed in
    :attr:`GeneratorConfig.measured_zlp_files`, stretched to the drawn width.
    """

    lorentzian: float = Field(1.0, ge=0)
    gaussian: float = Field(0.0, ge=0)
    voigt: float = Field(0.0, ge=0)
    pearson7: float = Field(0.0, ge=0)
    asymmetric: float = Field(0.0, ge=0)
    measured: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _some_shape(self):
        if sum(self.model_dump().values()) <= 0:
            raise ValueError("at least one OTF shape needs a positive weight")
        return self


class ContinuumConfig(StrictModel):
    """Loss-side continua beyond the paper's Lorentzian peaks.

    Each ``*_probability`` is the chance that a spectrum gets that
    component; heights are drawn log-uniformly as fractions of the
    quasi-Dirac ZLP maximum of the ground truth (``height_fraction``).
    Energies and widths are in channels past the ZLP.
    """

    tail_probability: float = Field(0.0, ge=0, le=1)
    tail_power: Range = (1.0, 4.0)
    tail_scale_channels: Range = (2.0, 60.0)
    exponential_probability: float = Field(0.0, ge=0, le=1)
    exponential_decay_channels: Range = (10.0, 600.0)
    background_probability: float = Field(0.0, ge=0, le=1)
    background_width_channels: Range = (150.0, 1200.0)
    onset_probability: float = Field(0.0, ge=0, le=1)
    onset_energy_channels: Range = (10.0, 1200.0)
    onset_exponent: Range = (0.5, 1.5)
    onset_decay_channels: Range = (100.0, 3000.0)
    drude_probability: float = Field(0.0, ge=0, le=1)
    drude_energy_channels: Range = (40.0, 1500.0)
    drude_width_channels: Range = (15.0, 500.0)
    height_fraction: Range = (1.0 / 50000.0, 1.0 / 50.0)

    @model_validator(mode="after")
    def _ranges(self):
        for name, value in self.model_dump().items():
            if isinstance(value, tuple):
                check_range(name, value)
        return self


def check_log_range(name: str, value: Range | None) -> None:
    """Raise ``ValueError`` unless ``value`` is None or ``0 < value[0] <= value[1]``.

    For ranges drawn log-uniformly, whose low end cannot be zero.
    """
    if value is None:
        return
    check_range(name, value)
    if value[0] <= 0:
        raise ValueError(f"{name} is drawn log-uniformly: its low end must be > 0, "
                         f"got {list(value)}")


class PeakShapeWeights(StrictModel):
    """Relative weights of the near-ZLP peak shapes (need not sum to 1).

    ``asymmetric`` is a split pseudo-Voigt whose side away from the ZLP is
    up to :attr:`NearZlpPeaks.asymmetry` times wider than its near side.
    """

    lorentzian: float = Field(1.0, ge=0)
    gaussian: float = Field(1.0, ge=0)
    asymmetric: float = Field(1.0, ge=0)

    @model_validator(mode="after")
    def _some_shape(self):
        if sum(self.model_dump().values()) <= 0:
            raise ValueError("at least one near-ZLP peak shape needs a positive weight")
        return self


class NearZlpPeaks(StrictModel):
    """Narrow peaks close to the ZLP (phonons, low-energy modes) and their gain side.

    The paper's peaks are at least 10 channels wide and placed uniformly
    over the whole loss range, so a narrow peak inside the ZLP's tail is
    almost never seen. With ``probability`` > 0 that share of the spectra
    gets ``count`` peaks (drawn uniformly, 0 allowed), each centred
    ``distance_channels`` past the ZLP's centre (off the channel grid),
    ``fwhm_channels`` wide (log-uniform), of height ``height_fraction``
    of the quasi-Dirac ZLP maximum (log-uniform), in one of ``shapes``.

    A ``doublet_probability`` share of the peaks gets a second peak
    ``doublet_separation`` times the spectrum's measured ZLP FWHM further
    out, of the same shape and width, ``doublet_height_ratio`` times as
    high (log-uniform).

    Detailed balance: in a ``gain_probability`` share of the spectra every
    near-ZLP peak at energy loss E gets a gain partner, its mirror image
    at -E, weighted by exp(-E / kT) with T drawn uniformly in
    ``temperature_k`` per spectrum. E is the peak's distance in channels
    times a dispersion drawn log-uniformly in ``gain_dispersion_ev``
    (None: the generator's own dispersion), so that one model trained in
    channels meets the gain/loss ratios of every dispersion.
    """

    probability: float = Field(0.0, ge=0, le=1)
    count: tuple[int, int] = (1, 6)
    distance_channels: Range = (3.0, 80.0)
    fwhm_channels: Range = (2.0, 15.0)
    height_fraction: Range = (1e-4, 1e-2)
    shapes: PeakShapeWeights = PeakShapeWeights()
    asymmetry: Range = (1.0, 2.5)
    doublet_probability: float = Field(0.0, ge=0, le=1)
    doublet_separation: Range = (0.5, 2.0)
    doublet_height_ratio: Range = (0.3, 3.0)
    gain_probability: float = Field(0.0, ge=0, le=1)
    temperature_k: Range = (0.0, 1000.0)
    gain_dispersion_ev: Range | None = None

    @model_validator(mode="after")
    def _ranges(self):
        for name in ("distance_channels", "fwhm_channels", "height_fraction", "asymmetry",
                     "doublet_separation", "doublet_height_ratio", "gain_dispersion_ev"):
            check_log_range(name, getattr(self, name))
        check_range("temperature_k", self.temperature_k)
        if not 0 <= self.count[0] <= self.count[1] or self.count[1] < 1:
            raise ValueError(
                f"count must be 0 <= low <= high with high >= 1, got {list(self.count)}"
            )
        return self


class CropConfig(StrictModel):
    """Cropped spectra: a short window with the ZLP close to its start.

    A ``probability`` share of the spectra keeps only ``length`` channels
    (log-uniform) starting ``channels_before_zlp`` (log-uniform) before
    the ZLP's maximum (at most ``length`` - 1, so that the crop holds the
    ZLP); everything outside is zero in every returned array,
    which is how inference pads an aligned spectrum. The distortions are
    applied before the crop, as in a measurement.
    """

    probability: float = Field(0.0, ge=0, le=1)
    channels_before_zlp: Range = (16.0, 400.0)
    length: Range = (256.0, 2048.0)

    @model_validator(mode="after")
    def _ranges(self):
        for name in ("channels_before_zlp", "length"):
            check_log_range(name, getattr(self, name))
        if self.length[0] <= self.channels_before_zlp[0]:
            raise ValueError("the shortest crop must be longer than the fewest channels "
                             "before the ZLP, so that every crop can hold the ZLP")
        return self


class ReferenceConfig(StrictModel):
    """A vacuum reference drawn with each spectrum, as a user records one.

    The reference is the ZLP alone through the spectrum's own response
    (jitter and OTF), mismatched as a recording made minutes away would
    be: its width scaled by 1 +- ``width_mismatch``, the weight of its
    tails (beyond about one FWHM from its centre) by 1 +- ``tail_mismatch``,
    and shifted by up to +- ``shift_channels``, each drawn uniformly. An
    ``other_response_probability`` share of the references comes from
    another response altogether (a fresh draw of the OTF and jitter), the
    hard case of a wrong reference. Each reference has its own Poisson
    noise at ``dose_ratio`` (log-uniform) times the spectrum's counts at
    the ZLP maximum (for a spectrum with Gaussian noise, times counts drawn
    from ``poisson_zlp_counts``).
    """

    dose_ratio: Range = (10.0, 1000.0)
    width_mismatch: float = Field(0.05, ge=0, lt=0.5)
    tail_mismatch: float = Field(0.2, ge=0, lt=1)
    shift_channels: float = Field(0.5, ge=0)
    other_response_probability: float = Field(0.1, ge=0, le=1)

    @model_validator(mode="after")
    def _ranges(self):
        check_log_range("dose_ratio", self.dose_ratio)
        return self


class GeneratorConfig(StrictModel):
    """Ranges of the generated training spectra (channel units).

    The defaults are the paper's generalized-learning recipe: 2048
    channels at 5 meV, a 3-channel quasi-Dirac ZLP at channel 400, 0-15
    Lorentzian peaks, 25-copy energy jitter of +-0.05 eV, a Lorentzian
    OTF of 35-200 meV (7-40 channels) and Gaussian noise. Every option
    beyond the paper is off by default.
    """

    channels: int = Field(2048, ge=64)
    dispersion: float = Field(0.005, gt=0, description="eV per channel")
    zlp_channel: int = Field(400, ge=0)
    zlp_channel_range: Range | None = Field(
        None,
        description="draw the ZLP position uniformly in this channel range "
        "(alignment invariance); None keeps it at zlp_channel",
    )
    min_channels: int | None = Field(
        None, description="truncate each spectrum to a drawn length >= this"
    )
    zlp_fwhm_channels: float = Field(3.0, gt=0)
    n_peaks: tuple[int, int] = (0, 15)
    peak_fwhm_ev: Range = (0.05, 1.5)
    peak_ratio: Range = (300.0, 4000.0)
    near_zlp_peaks: NearZlpPeaks = NearZlpPeaks()
    crop: CropConfig = CropConfig()
    bare_probability: float = Field(
        0.0, ge=0, le=1,
        description="share of spectra that are the ZLP alone (no peaks, continua "
        "or near-ZLP peaks), as vacuum pixels are: a model then learns to put "
        "nothing near the ZLP where nothing is",
    )
    reference: ReferenceConfig | None = Field(
        None,
        description="draw a vacuum reference with each spectrum (a model that "
        "takes the measured vacuum ZLP as a second input); None draws none",
    )
    jitter_ev: float = Field(0.05, ge=0)
    jitter_ev_range: Range | None = Field(
        None,
        description="draw each spectrum's jitter amplitude uniformly in this "
        "range (eV) instead of using jitter_ev for all: covers ZLPs narrower "
        "than the fixed paper jitter allows",
    )
    jitter_copies: int = Field(25, ge=1)
    jitter_centred: bool = Field(
        False,
        description="put the energy zero at the mean of the jitter shifts "
        "(the time-averaged beam energy) instead of at the first, unshifted "
        "copy as the paper does: a network aligned on the measured ZLP can "
        "then place the restored ZLP exactly",
    )
    otf_fwhm_channels: Range = (7.0, 40.0)
    otf_fwhm_log_uniform: bool = Field(
        False,
        description="draw the OTF FWHM log-uniformly in otf_fwhm_channels, so "
        "that narrow ZLPs are as common as wide ones; False draws it uniformly "
        "(the paper)",
    )
    jitter_otf_fraction: Range | None = Field(
        None,
        description="draw each spectrum's jitter amplitude (half the spread of "
        "the shifts, in channels) as this fraction of its OTF FWHM instead of "
        "from jitter_ev or jitter_ev_range: the total ZLP width then follows "
        "the OTF's, narrow ZLPs included",
    )
    otf_shapes: ShapeWeights = ShapeWeights()
    measured_zlp_files: tuple[str, ...] = ()
    continua: ContinuumConfig = ContinuumConfig()
    gaussian_noise: Range = (1e-8, 1e-3)
    dark_mean: Range = (0.0, 1e-7)
    poisson_probability: float = Field(0.0, ge=0, le=1)
    poisson_zlp_counts: Range = (1e3, 1e7)
    read_noise_counts: Range = (0.0, 10.0)
    gain_amplitude: float = Field(0.0, ge=0, lt=0.5)
    detector_blur_channels: Range | None = Field(
        None,
        description="Poisson spectra: spread the counted electrons over "
        "neighbouring channels with a Gaussian of this standard deviation "
        "(channels, drawn per spectrum), as a scintillator-coupled detector "
        "does, so that counting noise is correlated between channels; read "
        "noise stays white. None keeps counting noise white",
    )
    target: Literal["quasi_dirac", "zlp_free"] = "quasi_dirac"

    @model_validator(mode="after")
    def _consistent(self):
        if self.jitter_ev_range is not None:
            check_range("jitter_ev_range", self.jitter_ev_range)
        if self.jitter_otf_fraction is not None:
            check_range("jitter_otf_fraction", self.jitter_otf_fraction)
            if self.jitter_ev_range is not None:
                raise ValueError("give jitter_ev_range or jitter_otf_fraction, not both")
        if self.otf_fwhm_log_uniform:
            check_log_range("otf_fwhm_channels", self.otf_fwhm_channels)
        for name in ("peak_fwhm_ev", "peak_ratio", "otf_fwhm_channels",
                     "gaussian_noise", "dark_mean", "poisson_zlp_counts",
                     "read_noise_counts"):
            check_range(name, getattr(self, name))
        if self.detector_blur_channels is not None:
            check_range("detector_blur_channels", self.detector_blur_channels)
        if not 0 <= self.n_peaks[0] <= self.n_peaks[1]:
            raise ValueError(f"n_peaks must be 0 <= low <= high, got {self.n_peaks}")
        if self.zlp_channel >= self.channels:
            raise ValueError("zlp_channel must lie inside the spectrum")
        if self.zlp_channel_range is not None:
            lo, hi = self.zlp_channel_range
            if not 0 <= lo <= hi < self.channels:
                raise ValueError(
                    "zlp_channel_range must lie inside [0, channels), got "
                    f"{list(self.zlp_channel_range)}"
                )
        if self.min_channels is not None and not (
            self.zlp_channel < self.min_channels <= self.channels
        ):
            raise ValueError("min_channels must lie in (zlp_channel, channels]")
        if self.otf_shapes.measured > 0 and not self.measured_zlp_files:
            raise ValueError(
                "otf_shapes.measured > 0 needs measured_zlp_files (vacuum ZLP "
                "recordings) to draw the shapes from"
            )
        return self
