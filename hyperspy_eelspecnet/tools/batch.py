"""Deconvolve many spectrum-image files, resumably.

Each input map is read lazily, deconvolved block by block and written as
``<out_dir>/<stem>_<method>.zspy`` (HyperSpy's chunked zarr format,
readable with ``hs.load(path, lazy=True)``). A map is first written under
a hidden temporary name in the output folder, ``.<stem>_<method>.partial.zspy``,
and renamed when complete: an interrupted batch leaves no half-written
output, and a rerun skips the maps already done. A file that cannot be
read or deconvolved is reported with its reason and the batch goes on.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tqdm.auto import tqdm

from hyperspy_eelspecnet.inference.blocks import spectrum_chunks

#: File types read as inputs (a ``.zspy`` map is a folder).
READABLE_SUFFIXES = (".dm4", ".dm3", ".hspy", ".zspy")
#: Method name to the suffix of its output files.
METHODS = {"eelspecnet": "eelspecnet", "richardson-lucy": "richardson-lucy"}
#: Bytes per chunk of the written maps (whole spectra per chunk).
OUTPUT_CHUNK_BYTES = 8 * 2**20

Status = Literal["written", "skipped", "failed"]


@dataclass(frozen=True)
class FileResult:
    """What happened to one input.

    Attributes
    ----------
    source
        The input path (or the pattern that matched nothing).
    status
        ``"written"``, ``"skipped"`` (output already there) or ``"failed"``.
    output
        The output path, if there is one.
    reason
        Why it failed, or what was noted (signal type set, out-of-domain
        warnings).
    input_bytes, output_bytes
        Sizes on disk.
    seconds
        Time spent on it.
    """

    source: Path
    status: Status
    output: Path | None = None
    reason: str = ""
    input_bytes: int = 0
    output_bytes: int = 0
    seconds: float = 0.0


@dataclass
class BatchSummary:
    """The outcome of :func:`deconvolve_files`, file by file."""

    results: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0

    def _with(self, status: Status) -> list[FileResult]:
        return [r for r in self.results if r.status == status]

    @property
    def written(self) -> list[FileResult]:
        """Maps deconvolved and written by this run."""
        return self._with("written")

    @property
    def skipped(self) -> list[FileResult]:
        """Maps whose output was already there."""
        return self._with("skipped")

    @property
    def failed(self) -> list[FileResult]:
        """Inputs that could not be read or deconvolved, with reasons."""
        return self._with("failed")

    @property
    def exit_status(self) -> int:
        """0 if no input failed, else 1 (for the command line)."""
        return 1 if self.failed else 0

    def __str__(self) -> str:
        lines = [_describe(result) for result in self.results]
        written = _size_text(sum(r.output_bytes for r in self.written))
        lines.append(
            f"{len(self.written)} written ({written}), "
            f"{len(self.skipped)} skipped, {len(self.failed)} failed "
            f"in {self.seconds:.1f} s"
        )
        return "\n".join(lines)


def _describe(result: FileResult) -> str:
    line = f"{result.status:>7}  {result.source}"
    if result.status == "written":
        line += (f" -> {result.output} ({_size_text(result.input_bytes)} -> "
                 f"{_size_text(result.output_bytes)}, {result.seconds:.1f} s)")
    elif result.status == "skipped":
        line += f": {result.output} exists (overwrite to redo it)"
    return line + (f"\n         {result.reason}" if result.reason else "")


def _size_text(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.1f} kB"


def deconvolve_files(
    inputs: Iterable[str | os.PathLike],
    *,
    model: str | os.PathLike = "nzeels-2048",
    out_dir: str | os.PathLike | None = None,
    method: str = "eelspecnet",
    psf: str | os.PathLike | None = None,
    iterations: int = 50,
    precision: str = "auto",
    overwrite: bool = False,
    show_progressbar: bool = True,
) -> BatchSummary:
    """Deconvolve spectrum-image files and write each result as ``.zspy``.

    Parameters
    ----------
    inputs
        Files, folders (their ``.dm4``, ``.dm3``, ``.hspy`` and ``.zspy``
        maps, not recursive, hidden files and this function's outputs left
        out) and glob patterns (``"data/**/*.dm4"`` recurses).
    model
        EELSpecNet model: a shipped name or an exported model's path.
    out_dir
        Folder of the outputs (created if needed); by default each output
        goes beside its input.
    method
        ``"eelspecnet"`` or ``"richardson-lucy"``.
    psf
        A file holding one vacuum ZLP spectrum recorded with the maps'
        settings (the same dispersion within 1 %): required by
        Richardson-Lucy and by an EELSpecNet model that takes a reference
        (e.g. ``"nzeels-2048-psf"``), refused by a blind model.
    iterations
        Richardson-Lucy iterations.
    precision
        EELSpecNet only: ``"auto"``, ``"float32"`` or ``"bfloat16"`` (see
        :func:`hyperspy_eelspecnet.signals.deconvolution.deconvolve_eelspecnet`).
    overwrite
        Redo maps whose output exists; by default they are skipped.
    show_progressbar
        Show a bar over the files and one per map while it is computed.

    Returns
    -------
    BatchSummary
        Written, skipped and failed files with reasons, sizes and times;
        ``exit_status`` is 1 if any input failed. Out-of-domain warnings
        are kept in each file's ``reason``.

    Raises
    ------
    ValueError
        For a bad method, iteration count or precision, a missing or
        unusable PSF, an unknown model: problems that would fail every file.
    OSError
        If the model's files are missing or corrupt.
    """
    start = time.perf_counter()
    deconvolve = _deconvolver(method, model, psf, iterations, precision)
    sources, summary = _expand_inputs(inputs)
    jobs = _plan_outputs(sources, out_dir, METHODS[method], summary)
    for source, output in tqdm(jobs, desc="maps", unit="map", disable=not show_progressbar):
        summary.results.append(
            _process(source, output, deconvolve, overwrite, show_progressbar)
        )
    summary.seconds = time.perf_counter() - start
    return summary


def _deconvolver(method: str, model, psf, iterations: int, precision: str) -> Callable:
    """The deconvolution of one lazy signal, its arguments checked once."""
    from hyperspy_eelspecnet.inference.precision import resolve_precision
    from hyperspy_eelspecnet.inference.reference import check_reference_use
    from hyperspy_eelspecnet.models.registry import resolve_model
    from hyperspy_eelspecnet.restoration.richardson_lucy import check_iterations
    from hyperspy_eelspecnet.signals import deconvolution

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: give one of {', '.join(METHODS)}")
    if method == "eelspecnet":
        spec = resolve_model(model)
        check_reference_use(spec.preprocessing, psf is not None, spec.name)
        reference = {} if psf is None else {"psf": _load_psf(psf, "the reference model")}
        return functools.partial(deconvolution.deconvolve_eelspecnet, model=model,
                                 precision=resolve_precision(precision),
                                 show_progressbar=False, **reference)
    iterations = check_iterations(iterations)
    return functools.partial(deconvolution.richardson_lucy, psf=_load_psf(psf, "richardson-lucy"),
                             iterations=iterations, show_progressbar=False)


def _load_psf(path, user: str):
    if path is None:
        raise ValueError(
            f"{user} needs a PSF: give psf (--psf FILE), a file holding one "
            "vacuum ZLP spectrum recorded with the maps' settings"
        )
    import hyperspy.api as hs

    if not Path(path).exists():
        raise ValueError(f"PSF file {path} does not exist")
    psf = hs.load(path)
    if isinstance(psf, list) or psf.axes_manager.signal_dimension != 1 or (
        psf.axes_manager.navigation_size > 1
    ):
        raise ValueError(
            f"PSF file {path} must hold one spectrum; save a single one, "
            "e.g. s.inav[x, y].save('vacuum_zlp.hspy')"
        )
    return psf


class _NoMaps(Exception):
    """An input that names no map; the message says why."""


def _expand_inputs(inputs) -> tuple[list[Path], BatchSummary]:
    """Input files, unique, in order; inputs that name none are failures."""
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    summary, found = BatchSummary(), {}
    for item in inputs:
        try:
            for path in _maps_of(str(item)):
                found.setdefault(path.resolve(), path)
        except _NoMaps as error:
            summary.results.append(FileResult(Path(item), "failed", reason=str(error)))
    return list(found.values()), summary


def _maps_of(item: str) -> list[Path]:
    """The maps a file, folder or glob pattern names."""
    path = Path(item)
    kinds = ", ".join(READABLE_SUFFIXES)
    if _is_map(path):
        return [path]
    if path.is_dir():
        candidates, where = list(path.iterdir()), "in this folder"
    elif path.exists():
        raise _NoMaps(f"unsupported file type {path.suffix!r}: give {kinds} files")
    elif any(c in item for c in "*?["):
        candidates, where = [Path(m) for m in glob.glob(item, recursive=True)], "match this pattern"
    else:
        raise _NoMaps("no such file or folder")
    maps = sorted(p for p in candidates if _is_map(p) and not _is_output(p))
    if not maps:
        raise _NoMaps(f"no {kinds} maps {where}")
    return maps


def _is_map(path: Path) -> bool:
    readable = path.is_file() or (path.suffix.lower() == ".zspy" and path.is_dir())
    return readable and path.suffix.lower() in READABLE_SUFFIXES and not path.name.startswith(".")


def _is_output(path: Path) -> bool:
    return path.suffix == ".zspy" and path.stem.endswith(tuple(f"_{s}" for s in METHODS.values()))


def _plan_outputs(sources: list[Path], out_dir, suffix: str,
                  summary: BatchSummary) -> list[tuple[Path, Path]]:
    """Pair each input with its output; two inputs may not share one."""
    jobs, owners = [], {}
    for source in sources:
        folder = Path(out_dir) if out_dir is not None else source.parent
        output = folder / f"{source.stem}_{suffix}.zspy"
        owner = owners.setdefault(output.resolve(), source)
        if owner is source:
            jobs.append((source, output))
        else:
            summary.results.append(FileResult(
                source, "failed", output,
                reason=f"its output would be that of {owner}: give them separate out_dir "
                       "folders or rename one",
            ))
    return jobs


def _process(source: Path, output: Path, deconvolve: Callable, overwrite: bool,
             show_progressbar: bool) -> FileResult:
    """Deconvolve one map into ``output``, through a temporary name."""
    if output.exists() and not overwrite:
        return FileResult(source, "skipped", output)
    start = time.perf_counter()
    partial = output.with_name(f".{output.stem}.partial{output.suffix}")
    stage = "reading"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            signal, notes = _load_spectra(source)
            stage = "deconvolving"
            write_zspy(deconvolve(signal), partial, show_progressbar=show_progressbar)
        _replace(partial, output)
    except Exception as error:  # a bad file must not stop the batch
        return FileResult(source, "failed", output, reason=f"{stage}: {_error_text(error)}",
                          input_bytes=_size(source), seconds=time.perf_counter() - start)
    finally:
        _remove(partial)
    return FileResult(source, "written", output, reason="; ".join(notes + _notes(caught)),
                      input_bytes=_size(source), output_bytes=_size(output),
                      seconds=time.perf_counter() - start)


def _error_text(error: Exception) -> str:
    kind = type(error)
    name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
    return f"{name}: {error}"


def _notes(caught: list[warnings.WarningMessage]) -> list[str]:
    """Messages of our warnings, once each; other warnings are shown again."""
    from hyperspy_eelspecnet.inference.domain import OutOfDomainWarning

    notes = []
    for w in caught:
        if issubclass(w.category, OutOfDomainWarning) or w.category is UserWarning:
            notes.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return list(dict.fromkeys(notes))


def _load_spectra(path: Path):
    """The one spectrum image of a file, lazily, as an EELS signal."""
    import hyperspy.api as hs
    from exspy.signals import EELSSpectrum

    loaded = hs.load(path, lazy=True)
    signals = loaded if isinstance(loaded, list) else [loaded]
    spectra = [s for s in signals if s.axes_manager.signal_dimension == 1]
    if len(spectra) != 1:
        dims = ", ".join(str(s.axes_manager.signal_dimension) for s in signals)
        raise ValueError(
            f"the file holds {len(spectra)} spectrum signals (signal dimensions: {dims}); "
            "deconvolution needs exactly one spectrum image per file"
        )
    signal, notes = spectra[0], []
    if not isinstance(signal, EELSSpectrum):
        notes.append(f"signal type {signal.metadata.Signal.signal_type!r} set to 'EELS'")
        signal.set_signal_type("EELS")
    return signal, notes


def write_zspy(signal, path: str | os.PathLike, *, show_progressbar: bool = False) -> None:
    """Save a signal as ``.zspy``, chunked by whole spectra.

    Parameters
    ----------
    signal
        Eager or lazy; a lazy signal is computed while it is written.
    path
        The ``.zspy`` folder, replaced if it exists.
    show_progressbar
        Show a progress bar while a lazy signal is computed.
    """
    path = Path(path)
    chunks = spectrum_chunks(signal.data, OUTPUT_CHUNK_BYTES).chunksize
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # RosettaSciIO's zspy writer uses this zarr 2.18 store; nothing to do here.
        warnings.filterwarnings("ignore", "The NestedDirectoryStore is deprecated", FutureWarning)
        signal.save(path, overwrite=True, chunks=chunks, show_progressbar=show_progressbar)


def _replace(partial: Path, output: Path) -> None:
    """Move a finished ``.zspy`` folder onto ``output``, replacing it."""
    if output.exists():
        old = output.with_name(f".{output.stem}.old{output.suffix}")
        _remove(old)
        output.rename(old)
        partial.rename(output)
        _remove(old)
    else:
        partial.rename(output)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size if path.exists() else 0
