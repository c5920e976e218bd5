"""Box sums of restored silver-nanowire maps against their ground truth.

Usage: python scripts/nanowire_box_sums.py [--richardson-lucy N] [RESTORED.zspy ...]

``RESTORED.zspy`` is what ``eelspecnet demo --out DIR`` writes
(``DIR/silver_nanowire_eelspecnet.zspy``). ``--richardson-lucy N`` adds
the bundled map restored by ``s.richardson_lucy`` with N iterations and
the vacuum ZLP of the simulation (:func:`nanowire_vacuum_zlp`: the ZLP
alone through the map's jitter and OTF, at 100 times its dose). For the
demo's three 7 x 7-pixel boxes (tip, centre, membrane), prints the mean
spectrum's counts summed over the phonon (0.07-0.13 eV), coupled-state C
(0.13-0.19 eV), SP1 (0.5-0.7 eV) and SP2 (1.0-1.1 eV) bands (each from
its first channel to before its last) for the truth, and for the raw map
and each restoration their sums and their ratios to the truth's.
"""

from __future__ import annotations

import argparse

import hyperspy.api as hs

from hyperspy_eelspecnet.data import nanowire_vacuum_zlp, silver_nanowire, silver_nanowire_truth
from hyperspy_eelspecnet.tools.demo import box_mean, box_points

BANDS = {"phonon": (0.07, 0.13), "C": (0.13, 0.19), "SP1": (0.5, 0.7), "SP2": (1.0, 1.1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("restored", nargs="*", help="restored maps (.zspy)")
    parser.add_argument("--richardson-lucy", type=int, metavar="N",
                        help="also restore the map by Richardson-Lucy, N iterations")
    args = parser.parse_args(argv)
    raw, truth = silver_nanowire(), silver_nanowire_truth()
    maps = {"raw": raw}
    if args.richardson_lucy:
        maps[f"RL {args.richardson_lucy}"] = raw.richardson_lucy(
            nanowire_vacuum_zlp(), iterations=args.richardson_lucy, show_progressbar=False)
    maps.update({path: hs.load(path) for path in args.restored})
    energy = raw.axes_manager.signal_axes[0]
    for box, (column, row) in box_points(raw).items():
        true_box = box_mean(truth, column, row)
        for band, (low, high) in BANDS.items():
            inside = slice(energy.value2index(low), energy.value2index(high))
            true_sum = true_box[inside].sum()
            cells = [f"truth {true_sum:.1f}"]
            for name, signal in maps.items():
                value = box_mean(signal, column, row)[inside].sum()
                cells.append(f"{name}: {value:.1f} ({value / true_sum:.2f} of truth)")
            print(f"{box:8s} {band:6s} " + "; ".join(cells))


if __name__ == "__main__":
    main()
