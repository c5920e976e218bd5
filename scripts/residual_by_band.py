"""Where a restoration's re-convolution residual lies, band by band of energy.

Usage: python scripts/residual_by_band.py [--real DIR] [--dispersion D]
       [--richardson-lucy N ...] [MODEL ...]

The figure of ``eelspecnet evaluate --real`` (``reconvolution_residual``:
the RMS of measured minus restored-and-re-convolved, from 0.3 eV past the
ZLP, over one noise level per spectrum) split into bands of energy past
the ZLP. For each method, prints the median over the folder's spectra of
each band's RMS, and of the whole figure. Every model that takes a vacuum
reference gets Richardson-Lucy's kernel, the median of the folder's
vacuum recordings, as ``evaluate --real`` gives it.
"""

from __future__ import annotations

import argparse

import numpy as np

from hyperspy_eelspecnet import metrics
from hyperspy_eelspecnet.evaluation.real_data import energy_past_zlp, load_real_set
from hyperspy_eelspecnet.inference.restore import restore_spectra
from hyperspy_eelspecnet.models.registry import resolve_model
from hyperspy_eelspecnet.restoration.richardson_lucy import richardson_lucy_kernel

#: Bands of energy past the ZLP (eV), from the residual's start at 0.3 eV.
BANDS = ((0.3, 0.6), (0.6, 1.0), (1.0, 2.0), (2.0, 4.0), (4.0, 8.0), (8.0, 16.0),
         (16.0, 30.0), (30.0, 50.0))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", metavar="MODEL")
    parser.add_argument("--real", default="../shared/realdata/ws2_25meV")
    parser.add_argument("--dispersion", type=float, default=0.025013)
    parser.add_argument("--richardson-lucy", type=int, action="append", default=None,
                        metavar="N", help="Richardson-Lucy iterations (repeat; default 400)")
    args = parser.parse_args(argv)
    real = load_real_set(args.real, args.dispersion)
    measured, kernel = real.specimen, real.kernel
    restored = {f"RL-{n}": richardson_lucy_kernel(measured, kernel, n)
                for n in args.richardson_lucy or [400]}
    for name in args.models:
        spec = resolve_model(name)
        if spec.preprocessing.restores == "zlp_free":
            raise SystemExit(f"{name} restores no ZLP: re-convolving it needs its ZLP back")
        reference = kernel if spec.preprocessing.takes_reference else None
        restored[name] = restore_spectra(measured, spec, reference=reference).astype(float)
    energy = energy_past_zlp(measured, args.dispersion)
    past = energy >= BANDS[0][0]
    sigma = metrics.highpass_noise_sigma(measured, past)  # the whole figure's noise level
    heads = [f"{a:g}-{b:g} eV" for a, b in BANDS]
    print("| method | " + " | ".join(heads) + " | whole |")
    print("|---" * (len(BANDS) + 2) + "|")
    for method, spectra in restored.items():
        cells = [np.nanmedian(metrics.reconvolution_residual(
            spectra, measured, kernel, past & (energy >= a) & (energy < b), sigma))
            for a, b in BANDS]
        cells.append(np.median(metrics.reconvolution_residual(spectra, measured, kernel, past)))
        print(f"| {method} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
