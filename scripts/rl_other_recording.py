"""Richardson-Lucy on the held-out vacuum_23 near-ZLP boxes, given (a) the exact
vacuum recording, (b) vacuum_22 / (c) vacuum_17: other recordings of the same
instrument in the same session (the realistic 'recording minutes away').

Usage: python scripts/rl_other_recording.py [ITERATIONS]  (default 200)
"""

import sys

import numpy as np

from hyperspy_eelspecnet.evaluation import near_zlp as nz
from hyperspy_eelspecnet.evaluation.comparison import subset_rng
from hyperspy_eelspecnet.evaluation.generated import EVALUATION_SEED
from hyperspy_eelspecnet.evaluation.responses import (
    REALDATA,
    extended_energy,
    load_response_shape,
    measure,
    quasi_dirac,
    response_for,
)
from hyperspy_eelspecnet.restoration.richardson_lucy import richardson_lucy_kernel
from hyperspy_eelspecnet.simulation.generator import load_measured_zlp


def shape_of(path):
    s = np.clip(load_measured_zlp(REALDATA / path), 0, None)
    from hyperspy_eelspecnet.evaluation.responses import TAPER_CHANNELS as T

    r = 0.5 - 0.5 * np.cos(np.pi * (np.arange(T) + 0.5) / T)
    s[:T] *= r
    s[-T:] *= r[::-1]
    return s


main = load_response_shape("vacuum_23")
others = {
    "vacuum_22": shape_of("ws2_25meV/vacuum_22.txt"),
    "vacuum_17": shape_of("ws2_25meV/vacuum_17.txt"),
}
iters = int(sys.argv[1]) if len(sys.argv) > 1 else 200
for res in nz.RESOLUTIONS_EV:
    resp = response_for(main, res / nz.DISPERSION)
    for case in ("phonon", "coupled"):
        labels = ("vacuum_23", f"{res * 1e3:g} meV", case)
        drawn, m = nz.draw_subset(
            case, res, resp, nz.BOXES, subset_rng(EVALUATION_SEED, "near-zlp", *labels)
        )
        n, px, ch = m.measured.shape
        spectra = m.measured.reshape(-1, ch)
        refs = {"exact": m.vacuum}
        for name, sh in others.items():
            r2 = response_for(sh, res / nz.DISPERSION)
            pad = len(resp)
            zc = np.array([b.zlp_channel for b in drawn])
            e2 = extended_energy(nz.CHANNELS, zc, nz.DISPERSION, max(pad, len(r2)))
            m2 = measure(
                e2,
                quasi_dirac(e2 / nz.DISPERSION),
                np.zeros_like(e2),
                r2,
                max(pad, len(r2)),
                nz.ZLP_COUNTS,
                np.random.default_rng(1),
            )
            refs[name] = m2.vacuum
        out = []
        for rname, vac in refs.items():
            kernels = np.repeat(vac, px, axis=0)
            rest = np.asarray(
                richardson_lucy_kernel(spectra, kernels, iters, workers=-1), float
            ).reshape(n, px, ch)
            sc = nz.score_boxes(rest, m.truth, m.energy, drawn)
            keys = [key for key in sc if key.endswith("_counts") and not key.startswith("SP")]
            out.append(
                f"{rname}: "
                + ", ".join(f"{key}={np.median(sc[key]):.2f}" for key in keys)
                + ", "
                + ", ".join(
                    f"{key}={np.mean(sc[key]):.2f}"
                    for key in sc
                    if key.endswith("_visible") and not key.startswith("SP")
                )
            )
        print(labels, " | ".join(out), flush=True)
