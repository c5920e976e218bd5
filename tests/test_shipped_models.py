"""What the shipped models do to spectra they were trained for."""

from __future__ import annotations

import numpy as np
import pytest

from hyperspy_eelspecnet.evaluation import evaluation_sets
from hyperspy_eelspecnet.inference import restore_spectra
from hyperspy_eelspecnet.metrics import fwhm
from hyperspy_eelspecnet.registry import list_models, resolve_model

pytestmark = pytest.mark.skipif(
    not {"nzeels-2048", "nzeels-2048-nozlp"} <= set(list_models()),
    reason="the shipped models are not in hyperspy_eelspecnet/models yet",
)


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
