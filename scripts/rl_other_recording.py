"""Richardson-Lucy on the near-ZLP set given another vacuum recording.

Usage::

    python scripts/rl_other_recording.py [ITERATIONS]

The phonon and coupled boxes of ``eelspecnet evaluate --near-zlp``
through the held-out ``vacuum_23`` response (the same seed and spectra)
are restored by Richardson-Lucy (ITERATIONS, 200 by default) three
times: with the set's own vacuum recording (the ZLP alone through the
same response, as the evaluation gives it), and with ``vacuum_22`` or
``vacuum_17`` in its place, other recordings of the same instrument in
the same session, stretched to the same total resolution and at the
same dose: the recording a user would have, made minutes away. Prints
the median band counts over the truth's and the share of boxes where
each peak is visible. ``eelspecnet evaluate --near-zlp`` gives the
``vacuum_22`` figures too (columns ``<method>, another recording``),
beside the models.
"""

import sys

import numpy as np

from hyperspy_eelspecnet.evaluation import near_zlp
from hyperspy_eelspecnet.evaluation.comparison import subset_rng
from hyperspy_eelspecnet.evaluation.generated import EVALUATION_SEED
from hyperspy_eelspecnet.evaluation.responses import (
    load_recording,
    load_response_shape,
    response_for,
)
from hyperspy_eelspecnet.restoration.richardson_lucy import richardson_lucy_kernel

#: Other recordings of the held-out response's instrument and session.
OTHER_RECORDINGS = ("ws2_25meV/vacuum_22.txt", "ws2_25meV/vacuum_17.txt")
CASES = ("phonon", "coupled")
#: Seed of the other recordings' Poisson noise.
NOISE_SEED = 1


def scores_line(scores: dict[str, np.ndarray]) -> str:
    """The near-ZLP bands' median counts and visible shares (SP1 left out)."""
    near = [name for name in scores if not name.startswith("SP")]
    return ", ".join([f"{n}={np.median(scores[n]):.2f}" for n in near if n.endswith("_counts")]
                     + [f"{n}={np.mean(scores[n]):.2f}" for n in near if n.endswith("_visible")])


def main(iterations: int) -> None:
    """Print the scores of each case and resolution with each recording."""
    main_shape = load_response_shape("vacuum_23")
    others = {path.split("/")[-1][:-4]: load_recording(path) for path in OTHER_RECORDINGS}
    for resolution in near_zlp.RESOLUTIONS_EV:
        fwhm = resolution / near_zlp.DISPERSION
        response = response_for(main_shape, fwhm)
        other_responses = {name: response_for(shape, fwhm) for name, shape in others.items()}
        for case in CASES:
            labels = ("vacuum_23", f"{resolution * 1e3:g} meV", case)
            drawn, measurement = near_zlp.draw_subset(
                case, resolution, response, near_zlp.BOXES,
                subset_rng(EVALUATION_SEED, "near-zlp", *labels))
            n, pixels, channels = measurement.measured.shape
            recordings = {"exact": measurement.vacuum} | {
                name: near_zlp.another_recording(other, drawn, np.random.default_rng(NOISE_SEED))
                for name, other in other_responses.items()}
            lines = []
            for name, vacuum in recordings.items():
                restored = richardson_lucy_kernel(measurement.measured.reshape(-1, channels),
                                                  np.repeat(vacuum, pixels, axis=0),
                                                  iterations, workers=-1)
                scores = near_zlp.score_boxes(np.asarray(restored, float).reshape(
                    n, pixels, channels), measurement.truth, measurement.energy, drawn)
                lines.append(f"{name}: {scores_line(scores)}")
            print(labels, " | ".join(lines), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
