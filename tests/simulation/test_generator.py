"""The training-spectrum generator: ranges, shapes, areas, seeds."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError
from scipy.ndimage import gaussian_filter1d

from hyperspy_eelspecnet.metrics import fwhm
from hyperspy_eelspecnet.simulation import (
    ContinuumConfig,
    CropConfig,
    GeneratorConfig,
    NearZlpPeaks,
    ReferenceConfig,
    ShapeWeights,
    SpectrumGenerator,
)

PAPER = GeneratorConfig()


def _continuum_only(**on) -> GeneratorConfig:
    """Spectra made of the ZLP and one continuum, no noise, no peaks."""
    return GeneratorConfig(
        n_peaks=(0, 0), gaussian_noise=(0, 0), dark_mean=(0, 0), jitter_ev=0.0,
        continua=ContinuumConfig(**on), otf_fwhm_channels=(7, 7),
    )


def test_paper_defaults_shapes_dtypes_and_unit_integrals():
    batch = SpectrumGenerator(PAPER, seed=1).generate(600, with_psf=True)
    for array in (batch.distorted, batch.target, batch.truth, batch.psf):
        assert array.shape == (600, 2048) and array.dtype == np.float32
    np.testing.assert_allclose(batch.distorted.sum(1), 1, rtol=1e-5)
    np.testing.assert_allclose(batch.target.sum(1), 1, rtol=1e-5)
    # The quasi-Dirac ZLP sits at channel 400 and is 3 channels wide.
    assert np.all(np.abs(batch.truth.argmax(1) - 400) <= 1)
    np.testing.assert_allclose(np.median(fwhm(batch.truth)), 3.0, rtol=0.05)


def test_paper_ranges_honoured():
    batch = SpectrumGenerator(PAPER, seed=2).generate(1000)
    p = batch.params
    assert 7 <= p["otf_fwhm"].min() and p["otf_fwhm"].max() <= 40
    assert 1e-8 <= p["noise"].min() and p["noise"].max() <= 1e-3
    assert np.isnan(p["zlp_counts"]).all()
    assert np.all(np.abs(p["zlp_centre"] - 400) <= 0.5)
    # Distorted ZLP widths follow the OTF widths (7-40 channels, plus jitter).
    widths = fwhm(batch.distorted)
    assert 6 < np.nanmin(widths) and np.nanmax(widths) < 60


def test_same_seed_same_spectra_other_seed_other_spectra():
    a = SpectrumGenerator(PAPER, seed=3).generate(50)
    b = SpectrumGenerator(PAPER, seed=3).generate(50)
    c = SpectrumGenerator(PAPER, seed=4).generate(50)
    np.testing.assert_array_equal(a.distorted, b.distorted)
    assert not np.allclose(a.distorted, c.distorted)


def test_peaks_lie_from_zero_ev_to_the_last_channels():
    # The ZLP-free target is the loss spectrum alone: its maximum is the peak.
    config = GeneratorConfig(n_peaks=(1, 1), gaussian_noise=(0, 0), peak_fwhm_ev=(0.05, 0.05),
                             peak_ratio=(300, 300), target="zlp_free")
    batch = SpectrumGenerator(config, seed=5).generate(400)
    peak_channel = batch.target.argmax(1)
    assert np.all(peak_channel >= batch.params["zlp_centre"]) and peak_channel.max() <= 2046
    # Drawn over the whole range: 400 peaks come within 20 channels of either end.
    assert peak_channel.min() < 420 and peak_channel.max() > 2026


def _near_only(near: NearZlpPeaks, **extra) -> GeneratorConfig:
    """Noiseless spectra of the ZLP and near-ZLP peaks alone, ZLP-free target."""
    settings = dict(n_peaks=(0, 0), gaussian_noise=(0, 0), dark_mean=(0, 0), jitter_ev=0.0,
                    otf_fwhm_channels=(6, 6), otf_shapes=ShapeWeights(lorentzian=0, gaussian=1),
                    zlp_channel_range=(600, 900), near_zlp_peaks=near, target="zlp_free")
    return GeneratorConfig(**{**settings, **extra})


def _zlp_height(batch) -> np.ndarray:
    """Height of each truth's quasi-Dirac ZLP on the unit-integral scale."""
    zlp = batch.truth - batch.target
    offset = np.abs(zlp.argmax(1) - batch.params["zlp_centre"])
    return zlp.max(1) / np.exp(-4 * np.log(2) * (offset / 3.0) ** 2)


@pytest.mark.parametrize("shape", ["lorentzian", "gaussian"])
def test_near_zlp_peaks_sit_close_to_the_zlp_with_their_drawn_width_and_height(shape):
    shapes = {"lorentzian": 0, "gaussian": 0, "asymmetric": 0, shape: 1}
    near = NearZlpPeaks(probability=1.0, count=(1, 1), distance_channels=(10, 60),
                        fwhm_channels=(4, 4), height_fraction=(1e-3, 1e-3), shapes=shapes)
    batch = SpectrumGenerator(_near_only(near), seed=6).generate(300)
    centre, p = batch.params["zlp_centre"], batch.params
    peak = batch.target / _zlp_height(batch)[:, None]
    distance = peak.argmax(1) - centre
    np.testing.assert_allclose(distance, p["near_distance"][:, 0], atol=0.5)
    assert 10 - 0.5 <= distance.min() and distance.max() <= 60 + 0.5
    assert distance.min() < 15 and distance.max() > 45  # the whole range is drawn
    # Centres fall between channels: a 4-channel peak sampled off its centre
    # keeps at least 1 - 0.25 ** 2 of its height.
    assert np.all((0.93e-3 < peak.max(1)) & (peak.max(1) < 1.0001e-3))
    np.testing.assert_allclose(fwhm(peak), 4.0, rtol=0.15)


def test_near_zlp_peaks_come_in_their_share_of_spectra_and_count():
    near = NearZlpPeaks(probability=0.3, count=(0, 6))
    batch = SpectrumGenerator(_near_only(near), seed=7).generate(600)
    counts = np.isfinite(batch.params["near_distance"]).sum(1)
    with_peaks = np.abs(batch.target).max(1) > 0
    np.testing.assert_array_equal(with_peaks, counts > 0)
    assert 0.2 < with_peaks.mean() < 0.3  # 0.3 of them, less those that drew 0
    assert counts.max() == 6
    heights = batch.params["near_height"][np.isfinite(batch.params["near_height"])]
    assert 1e-4 <= heights.min() and heights.max() <= 1e-2
    # Log-uniform: as many heights below 1e-3 as above.
    assert 0.4 < np.mean(heights < 1e-3) < 0.6


def test_asymmetric_near_zlp_peak_is_wider_on_its_far_side():
    near = NearZlpPeaks(probability=1.0, count=(1, 1), distance_channels=(40, 40),
                        fwhm_channels=(12, 12), shapes={"lorentzian": 0, "gaussian": 0,
                                                        "asymmetric": 1},
                        asymmetry=(2.0, 2.0))
    batch = SpectrumGenerator(_near_only(near), seed=8).generate(50)
    x = np.arange(batch.target.shape[1])
    for row, centre in zip(batch.target, batch.params["zlp_centre"], strict=True):
        half = row > row.max() / 2
        near_side = centre + 40 - x[half].min()
        far_side = x[half].max() - (centre + 40)
        # Half widths 4 and 8 channels (FWHM 12, far side twice the near side).
        assert abs(near_side - 4) <= 1 and abs(far_side - 8) <= 1


def test_gain_partner_has_exactly_its_detailed_balance_weight():
    near = NearZlpPeaks(probability=1.0, count=(1, 1), distance_channels=(30, 60),
                        fwhm_channels=(3, 3), shapes={"lorentzian": 0, "gaussian": 1,
                                                      "asymmetric": 0},
                        gain_probability=1.0, temperature_k=(200, 600))
    config = _near_only(near)
    batch = SpectrumGenerator(config, seed=9).generate(200)
    p = batch.params
    x = np.arange(batch.target.shape[1])[None, :] - p["zlp_centre"][:, None]
    gain = np.where(x < -10, batch.target, 0).sum(1)
    loss = np.where(x > 10, batch.target, 0).sum(1)
    energy = p["near_distance"][:, 0] * config.dispersion
    expected = np.exp(-energy / (8.617333262e-5 * p["temperature"]))
    np.testing.assert_allclose(gain / loss, expected, rtol=1e-4)
    np.testing.assert_allclose(p["near_gain_weight"][:, 0], expected, rtol=1e-12)
    assert np.all(p["gain_dispersion"] == config.dispersion)
    assert 200 <= p["temperature"].min() and p["temperature"].max() <= 600


def test_gain_dispersion_range_and_zero_kelvin():
    near = NearZlpPeaks(probability=1.0, count=(1, 1), gain_probability=0.5,
                        temperature_k=(0, 0), gain_dispersion_ev=(5e-4, 2.5e-2),
                        shapes={"lorentzian": 0, "gaussian": 1, "asymmetric": 0})
    batch = SpectrumGenerator(_near_only(near), seed=10).generate(300)
    p = batch.params
    # At 0 K nothing is on the gain side.
    assert np.all(p["near_gain_weight"] == 0)
    x = np.arange(batch.target.shape[1])[None, :] - p["zlp_centre"][:, None]
    assert np.all(batch.target[x < -200] == 0)
    drawn = np.isfinite(p["gain_dispersion"])
    assert 0.4 < drawn.mean() < 0.6
    assert 5e-4 <= p["gain_dispersion"][drawn].min() <= 1e-3
    assert 1.5e-2 <= p["gain_dispersion"][drawn].max() <= 2.5e-2


def test_doublet_partner_lies_its_drawn_zlp_widths_further_out():
    near = NearZlpPeaks(probability=1.0, count=(1, 1), distance_channels=(20, 20),
                        fwhm_channels=(4, 4), height_fraction=(1e-3, 1e-3),
                        shapes={"lorentzian": 0, "gaussian": 1, "asymmetric": 0},
                        doublet_probability=1.0, doublet_separation=(1.0, 2.0),
                        doublet_height_ratio=(1.0, 1.0))
    batch = SpectrumGenerator(_near_only(near), seed=11).generate(100)
    p = batch.params
    x = np.arange(batch.target.shape[1])[None, :] - p["zlp_centre"][:, None]
    outer = np.where(x > 23, batch.target, 0)
    separation = (outer.argmax(1) - p["zlp_centre"] - 20) / p["zlp_fwhm"]
    assert 1.0 - 0.1 <= separation.min() and separation.max() <= 2.0 + 0.1
    # Same height as the first peak (ratio 1).
    np.testing.assert_allclose(outer.max(1), np.where(x < 23, batch.target, 0).max(1),
                               rtol=0.1)


def test_recorded_zlp_width_is_that_of_the_measured_zlp_and_narrow_ones_are_common():
    config = GeneratorConfig(otf_fwhm_channels=(2.5, 50), otf_fwhm_log_uniform=True,
                             jitter_otf_fraction=(0, 0.8), gaussian_noise=(0, 0),
                             dark_mean=(0, 0))
    batch = SpectrumGenerator(config, seed=12).generate(1000, with_psf=True)
    np.testing.assert_allclose(batch.params["zlp_fwhm"], fwhm(batch.psf), atol=0.05)
    widths = batch.params["zlp_fwhm"]
    assert 3.5 < widths.min() < 5 and widths.max() > 60
    # Log-uniform: a third of the ZLPs are under 10 channels wide.
    assert 0.25 < np.mean(widths < 10) < 0.5


def test_cropped_spectrum_keeps_its_zlp_at_the_drawn_channel():
    crop = CropConfig(probability=1.0, channels_before_zlp=(16, 16), length=(256, 700))
    config = GeneratorConfig(crop=crop, zlp_channel_range=(64, 1024), jitter_ev=0.0,
                             otf_shapes=ShapeWeights(lorentzian=0, gaussian=1),
                             gaussian_noise=(0, 0), dark_mean=(0, 0))
    batch = SpectrumGenerator(config, seed=13).generate(300)
    first, end = batch.params["first_channel"], batch.params["n_valid"]
    np.testing.assert_array_equal(batch.distorted.argmax(1) - first, 16)
    assert 256 <= (end - first).min() and (end - first).max() <= 700
    x = np.arange(config.channels)[None, :]
    outside = (x < first[:, None]) | (x >= end[:, None])
    for array in (batch.distorted, batch.target, batch.truth, batch.clean):
        assert np.all(array[outside] == 0)
        np.testing.assert_allclose(array.sum(1), 1, rtol=1e-5)


def test_crops_come_in_their_share_and_leave_the_other_spectra_whole():
    crop = CropConfig(probability=0.4)
    batch = SpectrumGenerator(GeneratorConfig(crop=crop), seed=14).generate(500)
    cropped = batch.params["first_channel"] > 0
    assert 0.3 < cropped.mean() < 0.5
    assert np.all(batch.params["n_valid"][~cropped] == 2048)


def test_new_components_switched_off_leave_the_paper_recipe_alone():
    plain = SpectrumGenerator(PAPER, seed=7).generate(400)
    off = GeneratorConfig(near_zlp_peaks=NearZlpPeaks(), crop=CropConfig())
    # Switched off (the default), the generator draws no extra random
    # numbers: the paper's recipe gives the same spectra for a seed.
    np.testing.assert_array_equal(SpectrumGenerator(off, seed=7).generate(400).distorted,
                                  plain.distorted)


def test_zlp_position_range_and_truncation():
    config = GeneratorConfig(zlp_channel_range=(64, 1024), min_channels=1100)
    batch = SpectrumGenerator(config, seed=6).generate(500)
    centre = batch.params["zlp_centre"]
    assert 63.5 <= centre.min() and centre.max() <= 1024.5 and np.ptp(centre) > 800
    n_valid = batch.params["n_valid"]
    assert n_valid.min() >= 1100
    rows = np.arange(500)
    assert np.all(batch.distorted[rows, np.minimum(n_valid, 2047)][n_valid < 2048] == 0)


def test_zlp_free_target_has_no_zlp_and_keeps_the_loss_scale():
    config = GeneratorConfig(target="zlp_free", n_peaks=(3, 3))
    batch = SpectrumGenerator(config, seed=7).generate(100)
    zlp_region = slice(395, 406)
    assert batch.target[:, zlp_region].max() < 0.05 * batch.truth[:, zlp_region].max()
    # Target = truth minus ZLP, on the truth's unit-integral scale.
    np.testing.assert_allclose(batch.target[:, 450:], batch.truth[:, 450:], rtol=1e-4, atol=1e-9)


def test_poisson_noise_variance_equals_mean():
    config = GeneratorConfig(poisson_probability=1.0, poisson_zlp_counts=(1e4, 1e4),
                             read_noise_counts=(0, 0), n_peaks=(0, 0))
    gen = SpectrumGenerator(config, seed=8)
    batch = gen.generate(400, with_psf=True)
    # Back to counts: the ZLP maximum was drawn at 1e4 counts.
    noiseless = SpectrumGenerator(config.model_copy(update={"poisson_probability": 0.0,
                                                              "gaussian_noise": (0, 0)}),
                                  seed=8).generate(400)
    scale = 1e4 / noiseless.distorted.max(1, keepdims=True)
    counts = batch.distorted * scale
    expected = noiseless.distorted * scale
    window = slice(380, 420)  # well-exposed channels
    residual = counts[:, window] - expected[:, window]
    ratio = residual.var() / expected[:, window].mean()
    assert 0.8 < ratio < 1.2
    np.testing.assert_allclose(batch.params["zlp_counts"], 1e4)


def test_detector_blur_correlates_counting_noise_and_keeps_the_counts():
    config = GeneratorConfig(poisson_probability=1.0, poisson_zlp_counts=(1e4, 1e4),
                             read_noise_counts=(0, 0), n_peaks=(0, 0), dark_mean=(0, 0))
    blurred_config = config.model_copy(update={"detector_blur_channels": (1.0, 1.0)})
    noiseless = SpectrumGenerator(config.model_copy(update={"poisson_probability": 0.0,
                                                              "gaussian_noise": (0, 0)}),
                                  seed=8).generate(400).distorted
    scale = 1e4 / noiseless.max(1, keepdims=True)
    window = slice(380, 420)  # well-exposed channels
    # The spread blurs the expected counts too (negligibly, next to the OTF).
    spread = gaussian_filter1d(noiseless, 1.0, axis=1, mode="constant")
    stats = {}
    for name, cfg, mean in [("white", config, noiseless), ("blurred", blurred_config, spread)]:
        residual = (SpectrumGenerator(cfg, seed=8).generate(400).distorted - mean) * scale
        r = residual[:, window]
        lag1 = (r[:, 1:] * r[:, :-1]).mean() / r.var()
        stats[name] = (lag1, r.var() / (noiseless * scale)[:, window].mean())
    assert abs(stats["white"][0]) < 0.1
    # A Gaussian spread of 1 channel: neighbours correlate by exp(-1/4) = 0.78,
    # and the variance per channel drops to sum(k**2) = 1 / (2 sqrt(pi)) = 0.28 of the mean.
    assert 0.7 < stats["blurred"][0] < 0.86
    assert 0.22 < stats["blurred"][1] < 0.34


@pytest.mark.parametrize("shape", ["lorentzian", "gaussian", "voigt", "pearson7", "asymmetric"])
def test_otf_shapes_have_the_drawn_width(shape):
    weights = {k: 0.0 for k in ShapeWeights.model_fields} | {shape: 1.0}
    config = GeneratorConfig(otf_shapes=ShapeWeights(**weights), jitter_ev=0.0, n_peaks=(0, 0),
                             gaussian_noise=(0, 0), otf_fwhm_channels=(30, 30),
                             zlp_fwhm_channels=0.3)
    batch = SpectrumGenerator(config, seed=9).generate(20)
    np.testing.assert_allclose(fwhm(batch.distorted), 30, rtol=0.06)


def test_measured_otf_stretched_to_drawn_width(tmp_path):
    x = np.arange(300.0)
    recording = (np.exp(-0.5 * ((x - 120) / 6.0) ** 2) * 1e5
                 + np.where(x > 120, 50.0 * np.exp(-(x - 120) / 40), 0))
    path = tmp_path / "vacuum.txt"
    path.write_text("\t".join(f"{v:.3f}" for v in recording))
    config = GeneratorConfig(otf_shapes=ShapeWeights(lorentzian=0, measured=1),
                             measured_zlp_files=(str(path),), jitter_ev=0.0, n_peaks=(0, 0),
                             gaussian_noise=(0, 0), otf_fwhm_channels=(40, 40),
                             zlp_fwhm_channels=0.3)
    batch = SpectrumGenerator(config, seed=10).generate(5)
    np.testing.assert_allclose(fwhm(batch.distorted), 40, rtol=0.05)


def test_measured_zlp_cut_before_half_maximum_is_refused(tmp_path):
    x = np.arange(100.0)
    path = tmp_path / "cut.txt"
    path.write_text("\n".join(f"{v:.3f}" for v in np.exp(-0.5 * ((x - 3) / 6.0) ** 2)))
    config = GeneratorConfig(otf_shapes=ShapeWeights(lorentzian=0, measured=1),
                             measured_zlp_files=(str(path),))
    with pytest.raises(ValueError, match=r"cut\.txt does not fall to half its maximum"):
        SpectrumGenerator(config)


def test_onset_is_zero_below_the_gap():
    config = _continuum_only(onset_probability=1.0, onset_energy_channels=(300, 300),
                             height_fraction=(0.01, 0.01))
    truth = SpectrumGenerator(config, seed=11).generate(10).truth
    loss = truth / truth.max(1, keepdims=True)
    zlp_free = loss[:, 420:699]  # 20 channels past the ZLP up to the gap at 700
    assert np.abs(zlp_free).max() < 1e-6
    assert np.all(loss[:, 760] > 1e-4)


def test_power_law_tail_decays():
    config = _continuum_only(tail_probability=1.0, height_fraction=(0.01, 0.01))
    truth = SpectrumGenerator(config, seed=12).generate(10).truth
    tail = truth[:, 420:2000]
    assert np.all(np.diff(tail, axis=1) <= 1e-12)
    assert np.all(tail[:, 0] > 10 * tail[:, -1])


def test_drude_plasmon_peaks_at_its_energy():
    config = _continuum_only(drude_probability=1.0, drude_energy_channels=(500, 500),
                             drude_width_channels=(50, 50), height_fraction=(0.01, 0.01))
    truth = SpectrumGenerator(config, seed=13).generate(5).truth
    loss = truth.copy()
    loss[:, :450] = 0
    np.testing.assert_allclose(loss.argmax(1), 900, atol=3)
    # Peak height is the drawn fraction of the quasi-Dirac ZLP's height (1
    # at its centre; the sampled maximum is up to 8 % lower off-centre).
    np.testing.assert_allclose(loss.max(1) / truth.max(1), 0.01, rtol=0.09)


def test_gain_varies_slowly_and_within_its_amplitude():
    base = GeneratorConfig(n_peaks=(0, 0), gaussian_noise=(0, 0), dark_mean=(0, 0))
    plain = SpectrumGenerator(base, seed=14).generate(20).distorted
    with_gain = base.model_copy(update={"gain_amplitude": 0.05})
    gained = SpectrumGenerator(with_gain, seed=14).generate(20).distorted
    assert not np.allclose(plain, gained)
    # Up to the unit-integral scaling, the spectra differ by a gain of 1 +- 0.05.
    strong = plain > 1e-4 * plain.max(1, keepdims=True)
    ratio = np.where(strong, gained / np.where(strong, plain, 1), np.nan)
    assert np.all(np.nanmax(ratio, 1) / np.nanmin(ratio, 1) < 1.05 / 0.95 + 1e-5)
    # Slowly: at most 3 cycles over 2048 channels, no channel-to-channel steps.
    steps = np.abs(np.diff(ratio, axis=1)) / np.nanmedian(ratio, 1, keepdims=True)
    assert np.nanmax(steps) < 5e-3


@pytest.mark.parametrize(
    "bad",
    [
        {"n_peaks": (5, 2)},
        {"otf_fwhm_channels": (40, 7)},
        {"zlp_channel": 5000},
        {"otf_shapes": {"lorentzian": 0}},
        {"otf_shapes": {"measured": 1}},
        {"n_peek": (0, 3)},
        {"near_zlp_peaks": {"count": (0, 0)}},
        {"near_zlp_peaks": {"fwhm_channels": (10, 2)}},
        {"near_zlp_peaks": {"height_fraction": (0, 1e-2)}},
        {"near_zlp_peaks": {"temperature_k": (600, 200)}},
        {"near_zlp_peaks": {"shapes": {"lorentzian": 0, "gaussian": 0, "asymmetric": 0}}},
        {"near_zlp_peaks": {"distance_ev": (0.05, 0.5)}},
        {"crop": {"length": (16, 100), "channels_before_zlp": (16, 40)}},
        {"jitter_ev_range": (0, 0.05), "jitter_otf_fraction": (0, 0.5)},
        {"otf_fwhm_channels": (0, 40), "otf_fwhm_log_uniform": True},
        {"detector_blur_channels": (2.0, 1.0)},
    ],
    ids=["peaks", "otf", "zlp", "no-shape", "measured-no-files", "typo", "near-count",
         "near-fwhm", "near-height-log", "temperature", "near-no-shape", "near-old-key",
         "crop-short", "two-jitters", "otf-log-zero", "detector-blur"],
)
def test_bad_configs_are_rejected(bad):
    with pytest.raises(ValidationError):
        GeneratorConfig(**bad)


@pytest.mark.parametrize("centred, spread", [(True, 0.1), (False, 0.6)])
def test_centred_jitter_keeps_the_energy_zero(centred, spread):
    """With centred jitter the measured ZLP's centroid is the true centre."""
    config = GeneratorConfig(jitter_centred=centred, n_peaks=(0, 0), gaussian_noise=(0, 0),
                             otf_shapes=ShapeWeights(lorentzian=0, gaussian=1))
    batch = SpectrumGenerator(config, seed=15).generate(300)
    centroid = (batch.distorted * np.arange(2048)).sum(1)
    offset = np.std(centroid - batch.params["zlp_centre"])
    assert (offset < spread) if centred else (offset > spread)


def test_jitter_amplitude_range_reaches_narrow_zlps():
    """The paper's fixed +-0.05 eV jitter keeps ZLPs wider than ~10 channels."""
    narrow = dict(otf_fwhm_channels=(7.0, 8.0), n_peaks=(0, 0), gaussian_noise=(0, 0),
                  otf_shapes=ShapeWeights(lorentzian=0, gaussian=1))
    fixed = SpectrumGenerator(GeneratorConfig(**narrow), seed=16).generate(200)
    drawn = SpectrumGenerator(GeneratorConfig(jitter_ev_range=(0.0, 0.05), **narrow),
                              seed=16).generate(200)
    assert np.nanmin(fwhm(fixed.distorted)) > 10
    assert np.nanmin(fwhm(drawn.distorted)) < 9
    assert np.median(fwhm(drawn.distorted)) < np.median(fwhm(fixed.distorted))
    with pytest.raises(ValidationError):
        GeneratorConfig(jitter_ev_range=(0.05, 0.0))


def _with_reference(**reference) -> GeneratorConfig:
    return GeneratorConfig(reference=ReferenceConfig(**reference), poisson_probability=0.5,
                           gaussian_noise=(1e-6, 1e-5))


def test_drawing_a_reference_leaves_the_spectra_as_they_were():
    plain = SpectrumGenerator(GeneratorConfig(poisson_probability=0.5,
                                              gaussian_noise=(1e-6, 1e-5)), seed=15)
    with_ref = SpectrumGenerator(_with_reference(), seed=15).generate(300)
    np.testing.assert_array_equal(with_ref.distorted, plain.generate(300).distorted)
    assert with_ref.reference.shape == with_ref.distorted.shape
    np.testing.assert_allclose(with_ref.reference.sum(1), 1, rtol=1e-5)
    assert plain.generate(3).reference is None


def test_matched_reference_is_the_zlp_through_the_same_response():
    config = _with_reference(width_mismatch=0, tail_mismatch=0, shift_channels=0,
                             other_response_probability=0, dose_ratio=(1e6, 1e6))
    noiseless = config.model_copy(update={"gaussian_noise": (0, 0), "dark_mean": (0, 0),
                                          "poisson_probability": 0})
    batch = SpectrumGenerator(noiseless, seed=16).generate(200, with_psf=True)
    # The PSF is the same ZLP through the same response, without noise here;
    # the reference's own counting noise is at 1e9 counts and more (0.3 % at
    # 1e-4 of the maximum).
    strong = batch.psf > 1e-4 * batch.psf.max(1, keepdims=True)
    np.testing.assert_allclose(batch.reference[strong], batch.psf[strong], rtol=0.02)


def test_reference_mismatch_scales_the_width_and_shifts_within_the_drawn_ranges():
    config = _with_reference(tail_mismatch=0, other_response_probability=0,
                             dose_ratio=(1e6, 1e6), width_mismatch=0.05, shift_channels=0.5)
    gen = SpectrumGenerator(config.model_copy(update={"gaussian_noise": (0, 0),
                                                      "poisson_probability": 0}), seed=17)
    batch = gen.generate(300, with_psf=True)
    p = batch.params
    assert np.all(np.abs(p["reference_width_scale"] - 1) <= 0.05)
    assert np.all(np.abs(p["reference_shift"]) <= 0.5)
    np.testing.assert_allclose(fwhm(batch.reference) / fwhm(batch.psf),
                               p["reference_width_scale"], rtol=0.02)
    # Spectra with Gaussian noise: the dose is drawn from poisson_zlp_counts.
    assert np.all(p["reference_counts"] >= 1e3 * 1e6 * (1 - 1e-9))


def test_reference_dose_is_its_ratio_times_the_spectrum_counts():
    config = _with_reference(dose_ratio=(10, 1000)).model_copy(
        update={"poisson_probability": 1.0})
    p = SpectrumGenerator(config, seed=19).generate(300).params
    ratio = p["reference_counts"] / p["zlp_counts"]
    assert 10 * (1 - 1e-9) <= ratio.min() and ratio.max() <= 1000 * (1 + 1e-9)
    assert ratio.min() < 20 and ratio.max() > 500


def test_some_references_come_from_another_response():
    config = _with_reference(other_response_probability=0.5, dose_ratio=(1e6, 1e6))
    batch = SpectrumGenerator(config, seed=18).generate(400, with_psf=True)
    other = batch.params["reference_other_response"]
    assert 0.4 < other.mean() < 0.6
    mismatch = np.abs(fwhm(batch.reference) / fwhm(batch.psf) - 1)
    # Matched references are within their 5 % width mismatch (plus the sampling
    # of narrow ZLPs); most of the others are not.
    assert np.median(mismatch[~other]) < 0.05
    assert np.median(mismatch[other]) > 0.1


def test_bare_spectra_are_the_zlp_alone_in_their_share():
    config = GeneratorConfig(bare_probability=0.3, near_zlp_peaks=NearZlpPeaks(probability=1.0),
                             continua=ContinuumConfig(tail_probability=1.0), target="zlp_free")
    batch = SpectrumGenerator(config, seed=20).generate(500)
    bare = batch.params["bare"]
    assert 0.25 < bare.mean() < 0.35
    assert np.all(batch.target[bare] == 0) and np.all(batch.target[~bare].max(1) > 0)
