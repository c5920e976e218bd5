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
from pydantic import Field, model_validator

from hyperspy_eelspecnet._strict_model import StrictModel
from hyperspy_eelspecnet.models.card import Preprocessing
from hyperspy_eelspecnet.simulation.config import GeneratorConfig

CONFIG_VERSION = 1
#: Folder of the shipped configurations, one ``<name>.yaml`` each.
CONFIGS_DIR = Path(__file__).parent / "configs"


class NetworkConfig(StrictModel):
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


class OptimiserConfig(StrictModel):
    """Adam with a cosine-decayed learning rate after a linear warm-up."""

    learning_rate: float = Field(1e-3, gt=0)
    final_learning_rate_fraction: float = Field(0.02, ge=0, le=1)
    warmup_steps: int = Field(200, ge=0)
    clipnorm: float | None = Field(1.0, gt=0)


class TrainingConfig(StrictModel):
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
        "(see hyperspy_eelspecnet.inference.value_scale): the paper's offset, or an "
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
    loss_region_asinh_width: float | None = Field(
        None, gt=0,
        description="with linear_loss_weight: in loss_region_window, measure the "
        "asinh and difference terms on an asinh scale of this width (e.g. 1e-4) "
        "instead, so that weak peaks near the ZLP are restored with their counts "
        "(see losses.AsinhLinearMSE); unset: the value scale's own",
    )
    loss_region_window: tuple[int, int] = Field(
        (3, 160),
        description="[inner, outer]: the channels more than inner and at most outer "
        "from the target's maximum, on both sides, that loss_region_asinh_width and "
        "loss_region_weight apply to",
    )
    loss_region_weight: float = Field(
        1.0, gt=0,
        description="with linear_loss_weight: weight of the asinh term's squared errors "
        "in loss_region_window, against 1 elsewhere (see losses.AsinhLinearMSE)",
    )
    init_from: str | None = Field(
        None,
        description="start from the weights of this exported model (directory "
        "or .keras file) with the same network layout: fine-tuning",
    )
    reference_input: Literal["none", "channel", "subtracted", "richardson_lucy"] = Field(
        "none",
        description="what the network takes besides the spectrum: nothing, the "
        "generator's vacuum reference (generator.reference) as a second input "
        "channel, the spectrum less that reference fitted to its ZLP peak as the "
        "second channel, or Richardson-Lucy's result with that reference as well (a "
        "third channel; reference_iterations iterations)",
    )
    reference_iterations: int | None = Field(
        None, ge=1, description="Richardson-Lucy iterations of reference_input "
        "'richardson_lucy'",
    )
    window_lengths: tuple[int, ...] | None = Field(
        None, min_length=1,
        description="network windows (channels) the training blocks run in, in turn: "
        "each a multiple of 2**(network levels) no longer than generator.channels. A "
        "block in a shorter window keeps the aligned spectra's first channels, "
        "renormalised, as a measurement that ends there would be; the shortest becomes "
        "the card's preprocessing.min_length. None: every block in generator.channels",
    )
    draws: Literal["stream", "blocks"] = Field(
        "stream",
        description="how the training spectra are drawn: 'stream', every block of "
        "batches in turn from one random stream (saved with each checkpoint), or "
        "'blocks', each block from its own seed (seed, first step), so that "
        "`eelspecnet train --workers N` draws them in N processes with the same "
        "result for any N (training.draws)",
    )
    batch_size: int = Field(32, ge=1)
    steps: int = Field(20000, ge=1)
    checkpoint_every: int = Field(500, ge=1)
    validation_size: int = Field(256, ge=1)
    precision: Literal["float32", "mixed_bfloat16"] = Field(
        "float32",
        description="Keras dtype policy the network trains under: float32, or "
        "mixed_bfloat16 (float32 weights and output, bfloat16 arithmetic; "
        "about 1.7 times faster on CPUs with AMX or AVX-512 BF16, emulated "
        "and slow elsewhere). An exported model is saved in float32 either way",
    )

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
        asinh_terms = {"difference_loss_weight": self.difference_loss_weight > 0,
                       "loss_region_asinh_width": self.loss_region_asinh_width is not None,
                       "loss_region_weight": self.loss_region_weight != 1.0}
        for name, used in asinh_terms.items():
            if used and self.linear_loss_weight == 0:
                raise ValueError(
                    f"{name} is a term of the asinh loss: set "
                    "linear_loss_weight (with value_scale 'asinh' and loss 'mse') too"
                )
        if self.difference_loss_zlp_margin and self.difference_loss_weight == 0:
            raise ValueError(
                "difference_loss_zlp_margin does nothing without difference_loss_weight"
            )
        inner, outer = self.loss_region_window
        if not 0 <= inner < outer:
            raise ValueError(
                f"loss_region_window {list(self.loss_region_window)} needs "
                "0 <= inner < outer channels from the ZLP, e.g. [3, 160]"
            )
        if self.reference_input != "none" and self.generator.reference is None:
            raise ValueError(
                f"reference_input {self.reference_input!r} needs generator.reference "
                "(the vacuum reference drawn with each spectrum)"
            )
        if (self.reference_input == "richardson_lucy") != (self.reference_iterations is not None):
            raise ValueError("reference_iterations goes with reference_input "
                             "'richardson_lucy' and with it only")
        multiple = 2 ** len(self.network.filters)
        for window in self.window_lengths or ():
            if window % multiple or not self.generator.zlp_channel < window \
                    <= self.generator.channels:
                raise ValueError(
                    f"window_lengths: {window} must be a multiple of {multiple} (2 to the "
                    f"network's {len(self.network.filters)} levels), past zlp_channel "
                    f"{self.generator.zlp_channel} and at most generator.channels "
                    f"{self.generator.channels}")
        if self.value_scale == "asinh" and self.network.output_activation != "linear":
            raise ValueError(
                "value_scale 'asinh' needs network.output_activation 'linear' "
                "(its values can be negative)"
            )
        return self

    def preprocessing(self) -> Preprocessing:
        """How spectra are put to the network: its model card's ``preprocessing``."""
        gen = self.generator
        scale = ({"asinh_width": self.asinh_width} if self.value_scale == "asinh"
                 else {"offset": self.offset})
        shortest = min(self.window_lengths or (gen.channels,))
        return Preprocessing(scale=self.value_scale, **scale, zlp_channel=gen.zlp_channel,
                             length=gen.channels, length_multiple=2 ** len(self.network.filters),
                             min_length=shortest if shortest < gen.channels else None,
                             target=gen.target, reference=self.reference_input,
                             reference_iterations=self.reference_iterations)

    @classmethod
    def from_yaml(cls, path: str | Path) -> TrainingConfig:
        """Read a configuration, rejecting unknown keys."""
        with open(path) as f:
            return cls.model_validate(yaml.safe_load(f) or {})

    def to_yaml(self, path: str | Path) -> None:
        """Write the full configuration, defaults included."""
        with open(path, "w") as f:
            yaml.safe_dump(self.model_dump(mode="json"), f, sort_keys=False)


def shipped_configs() -> list[str]:
    """The names of the shipped training configurations.

    Returns
    -------
    list of str
        Sorted names, each a file ``<name>.yaml`` in :data:`CONFIGS_DIR`.
    """
    return sorted(path.stem for path in CONFIGS_DIR.glob("*.yaml"))


def find_config(name_or_path: str | Path) -> Path:
    """The file of a training configuration given by path or shipped name.

    Parameters
    ----------
    name_or_path
        A YAML file, or the name of a shipped configuration (see
        :func:`shipped_configs`).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError
        If it is neither (the message lists the shipped names).
    """
    path = Path(name_or_path)
    if path.exists():
        return path
    shipped = CONFIGS_DIR / f"{name_or_path}.yaml"
    if shipped.exists():
        return shipped
    raise FileNotFoundError(
        f"no training config {str(name_or_path)!r}: give a YAML file or a shipped name "
        f"({', '.join(shipped_configs())})"
    )
