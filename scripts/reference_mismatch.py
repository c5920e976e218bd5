"""Measure the gain-side mismatch of right and wrong vacuum references.

:func:`hyperspy_eelspecnet.inference.reference_match.gain_side_mismatch`
on spectra whose right reference is known, to place
``MISMATCH_LIMIT`` (the reference-mismatch warning) between them:

- the near-ZLP set's boxes (49 pixels, and one pixel of each), given
  their own vacuum recording, another recording of the session
  (``vacuum_22`` for ``vacuum_23``) and another instrument's ZLP
  stretched to the same width, as ``eelspecnet evaluate --near-zlp``
  gives them;
- the gain-side set's spectra (0.5 and 1 meV per channel, gain peaks
  at 200 to 600 K), given their own recording;
- the WS2 spectra of ``ws2_25meV`` given their session's vacuum median.

Prints min / median / max per row (NaN: too noisy to judge, which never
warns). Usage::

    python scripts/reference_mismatch.py [--realdata ../shared/realdata]
"""

from __future__ import annotations

import argparse

import numpy as np

from hyperspy_eelspecnet.evaluation import gain_side, near_zlp
from hyperspy_eelspecnet.evaluation.generated import EVALUATION_SEED
from hyperspy_eelspecnet.evaluation.real_data import load_real_set
from hyperspy_eelspecnet.evaluation.responses import (
    REALDATA,
    RESPONSES,
    SESSION_RECORDINGS,
    check_realdata,
    load_recording,
    load_response_shape,
    response_for,
)
from hyperspy_eelspecnet.inference.reference_match import MISMATCH_LIMIT, gain_side_mismatch

#: eV per channel of ``ws2_25meV`` (its README).
WS2_DISPERSION = 0.025013


def near_zlp_rows(realdata, rng) -> dict[str, list[float]]:
    """Mismatches over the near-ZLP set: per reference, for boxes and single pixels."""
    rows: dict[str, list[float]] = {}
    shapes = {name: load_response_shape(name, realdata) for name in RESPONSES}
    for name, shape in shapes.items():
        other = next(s for o, s in shapes.items() if o != name)
        session = SESSION_RECORDINGS.get(name)
        session_shape = None if session is None else load_recording(session, realdata)
        for resolution in near_zlp.RESOLUTIONS_EV:
            width = resolution / near_zlp.DISPERSION
            response, other_response = response_for(shape, width), response_for(other, width)
            session_response = (None if session_shape is None
                                else response_for(session_shape, width))
            for case in near_zlp.CASES:
                drawn, m = near_zlp.draw_subset(case, resolution, response, near_zlp.BOXES, rng)
                references = {"own recording": m.vacuum,
                              "another instrument": near_zlp.another_recording(
                                  other_response, drawn, rng)}
                if session_response is not None:
                    references["another recording, same session"] = near_zlp.another_recording(
                        session_response, drawn, rng)
                for label, refs in references.items():
                    for box, ref in zip(m.measured, refs, strict=True):
                        rows.setdefault(f"near-ZLP box, {label}", []).append(
                            gain_side_mismatch(box, ref))
                        rows.setdefault(f"near-ZLP pixel, {label}", []).append(
                            gain_side_mismatch(box[:1], ref))
    return rows


def gain_side_rows(realdata, rng) -> dict[str, list[float]]:
    """Mismatches of the gain-side set's spectra given their own recordings."""
    rows: dict[str, list[float]] = {}
    for name in RESPONSES:
        shape = load_response_shape(name, realdata)
        for dispersion in gain_side.DISPERSIONS_EV:
            response = response_for(shape, gain_side.RESOLUTION_EV / dispersion)
            for temperature in gain_side.TEMPERATURES_K:
                _, m = gain_side.draw_subset(dispersion, temperature, response,
                                             gain_side.SPECTRA, rng)
                rows.setdefault(f"gain side {temperature:g} K, own recording", []).extend(
                    gain_side_mismatch(s, v) for s, v in zip(m.measured, m.vacuum, strict=True))
    return rows


def ws2_rows(realdata) -> dict[str, list[float]]:
    """Mismatches of the WS2 specimen and vacuum spectra given the vacuum median."""
    real = load_real_set(realdata / "ws2_25meV", WS2_DISPERSION)
    median = real.kernel
    return {"WS2 specimen, vacuum median": [gain_side_mismatch(s, median)
                                            for s in real.specimen],
            "WS2 vacuum, vacuum median": [gain_side_mismatch(s, median) for s in real.vacuum]}


def _cells(values: list[float]) -> str:
    v = np.asarray(values)
    judged = v[np.isfinite(v)]
    stats = (" / ".join(f"{x:.3f}" for x in np.percentile(judged, [0, 50, 100]))
             if len(judged) else "")
    return f"{len(v)} | {len(v) - len(judged)} | {stats} | {(judged > MISMATCH_LIMIT).sum()}"


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realdata", default=str(REALDATA))
    args = parser.parse_args()
    realdata = check_realdata(args.realdata)
    rng = np.random.default_rng(EVALUATION_SEED)
    rows = near_zlp_rows(realdata, rng) | gain_side_rows(realdata, rng) | ws2_rows(realdata)
    print(f"| spectra, reference | n | not judged | min / median / max | over "
          f"{MISMATCH_LIMIT:g} |")
    print("|---|---|---|---|---|")
    for label, values in rows.items():
        print(f"| {label} | {_cells(values)} |")


if __name__ == "__main__":
    main()
