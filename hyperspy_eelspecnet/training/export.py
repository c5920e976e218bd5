"""Export a trained network as a model directory that inference can load.

The directory holds ``model.keras``, ``card.json`` (the model card),
``config.yaml`` (the full training configuration) and a test input with
its expected output. Export reloads the written model and re-predicts
the test input; it refuses to write a model whose reload disagrees.
:func:`export_refined` writes a model that refines an exported ZLP-free
network's restorations with the vacuum reference
(:mod:`hyperspy_eelspecnet.inference.refinement`).
"""

from __future__ import annotations

import datetime
import os
import platform
import shutil
from pathlib import Path

import numpy as np

from hyperspy_eelspecnet.metrics import fwhm
from hyperspy_eelspecnet.models.card import Domain, ModelCard, Refinement
from hyperspy_eelspecnet.models.keras_import import import_keras
from hyperspy_eelspecnet.models.registry import file_sha256, write_card
from hyperspy_eelspecnet.simulation.generator import SpectrumGenerator
from hyperspy_eelspecnet.training.config import TrainingConfig
from hyperspy_eelspecnet.training.network import count_parameters
from hyperspy_eelspecnet.training.run_dir import RunDir
from hyperspy_eelspecnet.training.train import network_pairs

#: Seed of the export's test spectra and domain measurement; no training
#: run uses it (training uses its seed and seed + 1).
EXPORT_SEED = 777_000_001
_TEST_SPECTRA = 4
_DOMAIN_SPECTRA = 2000


def _hardware(backend: str) -> str:
    """This machine: its processor, CPU count and the backend's GPU, if any."""
    cpus = f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} CPUs".strip()
    gpu = _backend_gpu(backend)
    return f"{cpus}, {gpu}" if gpu else cpus


def _backend_gpu(backend: str) -> str | None:
    """The name of the first GPU the Keras backend trains on; None for none."""
    if backend == "jax":
        import jax

        gpus = [d for d in jax.devices() if d.platform == "gpu"]
        return gpus[0].device_kind if gpus else None
    if backend == "torch":
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return tf.config.experimental.get_device_details(gpus[0]).get(
            "device_name", gpus[0].name) if gpus else None
    return None


def _domain(config: TrainingConfig) -> Domain:
    """ZLP widths (channels) and channel counts the model was trained on.

    The channel counts run from half the shortest training spectrum
    (``min_channels``, the shortest crop, or ``channels`` when all are
    whole) to twice the longest: a shorter spectrum is zero-padded as the
    truncated training spectra were, and how far it reaches past the ZLP
    is checked on its own (``channels_past_zlp``). The ZLP's channels run
    from the fewest channels a crop keeps before it.
    """
    gen = config.generator
    distorted = SpectrumGenerator(gen, EXPORT_SEED + 1).generate(_DOMAIN_SPECTRA).distorted
    widths = fwhm(distorted)
    shortest = gen.min_channels or gen.channels
    zlp_range = gen.zlp_channel_range or (gen.zlp_channel,) * 2
    if gen.crop.probability > 0:
        shortest = min(shortest, round(gen.crop.length[0]))
        zlp_range = (min(zlp_range[0], gen.crop.channels_before_zlp[0]), zlp_range[1])
    return Domain(
        zlp_fwhm_channels=tuple(round(float(w), 2) for w in np.nanpercentile(widths, [1, 99])),
        channels=(shortest // 2, 2 * gen.channels),
        channels_past_zlp=gen.channels - 1 - gen.zlp_channel,
        zlp_channel_range=zlp_range,
    )


def model_card(model, config: TrainingConfig, *, weights_sha256: str, command: str = "",
               training_time_s: float | None = None, steps: int | None = None) -> ModelCard:
    """The model card of a trained network, before any evaluation.

    Parameters
    ----------
    model
        The trained Keras model.
    config
        Its training configuration.
    weights_sha256
        Checksum of its saved ``model.keras``.
    command, training_time_s, steps
        Provenance (see :func:`export_model`); the training time is
        recorded in whole seconds.

    Returns
    -------
    ModelCard
    """
    keras = import_keras()

    gen = config.generator
    steps = config.steps if steps is None else steps
    return ModelCard.model_validate({
        "name": config.name,
        "description": config.description,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "architecture": {
            "type": "1D U-Net (EELSpecNet)",
            "depth": len(config.network.filters),
            **config.network.model_dump(),
            "trainable_parameters": count_parameters(model),
        },
        "preprocessing": config.preprocessing(),
        "calibration": {"channels": gen.channels, "dispersion_eV": gen.dispersion,
                        "zlp_channel": gen.zlp_channel},
        "domain": _domain(config),
        "generator": gen.model_dump(mode="json"),
        "training": {
            "seed": config.seed,
            "init_from": config.init_from,
            "steps": steps,
            "batch_size": config.batch_size,
            "spectra_seen": steps * config.batch_size,
            "loss": config.loss,
            "linear_loss_weight": config.linear_loss_weight,
            "difference_loss_weight": config.difference_loss_weight,
            "difference_loss_zlp_margin": config.difference_loss_zlp_margin,
            "loss_region_asinh_width": config.loss_region_asinh_width,
            "loss_region_window": (config.loss_region_window
                                   if config.loss_region_asinh_width
                                   or config.loss_region_weight != 1.0 else None),
            "loss_region_weight": config.loss_region_weight,
            "optimiser": config.optimiser.model_dump(),
            "command": command,
            "training_time_s": None if training_time_s is None else round(training_time_s),
            "hardware": _hardware(keras.backend.backend()),
            "backend": keras.backend.backend(),
            "keras_version": keras.__version__,
            "precision": config.precision,
            "earlier_stages": earlier_stages(config.init_from),
        },
        "limitations": [
            "Trained on generated spectra only; check restorations of real "
            "data with the re-convolution test (eelspecnet evaluate --real).",
            "Each spectrum is aligned on its maximum: the ZLP must be the "
            "highest peak.",
        ],
        "weights_sha256": weights_sha256,
    })


def earlier_stages(init_from: str | None) -> list[dict] | None:
    """The stages before a fine-tuning, read from the card of its ``init_from``.

    Parameters
    ----------
    init_from
        The exported model a training started from (a directory with a
        ``card.json``, or its ``model.keras``), or None.

    Returns
    -------
    list of dict or None
        The starting model's own earlier stages (``earlier_stages``, or
        the ``stage1`` of older cards), then the starting model itself:
        its name, seed, steps, batch size, the model it came from, its
        command, training time and weights' sha256. None when training
        started from scratch or ``init_from`` has no card.
    """
    if init_from is None:
        return None
    folder = Path(init_from)
    card_file = (folder if folder.is_dir() else folder.parent) / "card.json"
    if not card_file.exists():
        return None
    card = ModelCard.read(card_file)
    run = card.training
    before = list(run.earlier_stages or ([run.stage1] if run.stage1 else []))
    return before + [{
        "name": card.name, "seed": run.seed, "steps": run.steps,
        "batch_size": run.batch_size, "init_from": run.init_from, "command": run.command,
        "training_time_s": run.training_time_s, "weights_sha256": card.weights_sha256,
    }]


def export_model(model, config: TrainingConfig, out_dir: str | Path, *,
                 command: str = "", training_time_s: float | None = None,
                 steps: int | None = None, overwrite: bool = False) -> Path:
    """Write a model directory and check that it reloads identically.

    Parameters
    ----------
    model
        The trained Keras model.
    config
        Its training configuration.
    out_dir
        Directory to create (e.g. ``hyperspy_eelspecnet/models/<name>``).
    command, training_time_s, steps
        Provenance recorded in the card.
    overwrite
        Replace an existing directory.

    Returns
    -------
    pathlib.Path
        ``out_dir``.

    Raises
    ------
    RuntimeError
        If the reloaded model's predictions differ from the trained one's
        (nothing is written then).
    """
    keras = import_keras()

    from hyperspy_eelspecnet.models import layers  # noqa: F401  (registers the custom layers)
    from hyperspy_eelspecnet.training.network import build_unet

    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite:
        raise FileExistsError(f"{out_dir} exists; pass overwrite=True to replace it")
    tmp = out_dir.with_name(out_dir.name + ".exporting")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        # Trained at a fixed length; exported for any multiple of 2**depth.
        trained = model
        model = build_unet(config.network, None, name=config.name,
                           input_channels=config.preprocessing().input_channels)
        model.set_weights(trained.get_weights())
        model.save(tmp / "model.keras")
        test_input, _ = network_pairs(
            SpectrumGenerator(config.generator, EXPORT_SEED).generate(_TEST_SPECTRA), config
        )
        expected = np.asarray(model.predict_on_batch(test_input))
        reloaded = keras.saving.load_model(tmp / "model.keras", compile=False)
        again = np.asarray(reloaded.predict_on_batch(test_input))
        if not np.allclose(again, expected, rtol=1e-5, atol=1e-7):
            raise RuntimeError(
                "the saved model predicts differently from the trained one "
                f"(max difference {np.abs(again - expected).max():.3g}); not exported"
            )
        np.save(tmp / "test_input.npy", test_input)
        np.save(tmp / "test_output.npy", expected)
        config.to_yaml(tmp / "config.yaml")
        write_card(tmp, model_card(model, config, weights_sha256=file_sha256(tmp / "model.keras"),
                                   command=command, training_time_s=training_time_s,
                                   steps=steps))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(tmp, out_dir)
    return out_dir


def export_run(run_dir: str | Path, out_dir: str | Path, *,
               overwrite: bool = False) -> Path:
    """Export the last checkpoint of a training run (see :func:`export_model`).

    The card records the run's first command (from ``commands.txt``), its
    training time and its steps so far.

    Parameters
    ----------
    run_dir
        Run directory written by :func:`hyperspy_eelspecnet.training.train.train`.
    out_dir
        Model directory to create.
    overwrite
        Replace an existing directory.

    Returns
    -------
    pathlib.Path
        ``out_dir``.

    Raises
    ------
    FileNotFoundError
        If the run directory holds no checkpoint.
    """
    run = RunDir(run_dir)
    if not run.has_checkpoint():
        raise FileNotFoundError(
            f"{run.path} holds no checkpoint ({run.checkpoint_file.name} and "
            f"{run.state_file.name}): train it first (eelspecnet train --run-dir)"
        )
    state = run.read_state()
    return export_model(run.load_checkpoint(), run.read_config(), out_dir,
                        command=run.first_command(), training_time_s=round(state.elapsed_s),
                        steps=state.step, overwrite=overwrite)


def export_refined(base_dir: str | Path, out_dir: str | Path, *, name: str, iterations: int,
                   output: str = "quasi_dirac", reach_fwhm: float | None = None,
                   near_iterations: int | None = None, near_reach_fwhm: float | None = None,
                   significance: float | None = None, command: str = "",
                   overwrite: bool = False) -> Path:
    """Write a model that refines a ZLP-free model's restorations with the reference.

    The network, its test input and output and its training record are
    the base model's, unchanged (the weights' sha256 is checked against
    its card); the card gains ``preprocessing.refinement`` and loses the
    base's figures and limitations, which were measured without it, for
    the refinement's own limitations.

    Parameters
    ----------
    base_dir
        An exported blind ZLP-free model directory.
    out_dir
        Model directory to create.
    name
        The new model's name.
    iterations, output, reach_fwhm, near_iterations, near_reach_fwhm, significance
        The card's ``preprocessing.refinement`` (see
        :class:`~hyperspy_eelspecnet.models.card.Refinement`).
    command
        The command that wrote it, recorded in ``training.reproduce``.
    overwrite
        Replace an existing directory.

    Returns
    -------
    pathlib.Path
        ``out_dir``.

    Raises
    ------
    ValueError
        If the base is not a blind ZLP-free model, or its weights do not
        match its card.
    """
    base_dir, out_dir = Path(base_dir), Path(out_dir)
    if out_dir.exists() and not overwrite:
        raise FileExistsError(f"{out_dir} exists; pass overwrite=True to replace it")
    base = ModelCard.read(base_dir / "card.json")
    if file_sha256(base_dir / "model.keras") != base.weights_sha256:
        raise ValueError(f"{base_dir}/model.keras does not match its card's weights_sha256")
    refinement = Refinement(iterations=iterations, output=output, reach_fwhm=reach_fwhm,
                            near_iterations=near_iterations, near_reach_fwhm=near_reach_fwhm,
                            significance=significance,
                            zlp_fwhm_channels=base.generator.get("zlp_fwhm_channels", 3.0))
    # validated as a card: a base that is not blind and ZLP-free is refused here
    card = base.updated(
        name=name, created=datetime.datetime.now(datetime.UTC).isoformat(),
        description=f"{base.name} refined with the measured vacuum ZLP (psf=): "
        f"{iterations} Richardson-Lucy iterations, from the network's restoration, fit the "
        "reference as the ZLP and the loss spectrum to the measurement"
        + ("" if reach_fwhm is None else f" within {reach_fwhm:g} ZLP FWHMs of the ZLP")
        + ("" if near_iterations is None else
           f", and {near_iterations} more within {near_reach_fwhm:g}")
        + ("" if significance is None else
           f"; the first {iterations} iterations' change is kept where it is significant "
           f"(from {significance:g} times the noise)"
           + ("" if near_reach_fwhm is None else f" and within {near_reach_fwhm:g}"))
        + ". " + base.description,
        preprocessing=base.preprocessing.model_dump() | {"refinement": refinement.model_dump()},
        training=base.training.model_dump() | {"reproduce": (
            f"{command or 'eelspecnet export-refined'}; the network is {base.name}'s: "
            + (base.training.reproduce or ""))},
        limitations=_refined_limitations(base.name, refinement),
        evaluation=None, real_data=None, near_zlp=None)
    tmp = out_dir.with_name(out_dir.name + ".exporting")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(base_dir, tmp)
    try:
        write_card(tmp, card)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(tmp, out_dir)
    return out_dir


def _refined_limitations(base: str, refinement: Refinement) -> tuple[str, ...]:
    """The limitations of a refined model's card, besides its network's."""
    reach = refinement.reach_fwhm
    return (
        "Needs a vacuum recording of the session (psf=), with the map's settings and "
        "binning. A reference that misses the spectra's energy-gain side (a "
        f"ReferenceMismatchWarning) leaves {base}'s blind restoration for that block.",
        "The refinement takes the reference for the ZLP exactly: what a recording of the "
        "session misses of the map's response (minutes apart, another exposure) goes into "
        "the loss spectrum beside the ZLP.",
        *(() if reach is None else (
            f"Refined within {reach:g} ZLP FWHMs (the reference's) of the ZLP only; from "
            f"{1.5 * reach:g} on, the restoration is {base}'s network's.",)),
        f"Each of the {refinement.iterations + (refinement.near_iterations or 0)} iterations "
        "lets some noise through near the "
        "ZLP: the per-pixel errors of card section 'near_zlp' measure it.",
        *(() if refinement.significance is None else (
            "A loss feature that the network missed and that is weaker than "
            f"{2 * refinement.significance:g} times the noise (smoothed over the ZLP's width) "
            "is restored only in part outside the near stage's reach.",)),
        "The ZLP is put where the reference's maximum lies (Richardson-Lucy's convention), "
        "not at the time-averaged beam energy, which can lie a fraction of a channel away.",
        f"Slower than {base}: the iterations take longer than the network "
        "(benchmarks/bench_deconvolve.py --model measures both).",
        f"Its network is {base}'s: that card's limitations hold too. Its figures do not: "
        "this card's sections hold the refined model's (commands recorded there).",
    )
