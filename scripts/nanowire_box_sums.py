"""Box sums of a restored silver-nanowire map against its ground truth.

Usage: python scripts/nanowire_box_sums.py RESTORED.zspy [RESTORED.zspy ...]

``RESTORED.zspy`` is what ``eelspecnet demo --out DIR`` writes
(``DIR/silver_nanowire_eelspecnet.zspy``). For the demo's three 7 x 7
pixel boxes (tip, centre, membrane), prints the counts summed over the
phonon (0.08-0.12 eV), SP1 (0.5-0.7 eV) and SP2 (1.0-1.1 eV) bands, for
the raw map, the truth and each restoration, and each restoration over
the truth.
"""

from __future__ import annotations

import sys

import hyperspy.api as hs

from hyperspy_eelspecnet.data import silver_nanowire, silver_nanowire_truth
from hyperspy_eelspecnet.tools.demo import box_mean, box_points

BANDS = {"phonon": (0.08, 0.12), "SP1": (0.5, 0.7), "SP2": (1.0, 1.1)}


def main(paths: list[str]) -> None:
    raw, truth = silver_nanowire(), silver_nanowire_truth()
    restored = {path: hs.load(path) for path in paths}
    energy = raw.axes_manager.signal_axes[0].axis
    for box, (column, row) in box_points(raw).items():
        true_box = box_mean(truth, column, row)
        for band, (low, high) in BANDS.items():
            inside = (energy >= low) & (energy <= high)
            true_sum = true_box[inside].sum()
            cells = [f"raw {box_mean(raw, column, row)[inside].sum():.1f}",
                     f"truth {true_sum:.1f}"]
            for path, signal in restored.items():
                value = box_mean(signal, column, row)[inside].sum()
                cells.append(f"{path}: {value:.1f} ({value / true_sum:.2f} of truth)")
            print(f"{box:8s} {band:6s} " + "; ".join(cells))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
