"""``eelspecnet export-refined``: a refined model written from a blind ZLP-free one."""

from __future__ import annotations

import pytest

from hyperspy_eelspecnet.models.card import ModelCard
from hyperspy_eelspecnet.models.registry import resolve_model
from hyperspy_eelspecnet.training.export import export_refined


def test_the_refined_model_keeps_the_network_and_drops_its_figures(tmp_path):
    base = resolve_model("nzeels-2048-nozlp")
    out = export_refined(base.path, tmp_path / "refined", name="refined", iterations=20,
                         reach_fwhm=10.0, command="eelspecnet export-refined ...")
    card = ModelCard.read(out / "card.json")
    assert card.name == "refined" and card.weights_sha256 == base.sha256
    assert card.preprocessing.refinement.iterations == 20
    assert card.preprocessing.refinement.reach_fwhm == 10.0
    assert card.preprocessing.takes_reference and card.preprocessing.restores == "quasi_dirac"
    assert card.near_zlp is None and card.real_data is None and card.evaluation is None
    assert card.training.reproduce.startswith("eelspecnet export-refined ...")
    assert any("ReferenceMismatchWarning" in item for item in card.limitations)
    assert resolve_model(out).preprocessing.refinement is not None


def test_a_quasi_dirac_network_cannot_be_refined(tmp_path):
    with pytest.raises(ValueError, match="blind ZLP-free network"):
        export_refined(resolve_model("nzeels-2048").path, tmp_path / "x", name="x",
                       iterations=5)
    assert not (tmp_path / "x").exists()


def test_an_existing_directory_is_kept_unless_overwrite(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(FileExistsError, match="overwrite"):
        export_refined(resolve_model("nzeels-2048-nozlp").path, tmp_path / "x", name="x",
                       iterations=5)
