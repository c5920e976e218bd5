"""Versioned training configuration: generator ranges, network, optimiser.

Every model in this package is described by one :class:`TrainingConfig`,
saved as YAML beside its weights and copied into its model card. The
models are pydantic models with ``extra="forbid"``: a misspelt key is an
error, not a silently ignored setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

CONFIG_VERSION = 1

Range = tuple[float, float]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_range(name: str, value: Range, low: float = 0.0) -> None:
    if not (low <= value[0] <= value[1]):
        raise ValueError(
            f"{name} must be an increasing pair >= {low}, got {list(value)}"
        )


class ShapeWeights(_Strict):
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


class ContinuumConfig(_Strict):
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
                _check_range(name, value)
        return self


class NearZlpPeaks(_Strict):
    """Narrow Lorentzian peaks close to the ZLP: phonons, low-energy modes.

    The paper's peaks are at least 0.05 eV wide and placed uniformly over
    the whole loss range, so a narrow peak inside the ZLP's tail is almost
    never seen. With ``probability`` > 0 that share of the spectra gets
    ``count`` extra peaks, centred ``distance_ev`` past the ZLP (not on a
    whole channel), ``fwhm_ev`` wide, of height ZLP maximum / ``ratio``.
    """

    probability: float = Field(0.0, ge=0, le=1)
    count: tuple[int, int] = (1, 3)
    distance_ev: Range = (0.05, 0.5)
    fwhm_ev: Range = (0.015, 0.1)
    ratio: Range = (300.0, 4000.0)

    @model_validator(mode="after")
    def _ranges(self):
        for name in ("distance_ev", "fwhm_ev", "ratio"):
            _check_range(name, getattr(self, name))
        if not 1 <= self.count[0] <= self.count[1]:
            raise ValueError(f"count must be 1 <= low <= high, got {list(self.count)}")
        return self


class GeneratorConfig(_Strict):
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
            _check_range("jitter_ev_range", self.jitter_ev_range)
        for name in ("peak_fwhm_ev", "peak_ratio", "otf_fwhm_channels",
                     "gaussian_noise", "dark_mean", "poisson_zlp_counts",
                     "read_noise_counts"):
            _check_range(name, getattr(self, name))
        if self.detector_blur_channels is not None:
            _check_range("detector_blur_channels", self.detector_blur_channels)
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


class NetworkConfig(_Strict):
    """U-Net layout: one entry of ``filters`` per encoding level."""

    filters: tuple[int, ...] = (16, 32, 64, 128, 128, 128, 128, 128, 128, 128)
    kernel_size: int = Field(4, ge=2)
    upsampling: Literal["transposed", "resize"] = Field(
        "transposed",
        description="decoder steps: the paper's stride-2 transposed "
        "convolutions, or a nearest-neighbour doubling followed by a "
        "convolution, which keeps a flat input flat instead of printing "
        "the period-2 and period-4 ripples of transposed convolutions",
    )
    resize_steps: int | None = Field(
        None, ge=1,
        description="with upsampling 'resize', resize only this many of the "
        "finest decoder steps (the last, to the spectrum, first) and keep "
        "transposed convolutions above them; None resizes every step",
    )
    nyquist_filter: bool = Field(
        False,
        description="end with a fixed [1, 2, 1] / 4 filter that removes the "
        "period-2 ripple of the last transposed convolution",
    )
    output_activation: Literal["positive_tanh", "linear", "softplus"] = (
        "positive_tanh"
    )

    @model_validator(mode="after")
    def _resize_steps_need_resize(self):
        if self.resize_steps is not None and self.upsampling != "resize":
            raise ValueError("resize_steps needs upsampling: resize")
        return self


class OptimiserConfig(_Strict):
    """Adam with a cosine-decayed learning rate after a linear warm-up."""

    learning_rate: float = Field(1e-3, gt=0)
    final_learning_rate_fraction: float = Field(0.02, ge=0, le=1)
    warmup_steps: int = Field(200, ge=0)
    clipnorm: float | None = Field(1.0, gt=0)


class TrainingConfig(_Strict):
    """Everything needed to reproduce a model from its seed."""

    version: Literal[1] = CONFIG_VERSION
    name: str = "eelspecnet"
    description: str = ""
    seed: int = 0
    generator: GeneratorConfig = GeneratorConfig()
    network: NetworkConfig = NetworkConfig()
    optimiser: OptimiserConfig = OptimiserConfig()
    loss: Literal["binary_crossentropy", "mse", "mae"] = "binary_crossentropy"
    value_scale: Literal["offset", "asinh"] = Field(
        "offset",
        description="how unit-integral spectra are mapped for the network "
        "(see hyperspy_eelspecnet.value_scale): the paper's offset, or an "
        "asinh compression that weighs the weak loss region like the ZLP",
    )
    offset: float = Field(0.001, ge=0, description="added to inputs and targets "
                          "(value_scale 'offset')")
    asinh_width: float = Field(1e-6, gt=0, description="values below this (unit "
                               "integral) stay linear (value_scale 'asinh')")
    linear_loss_weight: float = Field(
        0.0, ge=0,
        description="value_scale 'asinh' with loss 'mse': add this times the "
        "squared error of the unit-integral values (which the ZLP dominates) "
        "to the asinh-scale loss",
    )
    difference_loss_weight: float = Field(
        0.0, ge=0,
        description="with linear_loss_weight: add this times the squared error "
        "of neighbouring-channel differences on the asinh scale, which weighs "
        "the noise a restoration lets through (see losses.AsinhLinearMSE)",
    )
    difference_loss_zlp_margin: int = Field(
        0, ge=0,
        description="channels on each side of the target's maximum (the "
        "quasi-Dirac ZLP) that the difference term leaves out: it then weighs "
        "the loss region's noise, not the ZLP's steep flanks",
    )
    init_from: str | None = Field(
        None,
        description="start from the weights of this exported model (directory "
        "or .keras file) with the same network layout: fine-tuning",
    )
    batch_size: int = Field(32, ge=1)
    steps: int = Field(20000, ge=1)
    checkpoint_every: int = Field(500, ge=1)
    validation_size: int = Field(256, ge=1)

    @model_validator(mode="after")
    def _scale_fits_loss(self):
        if self.value_scale == "asinh" and self.loss == "binary_crossentropy":
            raise ValueError(
                "value_scale 'asinh' gives values outside [0, 1]: use loss 'mse' "
                "or 'mae' with it, not binary_crossentropy"
            )
        if self.linear_loss_weight > 0 and (self.value_scale, self.loss) != ("asinh", "mse"):
            raise ValueError(
                "linear_loss_weight needs value_scale 'asinh' and loss 'mse' "
                "(on the offset scale the loss is already on unit-integral values)"
            )
        if self.difference_loss_weight > 0 and self.linear_loss_weight == 0:
            raise ValueError(
                "difference_loss_weight is a term of the asinh loss: set "
                "linear_loss_weight (with value_scale 'asinh' and loss 'mse') too"
            )
        if self.difference_loss_zlp_margin and self.difference_loss_weight == 0:
            raise ValueError(
                "difference_loss_zlp_margin does nothing without difference_loss_weight"
            )
        if self.value_scale == "asinh" and self.network.output_activation != "linear":
            raise ValueError(
                "value_scale 'asinh' needs network.output_activation 'linear' "
                "(its values can be negative)"
            )
        return self

    def preprocessing(self) -> dict:
        """The value-scale part of a model card's ``preprocessing``."""
        if self.value_scale == "asinh":
            return {"scale": "asinh", "asinh_width": self.asinh_width}
        return {"scale": "offset", "offset": self.offset}

    @classmethod
    def from_yaml(cls, path: str | Path) -> "TrainingConfig":
        """Read a configuration, rejecting unknown keys."""
        with open(path) as f:
            return cls.model_validate(yaml.safe_load(f) or {})

    def to_yaml(self, path: str | Path) -> None:
        """Write the full configuration, defaults included."""
        with open(path, "w") as f:
            yaml.safe_dump(self.model_dump(mode="json"), f, sort_keys=False)
