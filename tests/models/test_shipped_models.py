"""What the shipped models do to spectra they were trained for."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from hyperspy_eelspecnet.evaluation.generated import evaluation_sets
from hyperspy_eelspecnet.evaluation.real_data import load_real_set
from hyperspy_eelspecnet.inference.domain import DomainReport, OutOfDomainWarning
from hyperspy_eelspecnet.inference.restore import restore_spectra
from hyperspy_eelspecnet.metrics import fwhm
from hyperspy_eelspecnet.models.registry import resolve_model

REAL = Path(__file__).parents[3] / "shared" / "realdata" / "ws2_25meV"
SHIPPED = ("nzeels-2048", "nzeels-2048-nozlp")

@pytest.fixture(scope="module")
def paper_set():
    return evaluation_sets({"widths": 64}, seed=31)[0]


def test_quasi_dirac_model_sharpens_the_zlp_where_it_was(paper_set):
    restored = restore_spectra(paper_set.distorted, resolve_model("nzeels-2048"))
    np.testing.assert_allclose(np.median(fwhm(restored)), np.median(fwhm(paper_set.truth)),
                               rtol=0.2)
    assert np.all(np.abs(restored.argmax(1) - paper_set.truth.argmax(1)) <= 1)
    # Closer to the truth than the measurement, spectrum by spectrum.
    err_restored = np.abs(restored - paper_set.truth).sum(1)
    err_measured = np.abs(paper_set.distorted - paper_set.truth).sum(1)
    assert np.all(err_restored < err_measured)


def test_zlp_free_model_removes_the_zlp_and_keeps_the_loss(paper_set):
    restored = restore_spectra(paper_set.distorted, resolve_model("nzeels-2048-nozlp"))
    zlp = paper_set.zlp_channel
    rows = np.arange(len(zlp))
    # The ZLP is gone: what is left at its channel is at most the loss
    # spectrum under it (a continuum can rise from the ZLP), read beside
    # the truth's 3-channel quasi-Dirac peak.
    under = np.maximum(paper_set.truth[rows, zlp - 6], paper_set.truth[rows, zlp + 6])
    assert np.all(restored[rows, zlp] < 0.05 * paper_set.distorted[rows, zlp] + 2 * under)
    loss = np.arange(restored.shape[1])[None, :] > zlp[:, None] + 40
    truth = np.where(loss, paper_set.truth, 0)
    err = np.abs(np.where(loss, restored, 0) - truth).sum(1)
    has_loss = truth.sum(1) > 0
    assert np.median(err[has_loss] / truth.sum(1)[has_loss]) < 0.2


@pytest.mark.skipif(not REAL.exists(), reason="shared/realdata is not beside the project")
@pytest.mark.parametrize("name", SHIPPED)
def test_measured_spectra_are_restored_to_their_last_channel(name):
    # The WS2 spectra run 1820 channels past their ZLP (1981 channels, ZLP
    # at 160), as a 2048-channel map does whose ZLP sits near its start.
    real = load_real_set(REAL, 0.025013)
    model = resolve_model(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error", OutOfDomainWarning)
        report = DomainReport(name, model.card.domain)
        report.check(real.specimen)
        report.emit()
    restored = restore_spectra(real.specimen, model)
    last_3_ev = slice(-120, None)
    level = restored[:, last_3_ev].sum(1) / real.specimen[:, last_3_ev].sum(1)
    np.testing.assert_allclose(level, 1, atol=0.1)
