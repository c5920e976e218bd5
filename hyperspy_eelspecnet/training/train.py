"""Train a network on spectra generated on the fly, with checkpoints.

Every step draws a fresh batch from the generator, so no spectrum is seen
twice. A run directory holds the configuration, the last checkpoint (the
model with its optimiser state, and the generator's random state), and a
history CSV; an interrupted run resumes from its checkpoint and, on the
same backend, ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from hyperspy_eelspecnet.inference.alignment import alignment_shifts, shift_spectra
from hyperspy_eelspecnet.inference.reference import network_input
from hyperspy_eelspecnet.inference.value_scale import to_network
from hyperspy_eelspecnet.models.keras_import import import_keras
from hyperspy_eelspecnet.simulation.generator import GeneratedSet, SpectrumGenerator
from hyperspy_eelspecnet.training.config import TrainingConfig
from hyperspy_eelspecnet.training.draws import BLOCK, check_workers, drawn_blocks
from hyperspy_eelspecnet.training.run_dir import RunDir, RunState

_HISTORY_FIELDS = ["step", "loss", "val_loss", "val_mse", "learning_rate", "elapsed_s"]


@dataclass
class TrainingResult:
    """What :func:`train` leaves behind."""

    run_dir: Path
    model: object
    steps: int
    elapsed_s: float


def network_pairs(batch: GeneratedSet, config: TrainingConfig, length: int | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Turn generated spectra into the network's (input, target) arrays.

    The same input as inference
    (:func:`hyperspy_eelspecnet.inference.reference.network_input`): each
    distorted spectrum is moved by whole channels so that its maximum
    sits on the trained ZLP channel, with its vacuum reference for a
    reference model; the target is moved with the spectrum; all are
    mapped to the configured value scale
    (:mod:`hyperspy_eelspecnet.inference.value_scale`).

    Parameters
    ----------
    batch
        Generated spectra.
    config
        The training configuration.
    length
        The network's window; None for ``generator.channels``. A shorter
        window ends each spectrum and its target where the window ends
        (Richardson-Lucy's input too), and both are scaled so that what is
        left of the spectrum has unit integral: what inference makes of a
        measurement that ends there.

    Returns
    -------
    tuple of numpy.ndarray
        Float32 arrays of shape (n, length, input channels) and
        (n, length, 1).
    """
    gen = config.generator
    length = gen.channels if length is None else length
    shifts = alignment_shifts(batch.distorted, gen.zlp_channel)
    pre = config.preprocessing()
    reference = batch.reference if pre.takes_reference else None
    distorted, target = batch.distorted, batch.target
    if length < gen.channels:  # the measurement, had it ended where the window ends
        inside = np.arange(gen.channels)[None, :] + shifts[:, None] < length
        held = np.where(inside, distorted, 0).sum(axis=1, keepdims=True)
        distorted = np.where(inside, distorted, 0) / held
        target = np.where(inside, target, 0) / held
    x = network_input(distorted, shifts, length, pre, reference)
    y = to_network(shift_spectra(target, shifts, length), pre)
    return x, y[..., None].astype(np.float32)


def _learning_rate_schedule(config: TrainingConfig):
    keras = import_keras()

    opt = config.optimiser
    warmup = min(opt.warmup_steps, config.steps - 1)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=opt.learning_rate * 1e-2 if warmup else opt.learning_rate,
        decay_steps=max(config.steps - warmup, 1),
        alpha=opt.final_learning_rate_fraction,
        warmup_target=opt.learning_rate if warmup else None,
        warmup_steps=warmup,
    )


def compile_model(model, config: TrainingConfig) -> None:
    """Compile with Adam, the configured loss and MSE as a metric."""
    keras = import_keras()

    from hyperspy_eelspecnet.training.losses import AsinhLinearMSE

    loss = config.loss
    gen = config.generator
    if config.linear_loss_weight > 0:
        loss = AsinhLinearMSE(config.asinh_width, config.linear_loss_weight,
                              config.difference_loss_weight,
                              config.difference_loss_zlp_margin,
                              config.loss_region_asinh_width,
                              config.loss_region_window,
                              config.loss_region_weight,
                              gen.zlp_channel if gen.target == "zlp_free" else None)
    model.compile(
        optimizer=keras.optimizers.Adam(
            learning_rate=_learning_rate_schedule(config),
            clipnorm=config.optimiser.clipnorm,
        ),
        loss=loss,
        metrics=["mse"],
    )


def _seed_everything(seed: int) -> None:
    keras = import_keras()

    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def validation_seed(seed: int) -> int:
    """Seed of a run's validation set; evaluation must use neither."""
    return seed + 1


def train(
    config: TrainingConfig,
    run_dir: str | Path,
    *,
    show_progressbar: bool = True,
    stop_after: int | None = None,
    workers: int = 1,
) -> TrainingResult:
    """Train (or resume training) a network described by ``config``.

    Parameters
    ----------
    config
        The full training configuration.
    run_dir
        Directory of the run. If it holds a checkpoint of the same
        configuration, training resumes from it.
    show_progressbar
        Show a progress bar over the steps.
    stop_after
        Stop (with a checkpoint) after this many steps in total, as if
        interrupted; None trains to ``config.steps``.
    workers
        Processes that draw the spectra, for a configuration with ``draws:
        blocks`` (:mod:`hyperspy_eelspecnet.training.draws`): the same
        spectra, and weights, for any number.

    Returns
    -------
    TrainingResult

    Raises
    ------
    ValueError
        If ``workers`` cannot draw this configuration's spectra
        (:func:`hyperspy_eelspecnet.training.draws.check_workers`), or
        ``run_dir`` holds a run of another configuration.
    """
    keras = import_keras()

    from hyperspy_eelspecnet.models import layers  # noqa: F401  (registers the custom layers)
    from hyperspy_eelspecnet.training.network import build_unet

    check_workers(config, workers)
    run = RunDir(run_dir)
    run.path.mkdir(parents=True, exist_ok=True)
    _check_same_config(config, run.config_file)
    _seed_everything(config.seed)

    generator = SpectrumGenerator(config.generator, seed=config.seed)
    val_x, val_y = network_pairs(
        SpectrumGenerator(config.generator, validation_seed(config.seed)).generate(
            config.validation_size
        ),
        config,
    )
    if run.has_checkpoint():
        model = run.load_checkpoint(compile=True)
        state = run.read_state()
        generator.rng.bit_generator.state = state.rng
        step, elapsed = state.step, state.elapsed_s
    else:
        # Any length when the blocks change windows.
        length = None if config.window_lengths else config.generator.channels
        model = build_unet(config.network, length, name=config.name,
                           precision=config.precision,
                           input_channels=config.preprocessing().input_channels)
        if config.init_from:
            start_from = keras.saving.load_model(_weights_path(config.init_from), compile=False)
            model.set_weights(_widened_weights(start_from.get_weights(), model.get_weights()))
        compile_model(model, config)
        step, elapsed = 0, 0.0
        _write_history_header(run.history_file)

    end = min(config.steps, stop_after or config.steps)
    every = -(-config.checkpoint_every // BLOCK) * BLOCK
    losses: list[float] = []
    start = time.perf_counter() - elapsed
    bar = tqdm(total=config.steps, initial=step, disable=not show_progressbar,
               desc=f"training {config.name}", unit="step")
    for n_batches, (x, y) in drawn_blocks(generator, config, step, end, workers):
        for i in range(n_batches):
            rows = slice(i * config.batch_size, (i + 1) * config.batch_size)
            losses.append(float(model.train_on_batch(x[rows], y[rows])[0]))
        step += n_batches
        bar.update(n_batches)
        bar.set_postfix(loss=f"{np.mean(losses[-50:]):.6f}")
        if step % every == 0 or step == end:
            elapsed = time.perf_counter() - start
            _checkpoint(model, generator, run, step, elapsed, losses, val_x, val_y)
            losses = []
    bar.close()
    return TrainingResult(run.path, model, step, time.perf_counter() - start)


def _widened_weights(source: list, target: list) -> list:
    """``source``'s weights for a network that may take more input channels.

    Every weight must have the target's shape, except the first
    convolution's kernel, which may have fewer input channels: its new
    input channels start at zero, so that the fine-tuned network starts
    as exactly the network it came from, blind to the new inputs.

    Raises
    ------
    ValueError
        If the layouts differ otherwise.
    """
    if len(source) != len(target):
        raise ValueError("init_from has another network layout (a different number of "
                         "weights): fine-tune from a model of the same layout")
    widened = []
    for index, (old, new) in enumerate(zip(source, target, strict=True)):
        if old.shape == new.shape:
            widened.append(old)
        elif index == 0 and old.ndim == 3 and old.shape[::2] == new.shape[::2] \
                and old.shape[1] < new.shape[1]:
            wide = np.zeros(new.shape, dtype=old.dtype)
            wide[:, : old.shape[1]] = old
            widened.append(wide)
        else:
            raise ValueError(f"init_from has another network layout: weight {index} has "
                             f"shape {old.shape}, this network's {new.shape}")
    return widened


def _weights_path(path: str) -> Path:
    """``model.keras`` of an exported model directory, or the file itself."""
    path = Path(path)
    return path / "model.keras" if path.is_dir() else path


def _check_same_config(config: TrainingConfig, path: Path) -> None:
    if path.exists():
        saved = TrainingConfig.from_yaml(path)
        if saved != config:
            raise ValueError(
                f"{path.parent} holds a run of a different configuration; "
                "use a new run directory or delete the old one"
            )
    else:
        config.to_yaml(path)


def _write_history_header(path: Path) -> None:
    with open(path, "w", newline="") as f:
        csv.writer(f).writerow(_HISTORY_FIELDS)


def _checkpoint(model, generator, run: RunDir, step, elapsed, losses, val_x, val_y) -> None:
    """Validate, append to the history, and save model and state atomically."""
    scores = model.evaluate(val_x, val_y, batch_size=256, verbose=0, return_dict=True)
    val_loss, val_mse = scores["loss"], scores["mse"]
    lr = model.optimizer.learning_rate
    with open(run.history_file, "a", newline="") as f:
        csv.writer(f).writerow([step, np.mean(losses) if losses else np.nan, val_loss,
                                val_mse, float(np.asarray(lr)), round(elapsed, 1)])
    run.save_checkpoint(model)
    run.write_state(RunState(step, elapsed, generator.rng.bit_generator.state))
