"""The model card: the shipped cards, strict keys, versions and the round trip."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from conftest import tiny_config

from hyperspy_eelspecnet.models.card import CARD_VERSION, ModelCard
from hyperspy_eelspecnet.models.registry import MODELS_DIR, file_sha256, resolve_model

SHIPPED_CARDS = sorted(MODELS_DIR.glob("*/card.json"))


def test_both_models_ship_a_card():
    assert {path.parent.name for path in SHIPPED_CARDS} >= {"nzeels-2048", "nzeels-2048-nozlp"}


def _json(path):
    """A card file's data, NaN read as the string "NaN" so that it compares equal."""
    return json.loads(path.read_text(), parse_constant=str)


def _holds(whole, part) -> bool:
    """Whether ``whole`` has every key of ``part`` (recursively) with its value."""
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(
            key in whole and _holds(whole[key], value) for key, value in part.items())
    return whole == part


@pytest.mark.parametrize("path", SHIPPED_CARDS, ids=lambda p: p.parent.name)
def test_shipped_card_validates_and_writes_back_all_it_holds(path, tmp_path):
    card = ModelCard.read(path)
    assert card.name == path.parent.name and card.format_version == CARD_VERSION
    assert card.preprocessing.scale == "asinh" and card.evaluation and card.real_data
    card.write(tmp_path / "card.json")
    assert _holds(_json(tmp_path / "card.json"), _json(path))  # fields with defaults may be added
    ModelCard.read(tmp_path / "card.json").write(tmp_path / "again.json")
    assert (tmp_path / "again.json").read_text() == (tmp_path / "card.json").read_text()


@pytest.mark.parametrize("section, key, typo", [
    (None, "description", "descripton"),
    ("preprocessing", "zlp_channel", "zlp_chanel"),
    ("training", "seed", "sed"),
])
def test_misspelt_key_is_rejected_with_its_name(section, key, typo, tmp_path):
    data = json.loads(SHIPPED_CARDS[0].read_text())
    part = data if section is None else data[section]
    part[typo] = part.pop(key)
    path = tmp_path / "card.json"
    path.write_text(json.dumps(data))
    where = typo if section is None else f"{section}.{typo}"
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))}(.|\n)*"
                                         rf"\n{where}\n  Extra inputs are not permitted"):
        ModelCard.read(path)


def test_card_of_a_newer_format_asks_for_an_upgrade(tmp_path):
    data = json.loads(SHIPPED_CARDS[0].read_text()) | {"format_version": CARD_VERSION + 1}
    (tmp_path / "card.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="format_version 2 is newer.*upgrade"):
        ModelCard.read(tmp_path / "card.json")


def test_exported_card_reads_back_with_the_training_settings(tiny_model):
    raw = json.loads((tiny_model / "card.json").read_text())
    assert raw["format_version"] == CARD_VERSION  # written out, not left to the default
    assert "asinh_width" not in raw["preprocessing"]  # only the parameter of its scale
    card = ModelCard.read(tiny_model / "card.json")
    assert card.preprocessing == tiny_config().preprocessing()
    assert card.weights_sha256 == file_sha256(tiny_model / "model.keras")
    assert card.evaluation is None and card.real_data is None


def test_round_trip_gives_an_equal_card(tiny_model, tmp_path):
    card = ModelCard.read(tiny_model / "card.json").updated(evaluation={
        "command": "eelspecnet evaluate", "seed": 1, "sizes": {"fidelity": 8},
        "jitter_centred": True,
        "summary": {"fidelity": {"tiny-test": {"ssim": {"median": 0.5, "p5": 0.25, "p95": 0.75}}}},
    })
    card.write(tmp_path / "card.json")
    assert ModelCard.read(tmp_path / "card.json") == card


def test_updated_validates_the_new_section(tiny_model):
    card = ModelCard.read(tiny_model / "card.json")
    with pytest.raises(ValueError, match=r"evaluation\.comand\n  Extra inputs"):
        card.updated(evaluation={"comand": "eelspecnet evaluate", "seed": 1, "sizes": {},
                                 "jitter_centred": True, "summary": {}})


def test_resolving_a_model_with_a_bad_card_names_the_file_and_key(tiny_model, tmp_path):
    model = shutil.copytree(tiny_model, tmp_path / "model")
    data = json.loads((model / "card.json").read_text())
    data["domain"]["channels_past_zlpp"] = data["domain"].pop("channels_past_zlp")
    (model / "card.json").write_text(json.dumps(data))
    message = r"card.json is not a valid model card(.|\n)*channels_past_zlpp"
    with pytest.raises(ValueError, match=message):
        resolve_model(model)


def test_two_models_of_one_name_are_compared_under_their_paths(tiny_model, tmp_path):
    import shutil

    from hyperspy_eelspecnet.models.registry import resolve_models

    retrained = shutil.copytree(tiny_model, tmp_path / "retrained")
    specs = resolve_models([tiny_model, retrained, "nzeels-2048"])
    assert [s.name for s in specs] == [str(tiny_model), str(retrained), "nzeels-2048"]
    # Alone, a model keeps its card's name.
    assert resolve_models([retrained])[0].name == "tiny-test"
