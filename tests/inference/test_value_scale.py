"""The value scale between unit-integral spectra and the network."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import tiny_config
from pydantic import ValidationError

from hyperspy_eelspecnet.inference.value_scale import from_network, to_network
from hyperspy_eelspecnet.models.card import ValueScale

ASINH = ValueScale(scale="asinh", asinh_width=1e-6)
OFFSET = ValueScale(scale="offset", offset=1e-3)


@pytest.mark.parametrize("pre", [ASINH, OFFSET])
def test_round_trip_gives_back_the_spectrum(pre):
    x = np.array([-3e-6, 0.0, 2e-7, 1.6e-5, 4e-3, 0.3, 1.0])
    np.testing.assert_allclose(from_network(to_network(x, pre), pre), x, rtol=1e-12, atol=1e-18)


def test_asinh_weighs_every_decade_alike_and_keeps_noise_symmetric():
    y = to_network(np.array([1e-4, 1e-3, 1e-2, 1e-1, 1.0, -1e-9, 1e-9]), ASINH)
    decades = np.diff(y[:4])
    np.testing.assert_allclose(decades, decades[0], rtol=1e-3)  # logarithmic above the width
    assert y[4] == pytest.approx(1.0)
    assert y[5] == pytest.approx(-y[6])  # linear through zero: noise stays zero-mean
    # a 1 % error costs the same on the loss region as on the ZLP
    small, large = (to_network(v * 1.01, ASINH) - to_network(v, ASINH) for v in (2e-5, 0.2))
    assert small == pytest.approx(large, rel=0.01)


def test_offset_scale_is_the_papers_plus_offset():
    np.testing.assert_allclose(to_network(np.array([0.0, 0.5]), OFFSET), [1e-3, 0.501])


@pytest.mark.parametrize("section, message", [
    ({"scale": "log", "offset": 1e-3}, "scale\n  Input should be 'offset' or 'asinh'"),
    ({"scale": "asinh"}, "scale 'asinh' needs asinh_width"),
    ({"offset": 1e-3}, "scale\n  Field required"),  # no default scale
    ({"scale": "asinh", "asinh_width": 1e-6, "offset": 1e-3},
     "offset does not belong to scale 'asinh'"),
])
def test_a_value_scale_is_one_known_scale_with_its_parameter(section, message):
    with pytest.raises(ValidationError, match=message):
        ValueScale(**section)


@pytest.mark.parametrize("changes, message", [
    ({"loss": "binary_crossentropy"}, "not binary_crossentropy"),
    ({"loss": "mse", "network": {"filters": (4, 8), "output_activation": "positive_tanh"}},
     "output_activation 'linear'"),
])
def test_config_rejects_asinh_with_a_bounded_loss_or_output(changes, message):
    with pytest.raises(ValidationError, match=message):
        tiny_config(value_scale="asinh", **changes)


@pytest.mark.slow
def test_asinh_model_restores_on_the_scale_it_was_trained_on(tmp_path):
    from hyperspy_eelspecnet.inference.restore import restore_spectra
    from hyperspy_eelspecnet.models.registry import load_network, resolve_model
    from hyperspy_eelspecnet.simulation.generator import SpectrumGenerator
    from hyperspy_eelspecnet.training.export import export_model
    from hyperspy_eelspecnet.training.train import network_pairs, train

    config = tiny_config(value_scale="asinh", loss="mse", linear_loss_weight=1e3, steps=8,
                         network={"filters": (4, 8, 8, 8, 8, 8), "output_activation": "linear"})
    train(config, tmp_path / "run", show_progressbar=False, stop_after=4)
    resumed = train(config, tmp_path / "run", show_progressbar=False)  # reloads the loss
    assert resumed.steps == 8
    model_dir = export_model(resumed.model, config, tmp_path / "model")
    spec = resolve_model(model_dir)
    assert spec.preprocessing == config.preprocessing()
    assert (spec.preprocessing.scale, spec.preprocessing.offset) == ("asinh", None)
    batch = SpectrumGenerator(config.generator, 3).generate(4)
    x, _ = network_pairs(batch, config)  # ZLP already on the trained channel
    assert x.min() < 0 < x.max() <= 1  # the asinh scale, not the offset one
    aligned = from_network(x[..., 0], spec.preprocessing)
    aligned /= aligned.sum(axis=1, keepdims=True)
    network = load_network(str(spec.path), spec.sha256)
    inputs = to_network(aligned, spec.preprocessing).astype(np.float32)[..., None]
    expected = from_network(network.predict_on_batch(inputs)[..., 0], spec.preprocessing)
    expected /= expected.sum(axis=1, keepdims=True)
    restored = restore_spectra(aligned * 1e4, spec)
    np.testing.assert_allclose(restored / 1e4, expected, rtol=1e-3, atol=1e-6)


def test_asinh_linear_loss_adds_the_unit_integral_error():
    from hyperspy_eelspecnet.training.losses import AsinhLinearMSE

    pre = ASINH
    truth = np.array([[0.0, 2e-5, 0.3, 2e-5]])
    guess = np.array([[1e-7, 2.2e-5, 0.297, 2e-5]])
    y_true, y_pred = (to_network(v, pre)[..., None].astype(np.float32) for v in (truth, guess))
    loss = AsinhLinearMSE(1e-6, linear_weight=1e4)
    expected = np.mean((y_pred - y_true) ** 2) + 1e4 * np.mean((guess - truth) ** 2)
    assert float(loss(y_true, y_pred)) == pytest.approx(expected, rel=1e-3)
    # the ZLP's 1 % error dominates; on the asinh scale alone the 10 % one does
    zlp_only = guess.copy()
    zlp_only[0, 1] = truth[0, 1]
    zlp_only_pred = to_network(zlp_only, pre)[..., None].astype(np.float32)
    assert float(loss(y_true, zlp_only_pred)) > 0.5 * expected


def test_difference_term_costs_channel_to_channel_noise_more_than_a_smooth_error():
    import keras

    from hyperspy_eelspecnet.training.losses import AsinhLinearMSE

    rng = np.random.default_rng(0)
    y_true = np.full((2, 256, 1), 0.3, dtype=np.float32)
    noise = rng.normal(0, 0.01, (1, 256, 1))
    smooth = np.full((1, 256, 1), np.sqrt(np.mean(noise ** 2)))  # same squared error
    y_pred = (y_true + np.concatenate([noise, smooth])).astype(np.float32)
    plain = AsinhLinearMSE(1e-6, linear_weight=0.0)
    weighted = AsinhLinearMSE(1e-6, linear_weight=0.0, difference_weight=10.0)
    assert [float(plain(y_true[i:i + 1], y_pred[i:i + 1])) for i in range(2)] == (
        pytest.approx([np.mean(noise ** 2)] * 2, rel=1e-3))
    noisy, level = (float(weighted(y_true[i:i + 1], y_pred[i:i + 1])) for i in range(2))
    assert level == pytest.approx(np.mean(noise ** 2), rel=1e-3)  # a flat error has no steps
    # white noise: steps have twice its variance, so 1 + 10 * 2 times the plain loss
    assert noisy == pytest.approx(21 * np.mean(noise ** 2), rel=0.15)
    restored = keras.losses.deserialize(keras.losses.serialize(weighted))
    assert (restored.difference_weight, restored.difference_zlp_margin) == (10.0, 0)


def test_difference_term_leaves_out_the_zlp_margin_only():
    from hyperspy_eelspecnet.training.losses import AsinhLinearMSE

    y_true = np.zeros((1, 128, 1), dtype=np.float32)
    y_true[0, 40] = 0.9  # the quasi-Dirac ZLP
    at_zlp, far = y_true.copy(), y_true.copy()
    at_zlp[0, 38] += 0.1  # an error on the ZLP's flank
    far[0, 90] += 0.1  # the same error in the loss region
    everywhere = AsinhLinearMSE(1e-6, 0.0, difference_weight=1.0)
    margin = AsinhLinearMSE(1e-6, 0.0, difference_weight=1.0, difference_zlp_margin=4)
    plain = 0.01 / 128  # the asinh term of either error
    steps = 2 * 0.01 / 127  # two steps, into the error and out of it
    assert float(everywhere(y_true, at_zlp)) == pytest.approx(plain + steps, rel=1e-4)
    assert float(margin(y_true, at_zlp)) == pytest.approx(plain, rel=1e-4)
    assert float(margin(y_true, far)) == pytest.approx(plain + steps, rel=1e-4)


def _best_answer_to_peak_or_no_peak(loss, height: float) -> float:
    """The value at channel 60 that ``loss`` prefers when a peak of ``height`` there is as
    likely as none (ZLP at channel 40): the lowest summed loss over both truths."""
    pre = ASINH
    truths = np.zeros((2, 128))
    truths[:, 40] = 0.9
    truths[1, 60] = height
    answers = np.linspace(0.0, height, 201)
    guesses = np.repeat(truths[:1], answers.size, axis=0)
    guesses[:, 60] = answers
    y_pred = to_network(guesses, pre)[..., None].astype(np.float32)
    total = sum(
        np.asarray(loss.call(np.repeat(to_network(truth[None], pre)[..., None], answers.size, 0)
                             .astype(np.float32), y_pred))
        for truth in truths)
    return float(answers[np.argmin(total)])


def test_a_wider_asinh_scale_near_the_zlp_keeps_an_uncertain_peaks_mean_count():
    from hyperspy_eelspecnet.training.losses import AsinhLinearMSE

    height = 1e-4  # a phonon beside the ZLP, per channel of unit-integral spectra
    narrow = AsinhLinearMSE(1e-6, linear_weight=3000.0)
    wide = AsinhLinearMSE(1e-6, linear_weight=3000.0, loss_region_asinh_width=1e-4,
                          loss_region_window=(3, 160))
    # the narrow scale answers with a mean of logarithms: a seventh of the mean count
    assert _best_answer_to_peak_or_no_peak(narrow, height) < 0.2 * height / 2
    assert _best_answer_to_peak_or_no_peak(wide, height) == pytest.approx(height / 2, rel=0.12)


def test_the_wider_scale_applies_in_its_window_only():
    import keras

    from hyperspy_eelspecnet.training.losses import AsinhLinearMSE

    y_true = np.zeros((1, 128, 1), dtype=np.float32)
    y_true[0, 40] = 0.9
    narrow = AsinhLinearMSE(1e-6, linear_weight=0.0)
    wide = AsinhLinearMSE(1e-6, linear_weight=0.0, loss_region_asinh_width=1e-4,
                          loss_region_window=(3, 40))
    value = 2e-5  # on the wide scale nearly linear: asinh(0.2) / asinh(1e4)
    for channel, inside in ((42, False), (37, False), (44, True), (10, True), (80, True),
                            (81, False), (120, False)):
        guess = y_true.copy()
        guess[0, channel] = to_network(np.array([value]), ASINH)[0]
        expected = (np.arcsinh(value / 1e-4) / np.arcsinh(1e4)) ** 2 / 128 if inside else (
            float(narrow(y_true, guess)))
        assert float(wide(y_true, guess)) == pytest.approx(expected, rel=1e-3), channel
    restored = keras.losses.deserialize(keras.losses.serialize(wide))
    assert (restored.loss_region_asinh_width, restored.loss_region_window) == (1e-4, (3, 40))


def test_the_loss_region_weight_multiplies_the_windows_errors_only():
    import keras

    from hyperspy_eelspecnet.training.losses import AsinhLinearMSE

    y_true = np.zeros((1, 128, 1), dtype=np.float32)
    y_true[0, 40] = 0.9
    plain = AsinhLinearMSE(1e-6, linear_weight=0.0, loss_region_window=(3, 40))
    weighted = AsinhLinearMSE(1e-6, linear_weight=0.0, loss_region_window=(3, 40),
                              loss_region_weight=20.0)
    for channel, inside in ((42, False), (44, True), (10, True), (81, False)):
        guess = y_true.copy()
        guess[0, channel] = 0.3
        factor = 20.0 if inside else 1.0
        assert float(weighted(y_true, guess)) == pytest.approx(
            factor * float(plain(y_true, guess)), rel=1e-5), channel
    restored = keras.losses.deserialize(keras.losses.serialize(weighted))
    assert restored.loss_region_weight == 20.0


def test_a_zlp_free_targets_window_is_measured_from_the_aligned_zlp():
    from hyperspy_eelspecnet.training.losses import AsinhLinearMSE

    y_true = np.zeros((1, 128, 1), dtype=np.float32)
    y_true[0, 90] = to_network(np.array([1e-3]), ASINH)[0]  # a plasmon; no ZLP in the target
    wide = AsinhLinearMSE(1e-6, linear_weight=0.0, loss_region_asinh_width=1e-4,
                          loss_region_window=(3, 20), zlp_channel=40)
    narrow = AsinhLinearMSE(1e-6, linear_weight=0.0)
    value = 2e-5
    for channel, inside in ((50, True), (42, False), (70, False), (88, False)):
        guess = y_true.copy()
        guess[0, channel] = to_network(np.array([value]), ASINH)[0]
        expected = (np.arcsinh(value / 1e-4) / np.arcsinh(1e4)) ** 2 / 128 if inside else (
            float(narrow(y_true, guess)))
        assert float(wide(y_true, guess)) == pytest.approx(expected, rel=1e-3), channel


@pytest.mark.parametrize("changes, message", [
    ({"difference_loss_weight": 1.0}, "difference_loss_weight is a term of the asinh loss"),
    ({"linear_loss_weight": 1.0, "difference_loss_zlp_margin": 8},
     "difference_loss_zlp_margin does nothing without difference_loss_weight"),
    ({"loss_region_asinh_width": 1e-4},
     "loss_region_asinh_width is a term of the asinh loss"),
    ({"loss_region_weight": 10.0}, "loss_region_weight is a term of the asinh loss"),
    ({"linear_loss_weight": 1.0, "loss_region_asinh_width": 1e-4,
      "loss_region_window": [160, 3]}, r"needs 0 <= inner < outer"),
])
def test_config_rejects_a_loss_term_that_would_not_apply(changes, message):
    with pytest.raises(ValidationError, match=message):
        tiny_config(value_scale="asinh", loss="mse", network={"output_activation": "linear"},
                    **changes)


def test_config_rejects_a_linear_weight_without_the_asinh_scale():
    with pytest.raises(ValidationError, match="linear_loss_weight needs value_scale 'asinh'"):
        tiny_config(linear_loss_weight=1.0)
