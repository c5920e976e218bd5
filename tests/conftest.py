"""Shared fixtures: a tiny exported model, EELS signals built in memory."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hyperspy.defaults_parser import preferences  # noqa: E402

import hyperspy_eelspecnet  # noqa: E402,F401  (registers the methods)
from hyperspy_eelspecnet.simulation import GeneratorConfig, SpectrumGenerator  # noqa: E402
from hyperspy_eelspecnet.training import TrainingConfig  # noqa: E402
from hyperspy_eelspecnet.training.network import PRESETS  # noqa: E402

preferences.General.show_progressbar = False

#: Generator of the tiny test model and of the test spectra: 256 channels.
TINY_GENERATOR = GeneratorConfig(channels=256, zlp_channel=50, otf_fwhm_channels=(3.0, 8.0))


def tiny_config(**changes) -> TrainingConfig:
    """A training configuration small enough to train in seconds."""
    settings = dict(name="tiny-test", network=PRESETS["tiny-6"], generator=TINY_GENERATOR,
                    steps=16, batch_size=8, checkpoint_every=8, validation_size=8)
    return TrainingConfig(**(settings | changes))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """Path of a tiny model trained for 16 steps and exported."""
    from hyperspy_eelspecnet.training.export import export_model
    from hyperspy_eelspecnet.training.train import train

    root = tmp_path_factory.mktemp("tiny")
    config = tiny_config()
    result = train(config, root / "run", show_progressbar=False)
    return export_model(result.model, config, root / "model")


@pytest.fixture(scope="session")
def tiny_reference_model(tmp_path_factory):
    """Path of a tiny model that takes a vacuum reference as a second channel."""
    from hyperspy_eelspecnet.simulation import ReferenceConfig
    from hyperspy_eelspecnet.training.export import export_model
    from hyperspy_eelspecnet.training.train import train

    root = tmp_path_factory.mktemp("tiny-reference")
    generator = TINY_GENERATOR.model_copy(update={"reference": ReferenceConfig()})
    config = tiny_config(name="tiny-reference", generator=generator, reference_input="channel")
    result = train(config, root / "run", show_progressbar=False)
    return export_model(result.model, config, root / "model")


def eels_signal(shape=(3, 4), channels=300, zlp_channel=80, counts=1e4, seed=5, lazy=False):
    """An EELSSpectrum of generated spectra, calibrated in eV."""
    import exspy

    n = int(np.prod(shape))
    config = TINY_GENERATOR.model_copy(update={"channels": channels, "zlp_channel": zlp_channel})
    data = SpectrumGenerator(config, seed).generate(n).distorted * counts
    s = exspy.signals.EELSSpectrum(data.reshape(*shape, channels))
    axis = s.axes_manager.signal_axes[0]
    axis.scale, axis.offset = 0.005, -zlp_channel * 0.005
    axis.units, axis.name = "eV", "Energy loss"
    for nav, name in zip(s.axes_manager.navigation_axes, "xy", strict=False):  # 1 or 2 axes
        nav.scale, nav.units, nav.name = 2.5, "nm", name
    s.metadata.General.title = "test map"
    s.original_metadata.set_item("Acquisition.exposure", 0.01)
    return s.as_lazy() if lazy else s
