"""The methods added to exspy's ``EELSSpectrum`` and ``LazyEELSSpectrum``.

Each method only checks its input and orchestrates: the numerical work is
done by plain-array kernels (:mod:`hyperspy_eelspecnet.inference.restore`,
:mod:`hyperspy_eelspecnet.restoration.richardson_lucy`) mapped over blocks
of whole spectra by :func:`hyperspy_eelspecnet.inference.blocks.map_spectra`.
Axes, ``metadata`` and ``original_metadata`` are carried over; the input
is never modified unless ``inplace=True``.
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
from hyperspy.docstrings.signal import SHOW_PROGRESSBAR_ARG
from hyperspy.exceptions import SignalDimensionError

import hyperspy_eelspecnet
from hyperspy_eelspecnet.inference.blocks import map_spectra
from hyperspy_eelspecnet.inference.domain import DomainReport, OutOfDomainWarning
from hyperspy_eelspecnet.inference.energy_units import ENERGY_UNITS, ev_per_unit
from hyperspy_eelspecnet.inference.precision import resolve_precision
from hyperspy_eelspecnet.inference.reference import check_reference_use
from hyperspy_eelspecnet.inference.restore import restore_spectra
from hyperspy_eelspecnet.models.registry import MODELS_DIR, ModelSpec, resolve_model
from hyperspy_eelspecnet.restoration.richardson_lucy import (
    check_iterations,
    richardson_lucy_kernel,
)

#: HyperSpy's ``show_progressbar`` parameter text, indented for these
#: methods' docstrings, and what it does for a lazy signal.
_SHOW_PROGRESSBAR_DOC = "\n        ".join(
    [line.strip() for line in SHOW_PROGRESSBAR_ARG.splitlines()]
    + ["For a lazy signal it has no effect: the result's ``compute()`` decides."]
)


def _shared_docs(function):
    """Fill the ``{show_progressbar}`` placeholder of a docstring with HyperSpy's text."""
    function.__doc__ = function.__doc__.replace("{show_progressbar}", _SHOW_PROGRESSBAR_DOC)
    return function


class SpectrumDimensionError(SignalDimensionError, ValueError):
    """A spectrum method was given a signal whose signal dimension is not 1.

    HyperSpy's :class:`~hyperspy.exceptions.SignalDimensionError` (what
    HyperSpy and exspy raise in this case), with a message that says what
    to do; also a ``ValueError``, as this error was before.

    Parameters
    ----------
    dimension
        The signal dimension given.
    message
        The message.
    """

    def __init__(self, dimension: int, message: str) -> None:
        super().__init__(dimension, 1)
        self.msg = message

    def __str__(self) -> str:
        return self.msg


#: Fewer channels than this cannot hold a ZLP and a loss region.
MIN_CHANNELS = 64


def _show_progressbar(value: bool | None) -> bool:
    if value is None:
        from hyperspy.defaults_parser import preferences

        return bool(preferences.General.show_progressbar)
    return bool(value)


def check_spectrum_signal(signal, method: str, min_channels: int = MIN_CHANNELS) -> None:
    """Raise a clear error for signals a spectrum method cannot process.

    Checks: signal dimension 1, a uniform energy axis of at least
    ``min_channels`` channels and real data; NaN and infinite values are
    refused block by block, when the data are computed (eager signals at
    once). Warns when the energy axis is not in a unit of energy (eV,
    meV, keV...: see :mod:`hyperspy_eelspecnet.inference.energy_units`);
    the axis is not converted, the networks work in channels.
    """
    dim = signal.axes_manager.signal_dimension
    if dim != 1:
        raise SpectrumDimensionError(
            dim,
            f"{method} needs spectra (signal dimension 1), got signal "
            f"dimension {dim}; turn an image stack into spectra with "
            "s.as_signal1D(spectral_axis)"
        )
    axis = signal.axes_manager.signal_axes[0]
    if not axis.is_uniform:
        raise ValueError(
            f"{method} needs a uniform energy axis; interpolate onto one "
            "first, e.g. s.interpolate_on_axis(new_uniform_axis)"
        )
    if axis.size < min_channels:
        raise ValueError(
            f"{method} needs at least {min_channels} channels, got "
            f"{axis.size}; use the full spectrum, not a crop of the ZLP"
        )
    if np.iscomplexobj(np.empty(0, signal.data.dtype)):
        raise ValueError(f"{method} needs real data, got {signal.data.dtype}")
    if ev_per_unit(axis.units) is None:
        named = isinstance(axis.units, str) and axis.units
        given = f"is in {axis.units!r}" if named else "has no unit"
        warnings.warn(
            f"{method}: the energy axis {given}: it should be in {ENERGY_UNITS}; "
            "the models work in channels, but check the calibration and set "
            "the unit, e.g. s.axes_manager.signal_axes[0].units = 'eV'",
            UserWarning,
            stacklevel=3,
        )


def _check_finite(data: np.ndarray, method: str) -> None:
    bad = ~np.isfinite(data)
    if bad.any():
        raise ValueError(
            f"{method}: {int(bad.sum())} values are NaN or infinite; fix them "
            "on a copy first, e.g. s2 = s.deepcopy(); "
            "s2.data = np.nan_to_num(s2.data), or crop those pixels away"
        )


def _result(signal, data, inplace: bool, label: str, provenance: dict):
    """A signal with ``data`` and the input's axes, metadata marked."""
    target = signal if inplace else signal._deepcopy_with_new_data(data)
    if inplace:
        signal.data = data
    title = signal.metadata.General.title
    target.metadata.General.title = f"{title} ({label})" if title else label
    target.metadata.set_item("Signal.Deconvolution", provenance)
    if inplace:
        signal.events.data_changed.trigger(obj=signal)
        return None
    return target


def _restore_block(spectra: np.ndarray, *per_pixel_psf: np.ndarray, model: ModelSpec,
                   batch_size: int, precision: str, report: DomainReport,
                   psf: np.ndarray | None = None) -> np.ndarray:
    _check_finite(spectra, "deconvolve_eelspecnet")
    reference = per_pixel_psf[0] if per_pixel_psf else psf
    report.check(spectra, reference)
    return restore_spectra(spectra, model, batch_size, precision, reference=reference)


#: Relative difference of dispersions above which a PSF is refused.
DISPERSION_TOLERANCE = 0.01


def check_same_dispersion(signal, psf, method: str) -> None:
    """Refuse a PSF recorded with another dispersion than the data's.

    Both energy axes are compared in eV when both are in a unit of energy
    (a map in meV and a PSF in eV compare as they should), else as their
    axes give them. A PSF given as a plain array has no axis to compare.

    Raises
    ------
    ValueError
        If the dispersions differ by more than
        :data:`DISPERSION_TOLERANCE`, naming both.
    """
    if not hasattr(psf, "axes_manager"):
        return
    axes = [s.axes_manager.signal_axes[0] for s in (signal, psf)]
    factors = [ev_per_unit(axis.units) for axis in axes]
    unit = " eV"
    if None in factors:
        factors, unit = [1.0, 1.0], ""
    data_dispersion, psf_dispersion = (axis.scale * f for axis, f in zip(axes, factors,
                                                                           strict=True))
    if abs(psf_dispersion - data_dispersion) > DISPERSION_TOLERANCE * abs(data_dispersion):
        raise ValueError(
            f"{method}: the PSF has {psf_dispersion:.6g}{unit} per channel, the data "
            f"{data_dispersion:.6g}{unit}: record the vacuum ZLP with the data's "
            "dispersion, or rebin one of them to the other's"
        )


def _psf_arguments(signal, psf, method: str) -> tuple[tuple, dict, dict]:
    """Check a PSF and say how :func:`map_spectra` should pass it.

    Returns
    -------
    tuple
        ``per_pixel`` (the PSF rows, if one per pixel), the keyword
        arguments of the block function (``psf``, if one for all), and the
        PSF's provenance (its title and the sha256 of its values).
    """
    check_same_dispersion(signal, psf, method)
    psf_data = psf.data if hasattr(psf, "data") else np.asarray(psf)
    nav_shape = signal.data.shape[:-1]
    if psf_data.ndim > 1 and psf_data.shape[:-1] == nav_shape:
        per_pixel, kwargs = (psf_data,), {}
    elif psf_data.ndim == 1 or int(np.prod(psf_data.shape[:-1])) == 1:
        per_pixel, kwargs = (), {"psf": np.asarray(psf_data).reshape(-1)}
    else:
        raise ValueError(
            f"{method}: psf must be one spectrum or have the signal's navigation shape "
            f"{nav_shape}, got shape {psf_data.shape}"
        )
    provenance = {
        "psf": psf.metadata.General.title if hasattr(psf, "metadata") else "array",
        "psf_sha256": _sha256(psf_data),
    }
    return per_pixel, kwargs, provenance


def _sha256(values) -> str:
    """sha256 of an array's float64 values; empty for a lazy one (not computed)."""
    if not isinstance(values, np.ndarray):
        return ""
    return hashlib.sha256(np.ascontiguousarray(values, dtype=np.float64).tobytes()).hexdigest()


@_shared_docs
def deconvolve_eelspecnet(
    self,
    model: str = "nzeels-2048",
    *,
    psf=None,
    inplace: bool = False,
    show_progressbar: bool | None = None,
    batch_size: int = 256,
    precision: str = "auto",
):
    """Restore the spectra with an EELSpecNet network.

    Undoes in one pass the energy jitter, the optical transfer function
    and the high-frequency noise of near-zero-loss spectra (Mousavi et
    al., Sci. Rep. 12, 17462, 2022). Each spectrum is normalised to unit
    integral, aligned on its ZLP maximum, restored and scaled back.

    Parameters
    ----------
    model
        Name of a shipped model (see
        :func:`hyperspy_eelspecnet.list_models`) or path of an exported
        model directory.
    psf
        The measured vacuum ZLP, for a model that takes one (its card's
        ``preprocessing.reference``, e.g. ``"nzeels-2048-psf"``): one
        spectrum for every pixel (a vacuum recording of any length and
        offset, with the data's dispersion within 1 %), or a signal with
        the data's navigation shape (one reference per pixel). It is
        aligned and normalised as the spectra are. A blind model refuses
        it; its title and the sha256 of its values go in the provenance.
    inplace
        Replace this signal's data instead of returning a new signal.
    {show_progressbar}
    batch_size
        Spectra per network call.
    precision
        ``"float32"``, ``"bfloat16"`` (the network computes in bfloat16:
        about twice as fast on processors with AMX or AVX-512 BF16, the
        restoration slightly different) or ``"auto"``, float32 for now
        (see :mod:`hyperspy_eelspecnet.inference.precision`). The
        precision used is recorded in the provenance.

    Returns
    -------
    EELSSpectrum or LazyEELSSpectrum or None
        The restoration, same class, laziness, axes and metadata as the
        input, float32, title marked and provenance in
        ``metadata.Signal.Deconvolution``; None if ``inplace``. With a
        quasi-Dirac model each spectrum keeps its total counts; with a
        ZLP-free model the result is the loss spectrum alone.

    Warns
    -----
    OutOfDomainWarning
        Once per call and reason, with numbers: no ZLP found, a ZLP width
        outside the trained range, strongly negative counts, a loss
        region below zero beyond its noise (an over-subtracted dark
        level), a channel count outside the validated range.
    ReferenceMismatchWarning
        An ``OutOfDomainWarning``, once per call: the vacuum reference
        ``psf`` does not match the spectra's ZLP on the energy-gain side
        (another instrument's or setting's recording?; see
        :mod:`~hyperspy_eelspecnet.inference.reference_match`).
    UserWarning
        If the energy axis is not in a unit of energy (eV, meV, keV...);
        the axis is kept as given, in whichever unit of energy.

    Examples
    --------
    >>> import hyperspy.api as hs
    >>> import hyperspy_eelspecnet
    >>> s = hyperspy_eelspecnet.data.silver_nanowire(lazy=True)
    >>> r = s.deconvolve_eelspecnet("nzeels-2048")
    >>> r.compute()  # doctest: +SKIP
    """
    spec = resolve_model(model)
    precision = resolve_precision(precision)
    check_spectrum_signal(self, "deconvolve_eelspecnet")
    check_reference_use(spec.preprocessing, psf is not None, spec.name)
    per_pixel, psf_kwargs, psf_provenance = (
        ((), {}, {}) if psf is None else _psf_arguments(self, psf, "deconvolve_eelspecnet"))
    domain = spec.card.domain
    channels = self.axes_manager.signal_axes[0].size
    lo, hi = domain.channels
    report = DomainReport(spec.name, domain, immediate=self._lazy)
    if not lo <= channels <= hi:
        warnings.warn(
            f"{channels} channels: {spec.name} was validated on {lo} to {hi} "
            "channels; check the restoration (rebin or crop the energy axis)",
            OutOfDomainWarning,
            stacklevel=2,
        )
    data = map_spectra(self.data, _restore_block, per_pixel=per_pixel, dtype=np.float32,
                       show_progressbar=_show_progressbar(show_progressbar),
                       model=spec, batch_size=batch_size, precision=precision,
                       report=report, **psf_kwargs)
    if not self._lazy:
        report.emit()
    provenance = {
        "method": "EELSpecNet",
        "model": spec.name,
        "model_path": "" if spec.path.parent == MODELS_DIR else str(spec.path),
        "target": spec.preprocessing.restores,
        "weights_sha256": spec.sha256,
        "precision": precision,
        **psf_provenance,
        "package": "hyperspy_eelspecnet",
        "package_version": hyperspy_eelspecnet.__version__,
    }
    return _result(self, data, inplace, f"EELSpecNet {spec.name}", provenance)


@_shared_docs
def richardson_lucy(
    self,
    psf,
    iterations: int = 50,
    *,
    inplace: bool = False,
    show_progressbar: bool | None = None,
):
    """Richardson-Lucy deconvolution, batched over whole blocks.

    Gives the result of exspy's ``richardson_lucy_deconvolution`` (the
    PSF's maximum is its centre) with FFT convolutions over all spectra of
    a block at once.

    Parameters
    ----------
    psf
        The point spread function: a single spectrum (e.g. a vacuum ZLP
        recording) used for every pixel, or a signal with the same
        navigation shape (one PSF per pixel). Its length may differ from
        the data's; it is normalised to unit sum. A PSF signal's
        dispersion must match the data's within 1 %.
    iterations
        Number of iterations, an integer >= 1 (see
        :func:`~hyperspy_eelspecnet.restoration.richardson_lucy.check_iterations`).
    inplace
        Replace this signal's data instead of returning a new signal.
    {show_progressbar}

    Returns
    -------
    EELSSpectrum or LazyEELSSpectrum or None
        The deconvolved signal, same class, laziness, axes and metadata as
        the input, float32; None if ``inplace``.

    Warns
    -----
    ReferenceMismatchWarning
        Once per call: the PSF does not match the spectra's ZLP on the
        energy-gain side (another instrument's or setting's recording?;
        see :mod:`~hyperspy_eelspecnet.inference.reference_match`).
    UserWarning
        If the energy axis is not in a unit of energy (eV, meV, keV...).
    """
    check_spectrum_signal(self, "richardson_lucy", min_channels=2)
    iterations = check_iterations(iterations)
    per_pixel, kwargs, psf_provenance = _psf_arguments(self, psf, "richardson_lucy")
    report = DomainReport("richardson_lucy", None, immediate=self._lazy)
    data = map_spectra(self.data, _richardson_lucy_block, per_pixel=per_pixel,
                       dtype=np.float32,
                       show_progressbar=_show_progressbar(show_progressbar),
                       iterations=iterations, report=report, **kwargs)
    if not self._lazy:
        report.emit()
    provenance = {
        "method": "Richardson-Lucy",
        "iterations": iterations,
        **psf_provenance,
        "package": "hyperspy_eelspecnet",
        "package_version": hyperspy_eelspecnet.__version__,
    }
    return _result(self, data, inplace, f"Richardson-Lucy {iterations} it.", provenance)


def _richardson_lucy_block(spectra: np.ndarray, *per_pixel_psf: np.ndarray,
                           iterations: int, report: DomainReport,
                           psf: np.ndarray | None = None) -> np.ndarray:
    _check_finite(spectra, "richardson_lucy")
    kernel = per_pixel_psf[0] if per_pixel_psf else psf
    report.check(spectra, kernel)
    return richardson_lucy_kernel(spectra, kernel, iterations, workers=-1).astype(np.float32)

