"""How much counting noise a model lets through, white and spread.

Usage: python scripts/noise_transfer.py MODEL [MODEL ...]

Draws 48 spectra of the first-stage ``nzeels-2048.yaml`` recipe with Poisson
noise at a ZLP maximum of 3e5 counts (seed 7), and the same spectra
with their noise spread over neighbouring channels by a Gaussian of
standard deviation 1 and 1.5 channels (rescaled to the same standard
deviation), as a detector does (``detector_blur_channels``). For each
model and noise, prints the median over the spectra, from 600 channels
(3 eV) past the ZLP to the end, of:

- transfer: the standard deviation of restore(noisy) - restore(clean)
  over that of the added noise (0: all noise removed; 1: all kept);
- noise cut: the 9-channel high-pass noise of the input over that of the
  restoration (as the real-data table's flat-region noise cut).
"""

from __future__ import annotations

import sys

import numpy as np
from scipy.ndimage import gaussian_filter1d

from hyperspy_eelspecnet import metrics
from hyperspy_eelspecnet.inference.restore import restore_spectra
from hyperspy_eelspecnet.models.registry import resolve_model
from hyperspy_eelspecnet.simulation.generator import SpectrumGenerator
from hyperspy_eelspecnet.training.config import TrainingConfig

RECIPE = "hyperspy_eelspecnet/training/configs/nzeels-2048.yaml"
ZLP_COUNTS = 3e5
SPREADS = (0.0, 1.0, 1.5)  # channels, standard deviation
FROM_ZLP = 600  # channels


def main(models: list[str]) -> None:
    recipe = TrainingConfig.from_yaml(RECIPE).generator
    generator = recipe.model_copy(update={
        "poisson_probability": 1.0, "poisson_zlp_counts": (ZLP_COUNTS, ZLP_COUNTS),
        "min_channels": None, "detector_blur_channels": None})
    spectra = SpectrumGenerator(generator, seed=7).generate(48)
    noise = spectra.distorted - spectra.clean
    channel = np.arange(noise.shape[1])
    region = channel[None, :] - spectra.params["zlp_centre"][:, None] > FROM_ZLP
    spreads = ", ".join(map(str, SPREADS))
    print(f"model: transfer / noise cut for noise spread by {spreads} channels")
    for name in models:
        model = resolve_model(name)
        clean = restore_spectra(spectra.clean, model).astype(float)
        figures = []
        for spread in SPREADS:
            added = noise if spread == 0 else gaussian_filter1d(noise, spread, axis=1)
            added = added * noise.std(1, keepdims=True) / added.std(1, keepdims=True)
            noisy = spectra.clean + added
            restored = restore_spectra(noisy, model).astype(float)
            transfer = (np.nanstd(np.where(region, restored - clean, np.nan), axis=1)
                        / np.nanstd(np.where(region, added, np.nan), axis=1))
            cut = (metrics.highpass_noise_sigma(noisy, region)
                   / metrics.highpass_noise_sigma(restored, region))
            figures.append(f"{np.median(transfer):.3g} / {np.median(cut):.3g}")
        print(f"{name}: " + ", ".join(figures))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
