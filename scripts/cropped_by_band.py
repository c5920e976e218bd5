"""Where a restoration's error on the cropped set lies, band by band of energy.

Usage: python scripts/cropped_by_band.py [--dose-factor F ...] [MODEL ...]

The figure of ``eelspecnet evaluate --near-zlp`` on the cropped set
(``relative_rms``: the RMS of restored minus truth over 0.1-4 eV, over
the truth's maximum there) split into bands of energy past the ZLP, on
its base variant (441 channels of 10 meV, the ZLP at channel 40) through
each response, with the evaluation's seed. With ``--dose-factor``, the
same truths are counted again at that many times the set's dose: an
error that does not fall with the dose is a bias, not noise. Prints, for
the raw spectra, each model and Richardson-Lucy, the median over the
spectra of each band's figure and of the whole one. Every model that
takes a vacuum reference gets each spectrum's vacuum recording, as
Richardson-Lucy does.
"""

from __future__ import annotations

import argparse

import numpy as np

from hyperspy_eelspecnet.evaluation import cropped
from hyperspy_eelspecnet.evaluation.comparison import restore_with_methods, subset_rng
from hyperspy_eelspecnet.evaluation.generated import EVALUATION_SEED
from hyperspy_eelspecnet.evaluation.responses import (
    REALDATA,
    RESPONSES,
    load_response_shape,
    response_for,
)
from hyperspy_eelspecnet.models.registry import resolve_model

#: Bands of energy past the ZLP (eV) within the set's scored region.
BANDS = ((0.1, 0.35), (0.35, 1.0), (1.0, 4.0))
#: The variant split here.
VARIANT = "441 ch, ZLP at 40"
#: Richardson-Lucy iteration counts shown.
RL_ITERATIONS = (10, 50)


def band_errors(restored: np.ndarray, truth: np.ndarray, energy: np.ndarray) -> list[float]:
    """Median over the spectra of each band's figure, and of the whole region's."""
    return [float(np.median(cropped.relative_rms(restored, truth, energy, band)))
            for band in (*BANDS, cropped.REGION_EV)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", metavar="MODEL")
    parser.add_argument("--dose-factor", type=float, action="append", default=None,
                        metavar="F", help="times the set's dose (repeat; default 1)")
    args = parser.parse_args(argv)
    specs = [resolve_model(name) for name in args.models]
    dispersion = cropped.VARIANTS[VARIANT][0]
    heads = [f"{a:g}-{b:g} eV" for a, b in BANDS] + ["whole"]
    print("| response | dose | method | " + " | ".join(heads) + " |")
    print("|---" * (len(heads) + 3) + "|")
    responses = {name: response_for(load_response_shape(name, REALDATA),
                                    cropped.RESOLUTION_EV / dispersion) for name in RESPONSES}
    low, high = cropped.ZLP_COUNTS
    for factor in args.dose_factor or [1.0]:
        for name, response in responses.items():
            rng = subset_rng(EVALUATION_SEED, "cropped", name, VARIANT)
            measurement = cropped.draw_subset(VARIANT, response, cropped.SPECTRA, rng,
                                              (low * factor, high * factor))
            restorations = restore_with_methods(measurement, specs, RL_ITERATIONS, "float32")
            for method, (restored, zlp_free) in restorations.items():
                if method == "truth":
                    continue
                cells = band_errors(restored[:, 0], measurement.reference(zlp_free),
                                    measurement.energy)
                print(f"| {name} | {factor:g}x | {method} | "
                      + " | ".join(f"{c:.4f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
