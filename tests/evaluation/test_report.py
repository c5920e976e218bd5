"""The report of eelspecnet evaluate: tables and card updates, without evaluating."""

from __future__ import annotations

import shutil

from hyperspy_eelspecnet.evaluation.report import update_model_cards, write_table
from hyperspy_eelspecnet.models.registry import resolve_model


def test_a_table_is_headed_by_the_command_that_made_it(tmp_path):
    text = write_table(tmp_path / "t.md", "Models a", "eelspecnet evaluate --n 2", "| a |")
    assert text == "Models a.\n\nMade with `eelspecnet evaluate --n 2`.\n\n| a |\n"
    assert (tmp_path / "t.md").read_text() == text


def test_card_update_replaces_one_section_and_keeps_the_checksum(tiny_model, tmp_path):
    model = shutil.copytree(tiny_model, tmp_path / "model")
    before = resolve_model(model).card
    figures = {"vacuum_floor": {"median": 2.0, "min": 1.5, "max": 3.0},
               "RL-50": {"reconvolution_residual": {"median": 1.0, "min": 0.5, "max": 2.0}}}
    written = update_model_cards([str(model)], "real_data", "eelspecnet evaluate --real d",
                                 figures)
    assert written == [model / "card.json"]
    after = resolve_model(model).card  # still a valid card whose checksum matches
    assert after.real_data.command == "eelspecnet evaluate --real d"
    assert after.real_data.methods["RL-50"]["reconvolution_residual"]["median"] == 1.0
    assert after.model_dump(exclude={"real_data"}) == before.model_dump(exclude={"real_data"})
