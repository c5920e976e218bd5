"""Condense ``near_zlp.json`` (``eelspecnet evaluate --near-zlp``) into one markdown table.

Per response, the phonon, coupled-state and doublet figures at 30 / 45 / 65
meV, the cropped set's error on its first variant and the gain side's
temperature ratio at 300 K, for every method; the README quotes it.

Usage::

    python scripts/near_zlp_summary.py docs/results/near_zlp.json
"""

from __future__ import annotations

import argparse
import json

RESOLUTIONS = ("30 meV", "45 meV", "65 meV")
#: (set, case, measure, label) rows taken at each resolution.
NEAR_ROWS = (
    ("phonon", "phonon_counts", "phonon counts / truth"),
    ("phonon", "phonon_pixel_error", "phonon per-pixel error"),
    ("phonon", "phonon_visible", "phonon visible as a peak (share of boxes)"),
    ("coupled", "C_counts", "C counts / truth"),
    ("coupled", "C_visible", "C visible as a peak"),
    ("doublet-1.0", "dip_visible", "doublet 1 FWHM apart: dip shown"),
)


def _medians(summary: dict, response: str, case: str, method: str, measure: str) -> str:
    """The medians at each resolution, or blank where the method did not run."""
    subsets = [summary[f"{response} / {r} / {case}"] for r in RESOLUTIONS]
    if method not in subsets[0]:  # e.g. another recording, which only some responses have
        return ""
    return " / ".join(f"{subset[method][measure]['median']:.2f}" for subset in subsets)


def near_zlp_rows(summary: dict, methods: list[str], response: str) -> list[str]:
    """Markdown rows of the near-ZLP set for one response."""
    rows = []
    for case, measure, label in NEAR_ROWS:
        cells = [_medians(summary, response, case, m, measure) for m in methods]
        rows.append(f"| {response} | {label} (30 / 45 / 65 meV) | " + " | ".join(cells) + " |")
    return rows


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("near_zlp_json")
    args = parser.parse_args()
    with open(args.near_zlp_json) as f:
        summary = json.load(f)["summary"]
    near = summary["near-zlp"]
    methods = [m for m in next(iter(near.values())) if m != "truth"]
    print("| response | measure | " + " | ".join(methods) + " |")
    print("|---|---|" + "---|" * len(methods))
    responses = sorted({subset.split(" / ")[0] for subset in near}, reverse=True)
    for response in responses:
        print("\n".join(near_zlp_rows(near, methods, response)))
    if not {"cropped", "gain-side"} <= summary.keys():  # evaluated on the near-ZLP set alone
        return
    for response in responses:
        cropped = summary["cropped"][f"{response} / 441 ch, ZLP at 40"]
        gain = summary["gain-side"][f"{response} / 0.5 meV/ch / 300 K"]
        best = cropped["RL-best"]["relative_rms"]["median"]
        print(f"| {response} | cropped 441 ch: RMS error / truth max (RL-best {best:.3f}) | "
              + " | ".join(f"{cropped[m]['relative_rms']['median']:.3f}" if m in cropped
                           else "" for m in methods) + " |")
        print(f"| {response} | gain side 0.5 meV, 300 K: T recovered / drawn | "
              + " | ".join(f"{gain[m]['T_ratio']['median']:.2f}" if m in gain else ""
                           for m in methods) + " |")


if __name__ == "__main__":
    main()
