"""The documentation: it builds with warnings as errors, its quickstart runs.

The build is Sphinx's, into a temporary folder (``-W --keep-going``);
the quickstart test extracts the ``.. code-block:: python`` blocks of
``docs/quickstart.rst`` and runs them in order, in one namespace, with
matplotlib's Agg backend and the current folder set to a temporary one.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hyperspy_eelspecnet.models.card import ModelCard

DOCS = Path(__file__).resolve().parents[1] / "docs"
QUICKSTART = DOCS / "quickstart.rst"
#: The model the quickstart uses.
QUICKSTART_MODEL = "nzeels-2048"
DOCS_PACKAGES = ("sphinx", "numpydoc", "pydata_sphinx_theme", "myst_nb", "sphinx_copybutton")

pytestmark = [
    pytest.mark.filterwarnings("ignore::hyperspy_eelspecnet.inference.domain.OutOfDomainWarning"),
    # RosettaSciIO's .zspy writer (the quickstart saves one) uses a deprecated zarr store.
    pytest.mark.filterwarnings("ignore:The NestedDirectoryStore is deprecated:FutureWarning"),
]


def _missing_docs_packages() -> list[str]:
    return [name for name in DOCS_PACKAGES if importlib.util.find_spec(name) is None]


def _load_extension():
    pytest.importorskip("sphinx", reason="sphinx is not installed (pip install -e '.[docs]')")
    spec = importlib.util.spec_from_file_location("eelspecnet_docs",
                                                  DOCS / "_ext" / "eelspecnet_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def python_blocks(path: Path) -> list[str]:
    """The contents of the ``.. code-block:: python`` directives of a page."""
    blocks, lines = [], path.read_text().splitlines()
    i = 0
    while i < len(lines):
        if re.match(r"^\s*\.\. code-block:: python\s*$", lines[i]):
            indent = len(lines[i]) - len(lines[i].lstrip())
            i += 1
            while i < len(lines) and lines[i].lstrip().startswith(":"):  # options
                i += 1
            body = []
            while i < len(lines) and (not lines[i].strip()
                                      or len(lines[i]) - len(lines[i].lstrip()) > indent):
                body.append(lines[i])
                i += 1
            blocks.append(textwrap.dedent("\n".join(body)).strip("\n"))
        else:
            i += 1
    return blocks


def run_quickstart(model: str) -> dict:
    """Execute the quickstart's code with ``model`` for the shipped name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    blocks = python_blocks(QUICKSTART)
    assert blocks, "the quickstart has no python code blocks"
    namespace: dict = {"__name__": "__quickstart__"}
    try:
        for number, block in enumerate(blocks, 1):
            code = block.replace(repr(QUICKSTART_MODEL), repr(model))
            code = code.replace(f'"{QUICKSTART_MODEL}"', repr(model))
            exec(compile(code, f"quickstart block {number}", "exec"), namespace)
    finally:
        plt.close("all")
    return namespace


@pytest.mark.slow
@pytest.mark.skipif(bool(_missing_docs_packages()),
                    reason="the docs packages are not installed (pip install -e '.[docs]'): "
                    + ", ".join(_missing_docs_packages()))
def test_docs_build_without_warnings(tmp_path) -> None:
    out = tmp_path / "html"
    _sphinx_build(DOCS, out)
    for page in ("index", "installation", "quickstart", "models", "evaluation", "training",
                 "cli", "api/index", "user_guide/index", "changelog", "citing"):
        assert (out / f"{page}.html").is_file(), page
    if (DOCS / "nanowire_workflow.ipynb").is_file():
        assert (out / "nanowire_workflow.html").is_file()


def _sphinx_build(source: Path, out: Path, env: dict | None = None) -> None:
    import os

    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q",
         "-d", str(out.parent / f"{out.name}_doctrees"), str(source), str(out)],
        capture_output=True, text=True, timeout=1200, env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, f"sphinx-build failed:\n{result.stdout}\n{result.stderr}"


def _page_text(path: Path) -> str:
    """The text of an HTML page, tags removed."""
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


def _write_results(folder: Path) -> None:
    """Results files in the format ``eelspecnet evaluate`` writes, and figures."""
    import matplotlib.pyplot as plt
    import numpy as np

    from hyperspy_eelspecnet.evaluation.generated import Evaluation, format_table
    from hyperspy_eelspecnet.evaluation.real_data import format_real_table

    folder.mkdir()
    values = {"fidelity": {"example": {"ssim": np.array([0.5, 0.75]),
                                       "mse": np.array([1e-7, 3e-7])},
                           "RL-50": {"ssim": np.array([0.25, 0.5]), "mse": np.array([1e-6, 2e-6])}}}
    evaluation = Evaluation(1, {"fidelity": 2}, ["example", "RL-50"], True, values)
    (folder / "evaluation.md").write_text(
        "Models example against Richardson-Lucy; seed 1; spectra per set {'fidelity': 2}.\n\n"
        "Made with `eelspecnet evaluate --n 2 --out docs/results`.\n\n"
        + format_table(evaluation) + "\n")
    real = {"none": {"total_ratio": np.ones(3)}, "example": {"total_ratio": np.full(3, 0.5)}}
    (folder / "real_data.md").write_text(
        "Real spectra in data (0.005 eV/channel).\n\n"
        "Made with `eelspecnet evaluate --real data --dispersion 0.005`.\n\n"
        + format_real_table(real) + "\n")
    (folder / "near_zlp.md").write_text(
        "Made with `eelspecnet evaluate --near-zlp`.\n\n## near-zlp\n\n"
        "| case | measure | truth |\n|---|---|---|\n| phonon | phonon_counts | 1 |\n")
    for name in ("fidelity.png", "noise_variance.png"):
        plt.imsave(folder / name, np.zeros((4, 4)))


@pytest.mark.slow
@pytest.mark.skipif(bool(_missing_docs_packages()),
                    reason="the docs packages are not installed (pip install -e '.[docs]'): "
                    + ", ".join(_missing_docs_packages()))
def test_docs_build_with_model_cards_and_results_but_no_notebook(tiny_model, tmp_path) -> None:
    """The pages written at build time, with content, in a copy of the docs."""
    import shutil

    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs, ignore=shutil.ignore_patterns(
        "_build", "results", "nanowire_workflow.ipynb", "__pycache__"))
    _write_results(docs / "results")
    models = tmp_path / "models"
    model = models / "example"
    shutil.copytree(tiny_model, model)
    ModelCard.read(model / "card.json").updated(
        description="An *example* card: ZLP_free | quasi_dirac `target`.",
        evaluation={"command": "eelspecnet evaluate --update-cards", "seed": 1,
                    "sizes": {"fidelity": 8}, "jitter_centred": True,
                    "summary": {"fidelity": {"example": {"ssim": {
                        "median": 0.5, "p5": 0.25, "p95": 0.75}}}}},
    ).write(model / "card.json")
    shutil.copytree(model, models / "example-2")  # two cards: the same section titles twice
    out = tmp_path / "html"
    _sphinx_build(docs, out, {"EELSPECNET_DOCS_MODELS_DIR": str(models)})
    models_page = _page_text(out / "models.html")
    assert "0.5 [0.25, 0.75]" in models_page and "No model ships" not in models_page
    evaluation_page = _page_text(out / "evaluation.html")
    assert "eelspecnet evaluate --n 2" in evaluation_page
    assert "Not in this build" not in evaluation_page
    assert (out / "_images" / "fidelity.png").is_file()
    assert not (out / "nanowire_workflow.html").exists()


def test_quickstart_blocks_are_found() -> None:
    blocks = python_blocks(QUICKSTART)
    assert len(blocks) >= 5
    assert any("deconvolve_eelspecnet" in b for b in blocks)
    assert any("richardson_lucy" in b for b in blocks)
    assert any(f'"{QUICKSTART_MODEL}"' in b for b in blocks)


def test_quickstart_runs_with_a_tiny_model(tiny_model, tmp_path, monkeypatch) -> None:
    """The code itself, with a model trained for seconds in place of the shipped one."""
    monkeypatch.chdir(tmp_path)
    namespace = run_quickstart(str(tiny_model))
    s, r, rl = namespace["s"], namespace["r"], namespace["rl"]
    assert r.data.shape == rl.data.shape == s.data.shape
    assert (tmp_path / "nanowire_eelspecnet.zspy").exists()


def test_quickstart_runs_with_the_shipped_model(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace = run_quickstart(QUICKSTART_MODEL)
    assert namespace["r"].metadata.Signal.Deconvolution.model == QUICKSTART_MODEL


def test_model_cards_page_renders_every_section(tiny_model, tmp_path) -> None:
    docs = _load_extension()
    model_dir = tmp_path / "models" / "example"
    model_dir.mkdir(parents=True)
    card = ModelCard.read(tiny_model / "card.json")
    training = card.training.model_dump() | {
        "command": "eelspecnet train example.yaml --run-dir runs/example", "training_time_s": 5400}
    evaluation = {
        "command": "eelspecnet evaluate --update-cards", "seed": 1, "sizes": {"fidelity": 8},
        "jitter_centred": True,
        "summary": {"fidelity": {"example": {"ssim": {"median": 0.5, "p5": 0.25, "p95": 0.75}},
                                 "RL-50": {"ssim": {"median": 0.125, "p5": 0.0625, "p95": 0.25}}}},
    }
    real_data = {"command": "eelspecnet evaluate --real data --update-cards",
                 "vacuum_floor": {"median": 16.5, "min": 2.45, "max": 17.1},
                 "none": {"total_ratio": {"median": 1.0, "min": 1.0, "max": 1.0}}}
    card.updated(training=training, evaluation=evaluation, real_data=real_data).write(
        model_dir / "card.json")
    text = docs.model_cards_rst(tmp_path / "models")
    for heading in ("Architecture", "Preprocessing", "Domain", "Generator ranges",
                    "Training", "Evaluation", "Limitations"):
        assert f"\n{heading}\n" in text, heading
    assert "eelspecnet train example.yaml --run-dir runs/example" in text
    assert "``training.seed``" not in text and "``seed``" in text
    assert "0.5 [0.25, 0.75]" in text and "0.125 [0.0625, 0.25]" in text
    assert "eelspecnet evaluate --update-cards" in text
    assert "Evaluation on measured spectra" in text and "1 (1..1)" in text
    assert "residual of 16.5 (2.45..17.1)" in text  # the floor, in words, not as a method
    assert "No model ships" in docs.model_cards_rst(tmp_path / "empty")


def test_results_are_included_only_when_present(tmp_path, monkeypatch) -> None:
    docs = _load_extension()
    monkeypatch.setattr(docs, "RESULTS", tmp_path)
    assert "Not in this build" in docs.results_md(["evaluation.md"])
    (tmp_path / "evaluation.md").write_text("## Results\n\n![noise](noise.png)\n")
    (tmp_path / "noise.png").write_bytes(b"")
    (tmp_path / "extra.png").write_bytes(b"")
    text = docs.results_md(["evaluation.md"])
    assert "```{include} results/evaluation.md" in text and ":heading-offset: 2" in text
    assert "results/extra.png" in text and "results/noise.png" not in text
