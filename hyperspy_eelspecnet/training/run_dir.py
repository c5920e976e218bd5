"""The files of a training run directory, named once for training and export.

:func:`hyperspy_eelspecnet.training.train.train` writes a run directory
and :func:`hyperspy_eelspecnet.training.export.export_run` reads it; both
name its files through :class:`RunDir`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from hyperspy_eelspecnet.models.keras_import import import_keras
from hyperspy_eelspecnet.training.config import TrainingConfig


@dataclass(frozen=True)
class RunState:
    """Where a run stands at its last checkpoint.

    Attributes
    ----------
    step
        Training steps done.
    elapsed_s
        Training time so far, in seconds.
    rng
        State of the generator's random bit generator, to resume from.
    """

    step: int
    elapsed_s: float
    rng: dict


@dataclass(frozen=True)
class RunDir:
    """A training run directory and the files in it.

    Parameters
    ----------
    path
        The directory (it need not exist yet).
    """

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    @property
    def config_file(self) -> Path:
        """``config.yaml``: the full configuration, defaults included."""
        return self.path / "config.yaml"

    @property
    def checkpoint_file(self) -> Path:
        """``checkpoint.keras``: the model with its optimiser state."""
        return self.path / "checkpoint.keras"

    @property
    def state_file(self) -> Path:
        """``state.json``: the :class:`RunState` of the checkpoint."""
        return self.path / "state.json"

    @property
    def history_file(self) -> Path:
        """``history.csv``: losses and learning rate per checkpoint."""
        return self.path / "history.csv"

    @property
    def commands_file(self) -> Path:
        """``commands.txt``: every command that trained this run, one a line."""
        return self.path / "commands.txt"

    def has_checkpoint(self) -> bool:
        """Whether the run holds a checkpoint to resume or export."""
        return self.checkpoint_file.exists() and self.state_file.exists()

    def read_config(self) -> TrainingConfig:
        """The run's training configuration."""
        return TrainingConfig.from_yaml(self.config_file)

    def read_state(self) -> RunState:
        """The :class:`RunState` of the last checkpoint."""
        return RunState(**json.loads(self.state_file.read_text()))

    def write_state(self, state: RunState) -> None:
        """Replace ``state.json`` in one step (an interruption leaves the old one)."""
        tmp = self.path / "state.tmp.json"
        tmp.write_text(json.dumps(asdict(state)))
        os.replace(tmp, self.state_file)

    def save_checkpoint(self, model) -> None:
        """Replace ``checkpoint.keras`` with ``model`` in one step."""
        tmp = self.path / "checkpoint.tmp.keras"
        model.save(tmp)
        os.replace(tmp, self.checkpoint_file)

    def load_checkpoint(self, *, compile: bool = False):
        """The checkpointed Keras model.

        Parameters
        ----------
        compile
            Restore the loss and optimiser state too (to resume training).

        Returns
        -------
        keras.Model
        """
        keras = import_keras()

        from hyperspy_eelspecnet.models import layers  # noqa: F401  (registers the custom layers)
        from hyperspy_eelspecnet.training.losses import AsinhLinearMSE  # noqa: F401  (registers the loss)

        return keras.saving.load_model(self.checkpoint_file, compile=compile)

    def record_command(self, command: str) -> None:
        """Append a command to ``commands.txt``, creating the directory."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.commands_file, "a") as f:
            f.write(command + "\n")

    def first_command(self) -> str:
        """The command that started the run; empty if none was recorded."""
        if not self.commands_file.exists():
            return ""
        commands = self.commands_file.read_text().splitlines()
        return commands[0] if commands else ""
