"""Golden outputs: a fixed VOC run and the 2021 card table give the same numbers and the same
card text as before the stages were restructured (tests/golden/, made by the flat layout at
e27f643). A change here is a change of behaviour: update the golden files deliberately."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from golden_helpers import card_text, normalised_results  # noqa: E402

from fairness_eval.cli import main  # noqa: E402

GOLDEN = Path(__file__).parent / "golden"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "argv", ["fairness-eval", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    return exit_info.value.code


def _golden_lines(name: str) -> list[str]:
    return (GOLDEN / name).read_text().splitlines()


def test_voc_run_matches_golden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                model_file) -> None:
    out = tmp_path / "voc"
    code = _run(["run", "--dataset", str(SHARED / "datasets/voc2012_person"),
                 "--attribute", "bourdev_subcategory", "--min-group-size", "20",
                 "--out", str(out), "--format", "html,md,json", "--workers", "2",
                 "--bootstrap", "2000"], monkeypatch)
    assert code == 0
    expected = json.loads((GOLDEN / "voc_results.json").read_text())
    assert normalised_results(out / "results.json", out) == expected
    assert (out / "per_image.csv").read_text() == (GOLDEN / "voc_per_image.csv").read_text()
    assert card_text(out / "model_card.html", out) == _golden_lines("voc_card.txt")


def test_card_from_table_matches_golden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "table"
    code = _run(["card", "--from-table",
                 str(SHARED / "reference/mediapipe_selfie_2021_card.csv"), "--average", "96.57",
                 "--inter-annotator-iou", "98.74", "--out", str(out), "--format", "html,md,json"],
                monkeypatch)
    assert code == 0
    expected = json.loads((GOLDEN / "table_results.json").read_text())
    assert normalised_results(out / "results.json", out) == expected
    assert card_text(out / "model_card.html", out) == _golden_lines("table_card.txt")
