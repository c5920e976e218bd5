"""The gain-side check that tells a wrong vacuum reference from a right one."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from hyperspy_eelspecnet.inference.domain import DomainReport, ReferenceMismatchWarning
from hyperspy_eelspecnet.inference.reference_match import MISMATCH_LIMIT, gain_side_mismatch
from hyperspy_eelspecnet.models.card import Domain

CHANNELS = 512
ZLP_CHANNEL = 200.3
ZLP_FWHM = 8.0
COUNTS = 5e4


def pseudo_voigt(centre: float, fwhm: float, eta: float, channels: int = CHANNELS):
    """A peak of height 1: ``eta`` Lorentzian (long tails), the rest Gaussian."""
    x = (np.arange(channels) - centre) / (fwhm / 2)
    return eta / (1 + x**2) + (1 - eta) * np.exp(-np.log(2) * x**2)


def measured(rng, pixels: int = 49, counts: float = COUNTS, gain: float = 0.0):
    """Pixels of a ZLP with long tails and a loss peak (``gain``: its gain partner's weight)."""
    loss = 3e-3 * pseudo_voigt(ZLP_CHANNEL + 40, 6, 0.5)
    partner = gain * 3e-3 * pseudo_voigt(ZLP_CHANNEL - 40, 6, 0.5)
    truth = pseudo_voigt(ZLP_CHANNEL, ZLP_FWHM, 0.3) + loss + partner
    return rng.poisson(counts * truth, size=(pixels, CHANNELS)).astype(float)


def own_recording(rng):
    """The same ZLP recorded at 100x the dose, with another length and offset."""
    return rng.poisson(100 * COUNTS * pseudo_voigt(120.7, ZLP_FWHM, 0.3, 300)).astype(float)


def other_instrument():
    """A ZLP of the same width without the long tails."""
    return 1e6 * pseudo_voigt(150.0, ZLP_FWHM, 0.0, 400)


def test_own_recording_matches_and_another_instruments_zlp_does_not():
    rng = np.random.default_rng(0)
    data = measured(rng)
    assert not gain_side_mismatch(data, own_recording(rng)) > 0.1
    # one per pixel, as psf= a signal of the data's navigation shape gives them
    assert not gain_side_mismatch(data, np.stack([own_recording(rng)] * len(data))) > 0.1
    assert gain_side_mismatch(data, other_instrument()) > MISMATCH_LIMIT
    assert gain_side_mismatch(data[:1], other_instrument()) > MISMATCH_LIMIT


def test_gain_partners_and_noise_are_not_taken_for_a_mismatch():
    rng = np.random.default_rng(1)
    # a strong gain partner (as at 600 K for a loss peak 20 meV out at 0.5 meV/channel)
    assert not gain_side_mismatch(measured(rng, gain=0.7), own_recording(rng)) > MISMATCH_LIMIT
    for _ in range(20):  # a few counts per channel: too noisy to judge, never a mismatch
        assert not gain_side_mismatch(measured(rng, pixels=1, counts=50),
                                      own_recording(rng)) > MISMATCH_LIMIT


def test_too_short_a_gain_side_is_not_judged():
    rng = np.random.default_rng(2)
    cropped = measured(rng)[:, int(ZLP_CHANNEL) - 3:]
    assert np.isnan(gain_side_mismatch(cropped, other_instrument()))


@pytest.mark.parametrize("immediate", [False, True], ids=["eager", "lazy"])
def test_report_warns_once_naming_the_fix(immediate):
    rng = np.random.default_rng(3)
    domain = Domain(zlp_fwhm_channels=(2.0, 60.0), channels=(64, 4096),
                    channels_past_zlp=4096, zlp_channel_range=(16.0, 1024.0))
    report = DomainReport("a-psf-model", domain, immediate=immediate)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            report.check(measured(rng), other_instrument())
        report.emit()
    wrong = [w for w in caught if issubclass(w.category, ReferenceMismatchWarning)]
    assert len(wrong) == 1
    message = str(wrong[0].message)
    assert "vacuum reference does not match" in message
    assert "pass psf= a vacuum recording of this session" in message.lower()
    assert ("98 of 98 spectra" if not immediate else "49 of 49 spectra") in message

    right = DomainReport("a-psf-model", domain)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        right.check(measured(rng), own_recording(rng))
        right.emit()
    assert not [w for w in caught if issubclass(w.category, ReferenceMismatchWarning)]
