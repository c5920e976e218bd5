"""The training blocks: batches of fresh spectra, drawn in one process or many.

A run draws its spectra in blocks of a few batches. With the
configuration's ``draws: stream`` every block comes, in turn, from one
random stream, whose state each checkpoint saves. With ``draws: blocks``
the block that starts at step ``s`` comes from its own seed, ``(seed,
s)``: blocks can then be drawn in parallel processes, and a run gives the
same spectra, and on the same backend the same weights, with any number
of them (``eelspecnet train --workers N``). Generating spectra takes
about 2 ms each on one CPU core, so that a GPU trains as fast as the
processes draw.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterator

import numpy as np

from hyperspy_eelspecnet.simulation.generator import SpectrumGenerator
from hyperspy_eelspecnet.training.config import TrainingConfig

#: Batches drawn at once (checkpoints fall on these).
BLOCK = 8

#: Blocks each process draws ahead of the training.
_AHEAD = 2

#: The worker process's generator, built once per process and generator configuration.
_WORKER_GENERATOR: dict[str, SpectrumGenerator] = {}


def block_sizes(step: int, end: int) -> Iterator[tuple[int, int]]:
    """The blocks from ``step`` to ``end``: (first step, batches) of each."""
    while step < end:
        n_batches = min(BLOCK, end - step)
        yield step, n_batches
        step += n_batches


def block_pairs(generator: SpectrumGenerator, config: TrainingConfig, step: int,
                n_batches: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw the block that starts at ``step``: network (input, target) arrays.

    Parameters
    ----------
    generator
        Draws the spectra, from its current random state.
    config
        The training configuration; its ``window_lengths`` are taken in
        turn, block by block.
    step
        The block's first step.
    n_batches
        Batches in the block.

    Returns
    -------
    tuple of numpy.ndarray
        ``n_batches * batch_size`` inputs and targets
        (:func:`hyperspy_eelspecnet.training.train.network_pairs`).
    """
    from hyperspy_eelspecnet.training.train import network_pairs

    windows = config.window_lengths or (config.generator.channels,)
    return network_pairs(generator.generate(n_batches * config.batch_size), config,
                         windows[(step // BLOCK) % len(windows)])


def drawn_blocks(generator: SpectrumGenerator, config: TrainingConfig, step: int,
                 end: int, workers: int = 1
                 ) -> Iterator[tuple[int, tuple[np.ndarray, np.ndarray]]]:
    """Every block from ``step`` to ``end``, in order.

    Parameters
    ----------
    generator
        The run's generator: ``draws: stream`` draws every block from it
        in turn; ``draws: blocks`` reseeds it for each block that this
        process draws.
    config
        The training configuration.
    step, end
        The first step to draw and the step to stop before.
    workers
        Processes that draw the blocks, for ``draws: blocks`` (1: this
        one). The blocks are the same for any number; :func:`check_workers`
        says whether a configuration allows them.

    Yields
    ------
    tuple
        The number of batches in the block and its (inputs, targets).
    """
    if config.draws == "blocks" and workers > 1:
        yield from _parallel_blocks(config, step, end, workers)
        return
    draw = block_pairs if config.draws == "stream" else _seeded_block
    for first, n_batches in block_sizes(step, end):
        yield n_batches, draw(generator, config, first, n_batches)


def check_workers(config: TrainingConfig, workers: int) -> None:
    """Check that ``workers`` processes can draw ``config``'s spectra.

    Raises
    ------
    ValueError
        If ``workers`` is below 1, or above 1 with ``draws: stream``, whose
        blocks can only be drawn one after another.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if config.draws == "stream" and workers > 1:
        raise ValueError(
            f"{config.name} draws its spectra from one stream (draws: stream), which "
            "only one process can draw from: set draws: blocks in the configuration "
            "to draw in parallel, or train with one worker"
        )


def block_rng(config: TrainingConfig, step: int) -> np.random.Generator:
    """The random stream of the block that starts at ``step`` (``draws: blocks``)."""
    return np.random.default_rng([config.seed, step])


def _parallel_blocks(config: TrainingConfig, step: int, end: int, workers: int
                     ) -> Iterator[tuple[int, tuple[np.ndarray, np.ndarray]]]:
    """Blocks drawn by ``workers`` spawned processes, a few ahead, in order."""
    # Spawned, not forked: the training process runs the backend's threads.
    context = multiprocessing.get_context("spawn")
    sizes = block_sizes(step, end)
    with context.Pool(workers) as pool:
        pending = deque()

        def submit() -> None:
            block = next(sizes, None)
            if block is not None:
                pending.append((block[1], pool.apply_async(_worker_block, (config, *block))))

        for _ in range(_AHEAD * workers):
            submit()
        while pending:
            n_batches, result = pending.popleft()
            submit()
            yield n_batches, result.get()


def _seeded_block(generator: SpectrumGenerator, config: TrainingConfig, step: int,
                  n_batches: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw the block that starts at ``step`` from its own seed (``draws: blocks``)."""
    generator.rng = block_rng(config, step)
    return block_pairs(generator, config, step, n_batches)


def _worker_block(config: TrainingConfig, step: int, n_batches: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Draw one block in a worker process, with the process's own generator."""
    key = config.generator.model_dump_json()
    if key not in _WORKER_GENERATOR:
        _WORKER_GENERATOR.clear()
        _WORKER_GENERATOR[key] = SpectrumGenerator(config.generator, seed=config.seed)
    return _seeded_block(_WORKER_GENERATOR[key], config, step, n_batches)
