"""Where the high-frequency content of restored real spectra comes from.

Usage: python scripts/ripple_periods.py MODEL [MODEL ...]

Restores the WS2 spectra of ``../shared/realdata/ws2_25meV`` with each
model and prints, over 10 to 45 eV past the ZLP, the restored over the
measured power at periods of 2, 4, 8 and 16 channels (summed over the
six spectra, after removing a 33-channel moving average). Noise that a
restoration removes gives ratios well below 1; a ripple that the network
prints (the period-2 and period-4 pattern of stride-2 transposed
convolutions) gives ratios near or above 1 at those periods.

It first prints the measured power itself at those periods, over the
power at 16 channels, for the specimen spectra and for the dim tails of
the vacuum recordings (read noise): white noise gives about 1 at every
period. The counting noise of the WS2 spectra is not white: the detector
spreads each electron over neighbouring channels (the generator's
``detector_blur_channels``).
"""

from __future__ import annotations

import sys

import numpy as np

from hyperspy_eelspecnet.evaluation.real_data import energy_past_zlp, load_real_set
from hyperspy_eelspecnet.inference.restore import restore_spectra
from hyperspy_eelspecnet.metrics import high_pass
from hyperspy_eelspecnet.models.registry import resolve_model

REAL_SET = "../shared/realdata/ws2_25meV"
DISPERSION = 0.025013
RANGE_EV = (10.0, 45.0)
PERIODS = (2, 4, 8, 16)
SEGMENT = 1024  # channels per periodogram
SMOOTH = 33  # channels of the moving average removed first


def _power(spectra: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """Summed periodogram of each spectrum's high-passed stretch in RANGE_EV."""
    total = np.zeros(SEGMENT // 2 + 1)
    for spectrum, axis in zip(spectra, energy, strict=True):
        stretch = spectrum[(axis > RANGE_EV[0]) & (axis < RANGE_EV[1])]
        high = high_pass(stretch, SMOOTH)[SMOOTH:SMOOTH + SEGMENT]
        total += np.abs(np.fft.rfft(high)) ** 2
    return total


def main(models: list[str]) -> None:
    real = load_real_set(REAL_SET, DISPERSION)
    energy = energy_past_zlp(real.specimen, real.dispersion)
    measured = _power(real.specimen, energy)
    frequency = np.fft.rfftfreq(SEGMENT)
    centres = [int(np.argmin(np.abs(frequency - 1 / period))) for period in PERIODS]
    bands = [slice(max(k - 3, 0), k + 4) for k in centres]
    vacuum = _power(real.vacuum, energy_past_zlp(real.vacuum, real.dispersion))
    for label, power in (("specimen", measured), ("vacuum tails", vacuum)):
        print(f"measured power ({label}) at a period of " + ", ".join(map(str, PERIODS))
              + f" channels, over that at {PERIODS[-1]}: "
              + ", ".join(f"{power[band].mean() / power[bands[-1]].mean():.3g}" for band in bands))
    print("model: restored / measured power at those periods")
    for name in models:
        restored = _power(restore_spectra(real.specimen, resolve_model(name)).astype(float),
                          energy)
        print(f"{name}: " + ", ".join(f"{restored[band].sum() / measured[band].sum():.3g}"
                                      for band in bands))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
