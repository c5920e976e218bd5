"""The nanowire workflow notebook in docs/ runs from top to bottom."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hyperspy_eelspecnet.models.registry import list_models
from hyperspy_eelspecnet.simulation.nanowire import PHONON

NOTEBOOK = Path(__file__).parents[1] / "docs" / "nanowire_workflow.ipynb"

pytestmark = pytest.mark.slow


def _outputs(nb, kind: str) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if o.output_type == kind]


def test_nanowire_notebook_executes(tiny_model, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    model_cell = nb.cells[1]
    assert model_cell.source.startswith("MODEL = ")
    model = "nzeels-2048"
    if model not in list_models():  # before the shipped model exists
        model_cell.source = f"MODEL = {str(tiny_model)!r}"
        model = "tiny-test"
    # Raises CellExecutionError on the first cell that fails.
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    # The provenance cell shows the model that restored the map.
    shown = [o["data"].get("text/plain", "") for o in _outputs(nb, "execute_result")]
    assert any("EELSpecNet" in text and model in text for text in shown), shown
    # Both figures (line profiles, membrane spectra) were drawn.
    figures = [o for o in _outputs(nb, "display_data") if "image/png" in o["data"]]
    assert len(figures) == 2
    # The phonon search printed a line per method; the truth has the 0.1 eV phonon.
    printed = "".join(o["text"] for o in _outputs(nb, "stream") if o["name"] == "stdout")
    found = dict(re.findall(r"^\s*(\S+): peaks at (.*) eV$", printed, re.MULTILINE))
    assert set(found) == {"raw", "EELSpecNet", "Richardson-Lucy", "EELSpecNet+vacuum",
                          "truth"}, printed
    truth_peaks = [float(e) for e in found["truth"].split(", ")]
    assert min(abs(e - PHONON.energy) for e in truth_peaks) < 0.01, printed
