"""Batch deconvolution of spectrum-image files and the ``deconvolve`` command."""

from __future__ import annotations

import itertools
from pathlib import Path

import hyperspy.api as hs
import numpy as np
import pytest
from conftest import eels_signal
from exspy.signals import LazyEELSSpectrum

from hyperspy_eelspecnet.cli import main
from hyperspy_eelspecnet.inference.blocks import spectrum_chunks
from hyperspy_eelspecnet.io.dm4_writer import write_signal_dm4
from hyperspy_eelspecnet.tools import batch
from hyperspy_eelspecnet.tools.batch import deconvolve_files

MAPS = ("a", "b", "c")


@pytest.fixture
def folder(tmp_path) -> Path:
    """Three small .dm4 maps and a truncated one."""
    maps = tmp_path / "maps"
    maps.mkdir()
    for seed, name in enumerate(MAPS):
        write_signal_dm4(maps / f"{name}.dm4", eels_signal(shape=(2, 3), seed=seed))
    whole = (maps / "a.dm4").read_bytes()
    (maps / "corrupt.dm4").write_bytes(whole[: len(whole) // 3])
    return maps


def _outputs(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir())


def test_command_writes_good_maps_reports_the_corrupt_one_and_exits_1(
    folder, tiny_model, tmp_path, capsys
) -> None:
    out = tmp_path / "out"
    status = main(["deconvolve", str(folder), "--model", str(tiny_model), "--out", str(out),
                   "--no-progressbar"])
    assert status == 1
    assert _outputs(out) == [f"{name}_eelspecnet.zspy" for name in MAPS]
    report = capsys.readouterr().out
    assert "failed" in report and "corrupt.dm4" in report
    assert "3 written" in report and "1 failed" in report


def test_outputs_are_lazy_with_the_input_axes_and_metadata(
    folder, tiny_model, tmp_path, monkeypatch
) -> None:
    # A budget of three float32 spectra, so that the 2 x 3 map is split.
    budget = 3 * 300 * 4
    monkeypatch.setattr(batch, "OUTPUT_CHUNK_BYTES", budget)
    summary = deconvolve_files([folder / "b.dm4"], model=tiny_model, out_dir=tmp_path,
                               show_progressbar=False)
    assert summary.exit_status == 0 and summary.written[0].output_bytes > 0
    source = hs.load(folder / "b.dm4")
    result = hs.load(summary.written[0].output, lazy=True)
    assert isinstance(result, LazyEELSSpectrum)
    # Whole spectra in every stored chunk, navigation chunks as the helper sizes them.
    assert result.data.chunks[-1] == (source.data.shape[-1],)
    expected = spectrum_chunks(source.data.astype(np.float32), budget).chunks
    assert result.data.chunks == expected
    assert result.data.numblocks[:-1] != (1, 1)
    assert max(np.prod(block) for block in itertools.product(*result.data.chunks)) * 4 <= budget
    assert result.axes_manager.as_dictionary() == source.axes_manager.as_dictionary()
    assert result.original_metadata.as_dictionary() == source.original_metadata.as_dictionary()
    for key in ("Signal.signal_type", "Acquisition_instrument", "General.original_filename"):
        assert result.metadata.get_item(key) == source.metadata.get_item(key)
    assert result.metadata.Signal.Deconvolution.method == "EELSpecNet"
    expected = source.deconvolve_eelspecnet(model=tiny_model)
    np.testing.assert_allclose(result.data.compute(), expected.data, rtol=1e-6)


def test_rerun_skips_finished_maps_and_redoes_an_interrupted_one(
    folder, tiny_model, tmp_path
) -> None:
    out = tmp_path / "out"
    inputs = [folder / "a.dm4", folder / "b.dm4"]
    deconvolve_files(inputs, model=tiny_model, out_dir=out, show_progressbar=False)
    # Interrupted while writing b: its temporary folder is left, no output.
    (out / "b_eelspecnet.zspy").rename(out / ".b_eelspecnet.partial.zspy")
    finished = (out / "a_eelspecnet.zspy").stat().st_mtime_ns

    summary = deconvolve_files(inputs, model=tiny_model, out_dir=out, show_progressbar=False)
    assert [r.status for r in summary.results] == ["skipped", "written"]
    assert (out / "a_eelspecnet.zspy").stat().st_mtime_ns == finished
    assert _outputs(out) == ["a_eelspecnet.zspy", "b_eelspecnet.zspy"]
    assert "exists" in str(summary)

    summary = deconvolve_files(inputs, model=tiny_model, out_dir=out, overwrite=True,
                               show_progressbar=False)
    assert [r.status for r in summary.results] == ["written", "written"]
    assert _outputs(out) == ["a_eelspecnet.zspy", "b_eelspecnet.zspy"]
    assert hs.load(out / "a_eelspecnet.zspy", lazy=True).data.shape == (2, 3, 300)


def test_overwrite_from_the_command_line(folder, tiny_model, tmp_path) -> None:
    out = tmp_path / "out"
    args = ["deconvolve", str(folder / "a.dm4"), "--model", str(tiny_model), "--out", str(out),
            "--no-progressbar"]
    assert main(args) == 0
    written = (out / "a_eelspecnet.zspy").stat().st_mtime_ns
    assert main(args) == 0
    assert (out / "a_eelspecnet.zspy").stat().st_mtime_ns == written
    assert main([*args, "--overwrite"]) == 0
    assert (out / "a_eelspecnet.zspy").stat().st_mtime_ns != written


def test_inputs_by_pattern_and_by_kind(folder, tiny_model, tmp_path) -> None:
    plain = eels_signal(shape=(2, 2))
    plain.set_signal_type("")
    plain.save(folder / "plain.hspy")
    hs.signals.Signal2D(np.ones((4, 4))).save(folder / "image.hspy")
    (folder / "notes.txt").write_text("not a map")
    summary = deconvolve_files(
        [str(folder / "[ab].dm4"), folder / "plain.hspy", folder / "image.hspy",
         folder / "notes.txt", tmp_path / "missing.dm4", str(tmp_path / "*.dm3"),
         folder / "a.dm4"],
        model=tiny_model, out_dir=tmp_path / "out", show_progressbar=False,
    )
    by_name = {r.source.name: r for r in summary.results}
    assert [r.source.name for r in summary.written] == ["a.dm4", "b.dm4", "plain.hspy"]
    assert "set to 'EELS'" in by_name["plain.hspy"].reason
    assert "spectrum signals" in by_name["image.hspy"].reason
    assert "unsupported file type '.txt'" in by_name["notes.txt"].reason
    assert by_name["missing.dm4"].reason == "no such file or folder"
    assert "match this pattern" in by_name["*.dm3"].reason
    assert summary.exit_status == 1


def test_two_inputs_may_not_share_an_output(folder, tiny_model, tmp_path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    write_signal_dm4(other / "a.dm4", eels_signal(shape=(2, 2)))
    summary = deconvolve_files([folder / "a.dm4", other / "a.dm4"], model=tiny_model,
                               out_dir=tmp_path / "out", show_progressbar=False)
    assert [r.status for r in summary.results] == ["failed", "written"]
    assert "separate out_dir" in summary.failed[0].reason


def test_richardson_lucy_needs_a_psf_file(folder, tmp_path) -> None:
    with pytest.raises(ValueError, match="needs a PSF"):
        deconvolve_files([folder], method="richardson-lucy", show_progressbar=False)
    psf = eels_signal(shape=(1,), seed=9).inav[0]
    psf.save(tmp_path / "vacuum.hspy")
    summary = deconvolve_files([folder / "a.dm4"], method="richardson-lucy",
                               psf=tmp_path / "vacuum.hspy", iterations=np.int64(3),
                               out_dir=tmp_path,
                               show_progressbar=False)
    assert summary.exit_status == 0, str(summary)
    result = hs.load(summary.written[0].output)
    assert summary.written[0].output.name == "a_richardson-lucy.zspy"
    assert result.metadata.Signal.Deconvolution.iterations == 3


def test_setup_errors_exit_2_with_the_reason(folder, capsys) -> None:
    assert main(["deconvolve", str(folder), "--model", "no-such-model"]) == 2
    assert "unknown model 'no-such-model'" in capsys.readouterr().err
    assert main(["deconvolve", str(folder), "--method", "richardson-lucy"]) == 2
    assert "--psf" in capsys.readouterr().err


@pytest.mark.parametrize("iterations", [True, 0, -5])
def test_bad_iteration_counts_fail_before_any_file(folder, tmp_path, iterations) -> None:
    with pytest.raises(ValueError, match="iterations must be an integer >= 1"):
        deconvolve_files([folder], method="richardson-lucy", iterations=iterations,
                         out_dir=tmp_path / "out", show_progressbar=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [
    ["deconvolve", "maps", "--method", "richardson-lucy", "--iterations", "0"],
    ["evaluate", "--rl-iterations", "10", "-1"],
])
def test_command_line_refuses_iteration_counts_below_one(command, capsys) -> None:
    with pytest.raises(SystemExit) as error:
        main(command)
    assert error.value.code == 2
    assert "is not an iteration count (an integer >= 1)" in capsys.readouterr().err


def test_precision_from_the_command_line_reaches_the_outputs(folder, tiny_model, tmp_path) -> None:
    out = tmp_path / "out"
    assert main(["deconvolve", str(folder / "a.dm4"), "--model", str(tiny_model), "--out",
                 str(out), "--precision", "bfloat16", "--no-progressbar"]) == 0
    result = hs.load(out / "a_eelspecnet.zspy", lazy=True)
    assert result.metadata.Signal.Deconvolution.precision == "bfloat16"
    with pytest.raises(SystemExit):
        main(["deconvolve", str(folder), "--precision", "half"])
    with pytest.raises(ValueError, match="unknown precision 'half'"):
        deconvolve_files([folder / "a.dm4"], model=tiny_model, out_dir=out, precision="half")


def test_psf_file_feeds_a_reference_model_and_a_blind_one_refuses_it(
        folder, tmp_path, tiny_model, tiny_reference_model) -> None:
    psf = eels_signal(shape=(1,), seed=9).inav[0]
    psf.save(tmp_path / "vacuum.hspy")
    with pytest.raises(ValueError, match="needs the measured vacuum ZLP"):
        deconvolve_files([folder / "a.dm4"], model=tiny_reference_model,
                         show_progressbar=False)
    with pytest.raises(ValueError, match="is blind"):
        deconvolve_files([folder / "a.dm4"], model=tiny_model, psf=tmp_path / "vacuum.hspy",
                         show_progressbar=False)
    summary = deconvolve_files([folder / "a.dm4"], model=tiny_reference_model,
                               psf=tmp_path / "vacuum.hspy", out_dir=tmp_path / "out",
                               show_progressbar=False)
    assert summary.exit_status == 0, str(summary)
    result = hs.load(summary.written[0].output)
    assert result.metadata.Signal.Deconvolution.psf == psf.metadata.General.title
    expected = hs.load(folder / "a.dm4").deconvolve_eelspecnet(tiny_reference_model, psf=psf)
    np.testing.assert_allclose(result.data, expected.data, rtol=1e-5, atol=1e-3)
