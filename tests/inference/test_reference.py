"""A model that takes the measured vacuum ZLP: its input, its misuse, its start."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import TINY_GENERATOR, tiny_config

from hyperspy_eelspecnet.inference.alignment import alignment_shifts, shift_spectra
from hyperspy_eelspecnet.inference.reference import (
    network_input,
    reference_rows,
    subtract_reference,
)
from hyperspy_eelspecnet.inference.restore import restore_spectra
from hyperspy_eelspecnet.models.card import Preprocessing
from hyperspy_eelspecnet.models.registry import resolve_model
from hyperspy_eelspecnet.restoration.richardson_lucy import richardson_lucy_kernel
from hyperspy_eelspecnet.simulation import ReferenceConfig, SpectrumGenerator


@pytest.fixture(scope="module")
def measured():
    """Spectra with their vacuum references (tiny generator, 256 channels)."""
    config = TINY_GENERATOR.model_copy(update={"reference": ReferenceConfig()})
    batch = SpectrumGenerator(config, seed=21).generate(6)
    return batch.distorted * 1e4, batch.reference


def test_blind_model_refuses_a_reference(tiny_model, measured):
    spectra, reference = measured
    with pytest.raises(ValueError, match="is blind: it takes no vacuum reference"):
        restore_spectra(spectra, resolve_model(tiny_model), reference=reference[0])


def test_reference_model_refuses_to_run_without_one(tiny_reference_model, measured):
    with pytest.raises(ValueError, match="needs the measured vacuum ZLP: pass psf="):
        restore_spectra(measured[0], resolve_model(tiny_reference_model))


def test_card_and_test_input_record_the_reference(tiny_reference_model):
    spec = resolve_model(tiny_reference_model)
    assert spec.preprocessing.reference == "channel"
    assert spec.preprocessing.input_channels == 2
    assert np.load(spec.path / "test_input.npy").shape[-1] == 2


def test_reference_of_another_offset_length_and_scale_gives_the_same_restoration(
        tiny_reference_model, measured):
    spectra, reference = measured
    spec = resolve_model(tiny_reference_model)
    one = reference[0]
    expected = restore_spectra(spectra, spec, reference=one)
    # The same recording 37 channels later, longer and in other units.
    moved = np.concatenate([np.zeros(37), one, np.zeros(11)]) * 5.0
    np.testing.assert_allclose(restore_spectra(spectra, spec, reference=moved), expected,
                               rtol=1e-5, atol=1e-6 * spectra.max())


def test_one_reference_per_spectrum(tiny_reference_model, measured):
    spectra, reference = measured
    spec = resolve_model(tiny_reference_model)
    shared = restore_spectra(spectra, spec, reference=reference[0])
    tiled = restore_spectra(spectra, spec, reference=np.tile(reference[0], (6, 1)))
    np.testing.assert_array_equal(tiled, shared)
    own = restore_spectra(spectra, spec, reference=reference)
    # Each spectrum used its own reference: only the first row is the same.
    np.testing.assert_allclose(own[0], shared[0], rtol=1e-6, atol=1e-6 * spectra.max())
    assert not np.allclose(own[1:], shared[1:])


@pytest.mark.parametrize(
    "bad, message",
    [(np.ones((4, 100)), r"shape \(4, 100\)"), (np.r_[1.0, np.nan, 2.0], "NaN or inf"),
     (np.zeros(50), "total is not positive"), (np.ones((6, 1)), "1 channel: a vacuum"),
     (np.ones(1), "1 channel: a vacuum")],
    ids=["rows", "nan", "zero", "one-channel", "one-value"],
)
def test_unusable_references_are_refused_by_name(bad, message):
    with pytest.raises(ValueError, match=message):
        reference_rows(bad, 6)


def test_richardson_lucy_input_carries_its_restoration_between_spectrum_and_reference(
        measured):
    spectra, reference = measured
    pre = Preprocessing(scale="offset", offset=0.0, zlp_channel=50, length=256,
                        length_multiple=64, target="quasi_dirac", reference="richardson_lucy",
                        reference_iterations=5)
    normalised = spectra / spectra.sum(1, keepdims=True)
    shifts = alignment_shifts(normalised, 50)
    rows = reference_rows(reference, 6)
    x = network_input(normalised, shifts, 256, pre, rows)
    assert x.shape == (6, 256, 3)
    restored = richardson_lucy_kernel(np.clip(normalised, 0, None), rows, 5)
    np.testing.assert_allclose(x[..., 1], shift_spectra(restored, shifts, 256), rtol=1e-5,
                               atol=1e-9)
    np.testing.assert_array_equal(x[..., 0].argmax(1), 50)
    np.testing.assert_array_equal(x[..., 2].argmax(1), 50)


def test_subtracted_input_leaves_what_lies_beside_the_zlp_whatever_the_zlp_share():
    channels = np.arange(256, dtype=float)
    zlp = 1 / (1 + ((channels - 50) / 4) ** 2)
    phonon = 0.01 * np.exp(-0.5 * ((channels - 70) / 2) ** 2)
    plasmon = 0.06 / (1 + ((channels - 160) / 30) ** 2)
    # The losses hold 28 % of the counts: normalised to unit integral, the
    # spectrum's ZLP is smaller than the unit-integral reference.
    spectrum = zlp + phonon + plasmon
    spectrum /= spectrum.sum()
    reference = zlp / zlp.sum()
    subtracted = subtract_reference(spectrum[None], reference[None])[0]
    expected = (phonon + plasmon) / (zlp + phonon + plasmon).sum()
    band = slice(65, 76)
    # The plain difference would take away more than the phonon there is.
    assert (spectrum - reference)[band].sum() < 0
    assert subtracted[band].sum() == pytest.approx(expected[band].sum(), rel=0.03)
    # Beside the ZLP's core the only error is the losses' share of that core.
    beside = np.abs(channels - 50) > 4
    np.testing.assert_allclose(subtracted[beside], expected[beside], atol=0.05 * expected.max())

    pre = Preprocessing(scale="offset", offset=0.0, zlp_channel=50, length=256,
                        length_multiple=64, target="quasi_dirac", reference="subtracted")
    x = network_input(spectrum[None], np.zeros(1, int), 256, pre, reference[None] * 3.0)
    assert pre.input_channels == 2 and x.shape == (1, 256, 2)
    np.testing.assert_allclose(x[0, :, 1], subtracted, atol=1e-7)


def test_widened_network_starts_as_the_blind_one_it_came_from():
    from hyperspy_eelspecnet.training.network import build_unet
    from hyperspy_eelspecnet.training.train import _widened_weights

    network = tiny_config().network
    blind = build_unet(network, 256)
    wide = build_unet(network, 256, input_channels=3)
    wide.set_weights(_widened_weights(blind.get_weights(), wide.get_weights()))
    x = np.random.default_rng(0).uniform(0, 1, (2, 256, 3)).astype(np.float32)
    np.testing.assert_allclose(wide.predict_on_batch(x), blind.predict_on_batch(x[..., :1]),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="another network layout"):
        _widened_weights(blind.get_weights(), build_unet(
            network.model_copy(update={"filters": (4, 8, 8, 8, 8, 16)}), 256).get_weights())
