"""The ``eelspecnet demo`` command on the bundled silver-nanowire map."""

from __future__ import annotations

import hyperspy.api as hs
import matplotlib.image
import pytest

from hyperspy_eelspecnet.cli import main
from hyperspy_eelspecnet.data import silver_nanowire
from hyperspy_eelspecnet.simulation.nanowire import WIRE_LENGTH_NM
from hyperspy_eelspecnet.tools.demo import box_points, wire_line

pytestmark = pytest.mark.filterwarnings(
    "ignore::hyperspy_eelspecnet.inference.domain.OutOfDomainWarning")


def test_demo_writes_its_figure_and_restored_map(tiny_model, tmp_path, capsys) -> None:
    assert main(["demo", "--model", str(tiny_model), "--out", str(tmp_path / "demo")]) == 0
    printed = capsys.readouterr().out
    figure = tmp_path / "demo" / "silver_nanowire_demo.png"
    restored = tmp_path / "demo" / "silver_nanowire_eelspecnet.zspy"
    assert f"figure: {figure}" in printed and f"restored: {restored}" in printed
    height, width, _ = matplotlib.image.imread(figure).shape
    assert (height, width) == (1020, 1800)
    assert hs.load(restored, lazy=True).data.shape == (24, 48, 1024)


def test_demo_gives_a_reference_model_the_vacuum_recording(tmp_path) -> None:
    assert main(["demo", "--model", "nzeels-2048-psf", "--out", str(tmp_path)]) == 0
    restored = hs.load(tmp_path / "silver_nanowire_eelspecnet.zspy", lazy=True)
    provenance = restored.metadata.Signal.Deconvolution
    assert provenance.model == "nzeels-2048-psf"
    assert provenance.psf == "Silver nanowire (synthetic): vacuum ZLP"


def test_line_follows_the_wire_and_boxes_sit_on_it() -> None:
    s = silver_nanowire(lazy=True)
    (x0, y0), (x1, y1) = wire_line(s)
    x_axis, y_axis = s.axes_manager.navigation_axes
    assert y0 == y1 == y_axis.axis[12]
    assert x1 - x0 == pytest.approx(WIRE_LENGTH_NM + 4 * x_axis.scale)
    points = box_points(s)
    assert points["centre"] == (24, 12) and points["membrane"] == (24, 3)
    assert x_axis.axis[points["tip"][0]] - x0 == pytest.approx(4 * x_axis.scale, abs=x_axis.scale)


def test_demo_without_the_model_names_the_problem(tmp_path, capsys) -> None:
    assert main(["demo", "--model", str(tmp_path / "missing"), "--out", str(tmp_path)]) == 2
    assert "unknown model" in capsys.readouterr().err
