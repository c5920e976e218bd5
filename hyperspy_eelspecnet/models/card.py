"""The model card: a typed, versioned record of what a model is.

Every model directory holds a ``card.json``: how the network is built,
how spectra are put to it, the data it was trained on, how it was trained
and what it scored. :class:`ModelCard` is its schema, and
:meth:`ModelCard.read` and :meth:`ModelCard.write` are the only places
where a card meets a file. A misspelt or unknown key is an error naming
the key. ``format_version`` numbers the layout (:data:`CARD_VERSION`); a
card written by a newer version of the package is refused with a hint to
upgrade.

The free-form records (the copy of the generator configuration, the
earlier training stage, the tables of figures) stay dictionaries; every
field the package reads is typed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from hyperspy_eelspecnet._strict_model import Range, StrictModel

#: The card layout this version of the package reads and writes.
CARD_VERSION = 1

#: Median and spread of one measure over spectra: ``median`` with ``p5``
#: and ``p95`` (generated sets) or ``min`` and ``max`` (measured spectra);
#: ``None`` or NaN where nothing could be measured.
Summary = dict[str, float | None]


class Architecture(StrictModel):
    """The network's layout (the training configuration's ``network``)."""

    type: str
    depth: int = Field(ge=1)
    filters: tuple[int, ...]
    kernel_size: int
    upsampling: Literal["transposed", "resize"]
    resize_steps: int | None
    nyquist_filter: bool
    output_activation: Literal["positive_tanh", "linear", "softplus"]
    trainable_parameters: int = Field(ge=0)


class ValueScale(StrictModel):
    """How unit-integral values are mapped to the network's values.

    See :mod:`hyperspy_eelspecnet.inference.value_scale`. ``offset``
    belongs to the ``"offset"`` scale and ``asinh_width`` to the
    ``"asinh"`` one; a card holds only the one its scale uses.
    """

    normalise: Literal["unit_integral"] = "unit_integral"
    scale: Literal["offset", "asinh"]
    offset: float | None = Field(None, ge=0, exclude_if=lambda value: value is None)
    asinh_width: float | None = Field(None, gt=0, exclude_if=lambda value: value is None)

    @model_validator(mode="after")
    def _one_parameter_for_the_scale(self):
        used, unused = ("asinh_width", "offset") if self.scale == "asinh" else (
            "offset", "asinh_width")
        if getattr(self, used) is None:
            raise ValueError(f"scale {self.scale!r} needs {used}")
        if getattr(self, unused) is not None:
            raise ValueError(f"{unused} does not belong to scale {self.scale!r}")
        return self


class Refinement(StrictModel):
    """Richardson-Lucy refinement of a ZLP-free network's restoration with the reference.

    See :mod:`hyperspy_eelspecnet.restoration.reference_refinement`: the
    network's restoration is the start, and ``iterations`` iterations fit
    the vacuum reference, as the ZLP, and the loss spectrum to the
    measurement.
    """

    iterations: int = Field(ge=1)
    output: Literal["quasi_dirac", "zlp_free"] = Field(
        description="what the model returns: the refined loss spectrum with the fitted ZLP's "
        "counts as a quasi-Dirac peak, or the loss spectrum alone")
    zlp_fwhm_channels: float = Field(
        gt=0, description="FWHM of the quasi-Dirac ZLP of output 'quasi_dirac' (the "
        "generator's zlp_fwhm_channels, the quasi-Dirac models' target)")
    reach_fwhm: float | None = Field(
        None, gt=0, description="refine within this many ZLP FWHMs (the reference's) of "
        "the ZLP and keep the network's restoration from 1.5 times as far, with a "
        "cosine crossfade between: far from the ZLP the network is not in doubt, and "
        "the iterations would only let noise back in; None refines the whole spectrum")
    near_iterations: int | None = Field(
        None, ge=1, exclude_if=lambda value: value is None,
        description="iterations more within near_reach_fwhm ZLP FWHMs of the ZLP, where a "
        "phonon and the ZLP's tail are hardest to tell apart and the multiplicative steps "
        "slowest (the ZLP dominates there); cards without it refine alike everywhere")
    near_reach_fwhm: float | None = Field(
        None, gt=0, exclude_if=lambda value: value is None,
        description="the reach of near_iterations, below reach_fwhm")
    significance: float | None = Field(
        None, gt=0, exclude_if=lambda value: value is None,
        description="keep the first stage's change to the network's restoration only where "
        "the change it makes to the model of the measurement, smoothed over the ZLP's "
        "width, exceeds this many times the noise there (in full from twice that): where "
        "the network's restoration already explains the measurement, the iterations would "
        "only fit the noise; within near_reach_fwhm of the ZLP, where the ZLP's curvature "
        "inflates the noise estimate, and in the near stage it is kept in full; cards "
        "without it keep every change")

    @model_validator(mode="after")
    def _near_within_reach(self):
        if (self.near_iterations is None) != (self.near_reach_fwhm is None):
            raise ValueError("near_iterations and near_reach_fwhm go together")
        if self.near_reach_fwhm is not None and not (
                self.reach_fwhm is not None and self.near_reach_fwhm < self.reach_fwhm):
            raise ValueError("near_reach_fwhm must be below reach_fwhm")
        return self


class Preprocessing(ValueScale):
    """How a spectrum is put to the network and what comes back.

    Besides the value scale: the channel its ZLP maximum is moved to, the
    training length, the smallest window the model runs in and the
    multiple of channels the network accepts, and what the network
    restores.
    """

    zlp_channel: int = Field(ge=0)
    length: int = Field(ge=1)
    length_multiple: int = Field(ge=1)
    min_length: int | None = Field(
        None, ge=1, exclude_if=lambda value: value is None,
        description="the smallest window a spectrum runs in, a multiple of length_multiple "
        "no larger than length, written by scripts/figure_changes.py window --update-cards once "
        "the restorations in it are shown to stay within the model's own error; cards "
        "without it run every spectrum in a window of at least length")
    target: Literal["quasi_dirac", "zlp_free"]
    reference: Literal["none", "channel", "subtracted", "richardson_lucy"] = Field(
        "none", exclude_if=lambda value: value == "none",
        description="what the model takes besides the spectrum: nothing (a blind "
        "model), the measured vacuum ZLP as a second input channel, the spectrum less "
        "that ZLP fitted to its peak as the second channel, or also "
        "Richardson-Lucy's result with it (see "
        "hyperspy_eelspecnet.inference.reference); cards without it are blind")
    reference_iterations: int | None = Field(
        None, ge=1, exclude_if=lambda value: value is None,
        description="Richardson-Lucy iterations of the 'richardson_lucy' input")
    refinement: Refinement | None = Field(
        None, exclude_if=lambda value: value is None,
        description="the restoration of a blind ZLP-free network refined with the vacuum "
        "reference (the model then takes one); cards without it return the network's "
        "restoration")

    @model_validator(mode="after")
    def _refinement_of_a_blind_zlp_free_network(self):
        if self.refinement is not None and (self.target, self.reference) != ("zlp_free",
                                                                             "none"):
            raise ValueError("refinement starts from a blind ZLP-free network's restoration: "
                             "it needs target 'zlp_free' and reference 'none'")
        return self

    @model_validator(mode="after")
    def _iterations_for_richardson_lucy(self):
        if (self.reference == "richardson_lucy") != (self.reference_iterations is not None):
            raise ValueError("reference_iterations goes with reference 'richardson_lucy' "
                             "and with it only")
        return self

    @model_validator(mode="after")
    def _min_length_a_window(self):
        if self.min_length is not None and (
                self.min_length % self.length_multiple or self.min_length > self.length):
            raise ValueError(f"min_length {self.min_length} must be a multiple of "
                             f"length_multiple {self.length_multiple} no larger than "
                             f"length {self.length}")
        return self

    @property
    def smallest_window(self) -> int:
        """The fewest channels a spectrum is run in: ``min_length``, else ``length``."""
        return self.length if self.min_length is None else self.min_length

    @property
    def takes_reference(self) -> bool:
        """Whether the model is given a vacuum reference (``psf=``) with the spectrum."""
        return self.reference != "none" or self.refinement is not None

    @property
    def restores(self) -> Literal["quasi_dirac", "zlp_free"]:
        """What the model returns: the refinement's ``output``, else the network's ``target``."""
        return self.target if self.refinement is None else self.refinement.output

    @property
    def input_channels(self) -> int:
        """Channels of the network's input: the spectrum and what goes with it."""
        return {"none": 1, "channel": 2, "subtracted": 2, "richardson_lucy": 3}[self.reference]


class Calibration(StrictModel):
    """The energy axis of the training spectra."""

    channels: int = Field(ge=1)
    dispersion_eV: float = Field(gt=0)
    zlp_channel: int = Field(ge=0)


class Domain(StrictModel):
    """What the out-of-domain checks compare spectra with.

    See :class:`hyperspy_eelspecnet.inference.domain.DomainReport`.
    """

    zlp_fwhm_channels: Range = Field(
        description="ZLP FWHM in channels, 1st to 99th percentile of the training spectra")
    channels: tuple[int, int] = Field(description="channel counts the model was validated on")
    channels_past_zlp: int = Field(
        ge=0, description="the most channels past the ZLP the model was trained on")
    zlp_channel_range: Range = Field(
        description="channels the ZLP sat on in the training spectra, before alignment")


class Optimiser(StrictModel):
    """The optimiser settings of the training run."""

    learning_rate: float
    final_learning_rate_fraction: float
    warmup_steps: int
    clipnorm: float | None


class Training(StrictModel):
    """How the model was trained, and how to train it again."""

    seed: int = Field(description="seed of the training spectra; seed + 1 drew the validation set")
    init_from: str | None = Field(description="the model this one was fine-tuned from")
    steps: int
    batch_size: int
    spectra_seen: int
    loss: Literal["binary_crossentropy", "mse", "mae"]
    linear_loss_weight: float
    difference_loss_weight: float
    difference_loss_zlp_margin: int
    loss_region_asinh_width: float | None = Field(
        None, description="asinh width of the loss near the ZLP "
        "(losses.AsinhLinearMSE); cards without it were trained without it")
    loss_region_window: tuple[int, int] | None = None
    loss_region_weight: float = Field(
        1.0, exclude_if=lambda value: value == 1.0,
        description="weight of the asinh loss in loss_region_window against 1 elsewhere "
        "(losses.AsinhLinearMSE); cards without it weighed every channel alike")
    optimiser: Optimiser
    command: str = Field(description="the command that trained it; empty if not recorded")
    training_time_s: int | None = Field(description="whole seconds, if recorded")
    hardware: str
    backend: str
    keras_version: str
    precision: Literal["float32", "mixed_bfloat16"] = Field(
        "float32", description="Keras dtype policy it trained under (the saved "
        "network is float32 either way); cards without it were trained in float32")
    stage1: dict[str, Any] | None = Field(
        None, description="provenance of the stage this one was fine-tuned from "
        "(cards of two-stage models; later cards list every stage in earlier_stages)")
    earlier_stages: tuple[dict[str, Any], ...] | None = Field(
        None, exclude_if=lambda value: value is None,
        description="provenance of every stage before this one, first first: the "
        "model each was fine-tuned from, its seed, steps, command, time and weights' "
        "sha256 (export reads them from the card of init_from)")
    reproduce: str | None = Field(None, description="how to train it again, in words")


class EvaluationRecord(StrictModel):
    """Figures on generated spectra, as ``eelspecnet evaluate --update-cards`` records them."""

    command: str
    seed: int
    sizes: dict[str, int] = Field(description="spectra per evaluation set")
    jitter_centred: bool
    summary: dict[str, dict[str, dict[str, Summary]]] = Field(
        description="set to method to measure to its summary")


class RealDataRecord(StrictModel):
    """Figures on measured spectra, as ``eelspecnet evaluate --real --update-cards`` records them.

    Besides ``command`` and ``vacuum_floor``, each key is a method (a
    model, ``RL-<iterations>``, or ``none``) and maps measures to their
    summaries; :attr:`methods` gathers them.
    """

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, dict[str, Summary]]

    command: str
    vacuum_floor: Summary = Field(
        description="re-convolution residual of a perfect restoration of the vacuum recordings")

    @property
    def methods(self) -> dict[str, dict[str, Summary]]:
        """Method to measure to its summary."""
        return dict(self.model_extra)


class NearZlpRecord(StrictModel):
    """Figures on the near-ZLP, cropped and gain-side sets.

    As ``eelspecnet evaluate --near-zlp --update-cards`` records them.
    """

    command: str
    seed: int
    sizes: dict[str, int] = Field(description="boxes or spectra per subset of each set")
    summary: dict[str, dict[str, dict[str, dict[str, Summary]]]] = Field(
        description="set to subset to method to measure to its summary")


class ModelCard(StrictModel):
    """The model card of an exported model (its ``card.json``).

    Examples
    --------
    >>> from hyperspy_eelspecnet.models.registry import MODELS_DIR
    >>> card = ModelCard.read(MODELS_DIR / "nzeels-2048" / "card.json")  # doctest: +SKIP
    >>> card.preprocessing.target  # doctest: +SKIP
    'quasi_dirac'
    """

    name: str
    description: str
    format_version: Literal[1] = CARD_VERSION
    created: str = Field(description="time of export, ISO 8601")
    architecture: Architecture
    preprocessing: Preprocessing
    calibration: Calibration
    domain: Domain
    generator: dict[str, Any] = Field(
        description="the generator configuration of the training spectra (a GeneratorConfig)")
    training: Training
    evaluation: EvaluationRecord | None = None
    limitations: tuple[str, ...]
    weights_sha256: str = Field(description="SHA-256 of model.keras")
    real_data: RealDataRecord | None = None
    near_zlp: NearZlpRecord | None = None

    @field_validator("format_version", mode="before")
    @classmethod
    def _not_newer(cls, value):
        if isinstance(value, int) and value > CARD_VERSION:
            raise ValueError(
                f"format_version {value} is newer than this version of "
                f"hyperspy_eelspecnet reads ({CARD_VERSION}): upgrade it"
            )
        return value

    @classmethod
    def read(cls, path: str | Path) -> ModelCard:
        """Read a ``card.json``.

        Parameters
        ----------
        path
            The card's file.

        Returns
        -------
        ModelCard

        Raises
        ------
        ValueError
            If the file is not JSON or not a valid card; the message names
            the file and each missing, misspelt or invalid key.
        """
        try:
            return cls.model_validate(json.loads(Path(path).read_text()))
        except ValidationError as error:
            raise ValueError(f"{path} is not a valid model card: {error}") from error

    def write(self, path: str | Path) -> None:
        """Write the card as indented JSON, keys in the order of the fields.

        Parameters
        ----------
        path
            The card's file, replaced if it exists.
        """
        Path(path).write_text(json.dumps(self.model_dump(), indent=2) + "\n")

    def updated(self, **changes) -> ModelCard:
        """A copy with some fields replaced, validated as a card read from a file.

        Parameters
        ----------
        **changes
            Field name to its new value (a section may be given as a dict).

        Returns
        -------
        ModelCard
        """
        return self.model_validate(self.model_dump() | changes)
