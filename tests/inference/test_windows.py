"""Each spectrum runs in the smallest window the model runs in that holds it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hyperspy_eelspecnet.inference import restore
from hyperspy_eelspecnet.inference.alignment import alignment_shifts, required_length
from hyperspy_eelspecnet.models.card import Preprocessing
from hyperspy_eelspecnet.models.registry import resolve_model

#: The shipped models' layout: trained at 3072 channels, ZLP on 400, 10 levels.
SHIPPED = dict(scale="asinh", asinh_width=1e-6, zlp_channel=400, length=3072,
               length_multiple=1024, target="quasi_dirac")


def _window(pre: Preprocessing, channels: int, zlp: int) -> int:
    spectrum = np.zeros((1, channels))
    spectrum[0, zlp] = 1.0
    shifts = alignment_shifts(spectrum, pre.zlp_channel)
    return int(required_length(channels, shifts, pre.smallest_window, pre.length_multiple)[0])


@pytest.mark.parametrize(("min_length", "channels", "zlp", "window"), [
    (None, 2048, 400, 3072),   # without min_length: never below the training length
    (2048, 2048, 400, 2048),   # the bundled map's case runs in 2048 again
    (2048, 2048, 100, 3072),   # moved 300 channels up, it needs 2348
    (2048, 2048, 700, 2048),   # moved down, it needs less
    (2048, 4096, 400, 4096),   # longer than training: the multiple that holds it
    (1024, 256, 16, 1024),     # a cropped spectrum, its ZLP moved to 400: 640 channels
    (2048, 256, 16, 2048),     # ... but never below min_length
])
def test_smallest_window_that_holds_the_aligned_spectrum(min_length, channels, zlp, window):
    pre = Preprocessing(**SHIPPED, min_length=min_length)
    assert _window(pre, channels, zlp) == window


@pytest.mark.parametrize("min_length", [1000, 4096])
def test_min_length_must_be_a_window_the_network_takes(min_length):
    with pytest.raises(ValueError, match=f"min_length {min_length} must be a multiple of "
                                         "length_multiple 1024 no larger than length 3072"):
        Preprocessing(**SHIPPED, min_length=min_length)


def test_card_without_min_length_writes_none(tmp_path):
    assert "min_length" not in Preprocessing(**SHIPPED).model_dump()
    assert Preprocessing(**SHIPPED, min_length=2048).model_dump()["min_length"] == 2048


def test_restore_gives_the_network_each_spectrum_in_its_window(tiny_model, monkeypatch):
    """Spectra of one block that need different windows are run in each their own."""
    spec = resolve_model(tiny_model)  # 256 channels, ZLP on 50, multiple 64
    pre = spec.preprocessing.model_copy(update={"min_length": 128})
    spec = dataclasses.replace(spec, card=spec.card.model_copy(update={"preprocessing": pre}))
    seen = []
    real_predict = restore._predict

    def recording(network, inputs, batch_size):
        seen.append(inputs.shape[1])
        return real_predict(network, inputs, batch_size)

    monkeypatch.setattr(restore, "_predict", recording)
    spectra = np.full((3, 100), 1.0)
    for row, zlp in enumerate((20, 50, 90)):  # needs 130, 100 and 60 channels
        spectra[row, zlp] = 1e3
    restored = restore.restore_spectra(spectra, spec)
    assert sorted(seen) == [128, 192]
    assert restored.shape == spectra.shape
    np.testing.assert_allclose(restored.sum(axis=1), spectra.sum(axis=1), rtol=1e-4)
