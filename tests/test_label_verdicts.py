"""Each gated group of a voted attribute judged again with labels drawn from the votes
(fairness/label_verdicts.py): with unanimous votes it is the primary judgement exactly;
where split votes put poorly segmented images in a group, drawing their labels moves
figures and verdicts as the vote shares say; the run records it, the card lists what
differs, and documents without it read as before."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from test_label_votes_run import run_with

from fairness_eval.config.settings import Settings
from fairness_eval.data.label_policies import majority_label
from fairness_eval.data.vote_labels import VotedAttribute
from fairness_eval.data.votes import AttributeVotes, ImageVotes
from fairness_eval.fairness.label_verdicts import add_resample_verdicts
from fairness_eval.fairness.stage import compute_statistics
from fairness_eval.report import render_reports
from fairness_eval.report.label_section import differing_verdicts, markdown_lines
from fairness_eval.results.schema import as_document

SCALE = ("1", "2", "3", "4", "5", "6")


def _voted(votes: dict[str, tuple[str, ...]]) -> VotedAttribute:
    images = {}
    for image, chosen in votes.items():
        counts: dict[str, int] = {}
        for value in chosen:
            counts[value] = counts.get(value, 0) + 1
        images[image] = ImageVotes(counts=counts, annotators={
            f"r{i}": value for i, value in enumerate(chosen)})
    attribute = AttributeVotes(attribute="skin_tone", values=SCALE, ordinal=True,
                               images=images, named=True)
    labels = {image: majority_label(v.counts) for image, v in images.items()}
    return VotedAttribute(votes=attribute, bins=None, policy="majority", labels=labels,
                          skipped=0)


def _judged(votes: dict[str, tuple[str, ...]], iou: dict[str, float], **options):
    voted = _voted(votes)
    table = pd.DataFrame({"image": list(iou), "status": "ok", "iou": list(iou.values()),
                          "skin_tone": [voted.labels[i] for i in iou]})
    settings = Settings(inter_annotator_iou=0.95, bootstrap=1000, min_group_size=30,
                        **options)
    statistics = compute_statistics(table, ["skin_tone"], settings)
    primary = json.loads(json.dumps(statistics["attributes"]["skin_tone"]))
    add_resample_verdicts(statistics, table, {"skin_tone": voted}, settings)
    return primary, statistics["attributes"]["skin_tone"]


def test_unanimous_votes_give_the_primary_figures_and_verdicts():
    rng = np.random.default_rng(3)
    votes, iou = {}, {}
    for group, centre, n in (("2", 0.86, 60), ("4", 0.80, 45), ("5", 0.74, 50)):
        for i in range(n):
            votes[f"{group}-{i}"] = (group,) * 3
            iou[f"{group}-{i}"] = float(np.clip(rng.normal(centre, 0.06), 0, 1))
    primary, judged = _judged(votes, iou, ci_method="percentile")
    for label, group in judged["groups"].items():
        drawn = group["label_resample"]
        assert drawn["images"] == group["n"] and drawn["empty_share"] == 0.0
        assert drawn["value"] == pytest.approx(group["value"], abs=1e-12)
        assert drawn["ci"] == pytest.approx(group["ci"], abs=1e-12)
        assert drawn["deviation_ci"] == pytest.approx(group["deviation_ci"], abs=1e-12)
        for key in ("a", "b"):
            mine, theirs = drawn["verdicts"][key], primary["groups"][label]["verdicts"][key]
            assert mine["statistical"] == theirs["statistical"], (label, key)
            assert mine.get("confidence") == theirs.get("confidence")  # Holm's level
            if theirs.get("ci") is not None:
                assert mine["ci"] == pytest.approx(theirs["ci"], abs=1e-12)


def test_split_votes_move_poor_images_between_groups_and_turn_verdicts():
    """Group 2's 150 images are unanimous (IoU 0.93); group 5 has 75 unanimous images
    (0.80) and 75 voted 5, 5, 2 that the model segments poorly (0.55). By majority, 2 is
    0.93 and 5 0.675, each about 13 pt from the reference (0.80): both violate criterion
    (b)'s 10 pt. Drawing labels sends a third of the poor images to 2: about 0.88 (7 pt
    above, a pass) and 0.70 (10 pt below, on the threshold: inconclusive)."""
    rng = np.random.default_rng(5)
    votes, iou = {}, {}
    for i in range(150):
        votes[f"two-{i}"], iou[f"two-{i}"] = ("2", "2", "2"), 0.93 + rng.normal(0, 0.02)
    for i in range(75):
        votes[f"five-{i}"], iou[f"five-{i}"] = ("5", "5", "5"), 0.80 + rng.normal(0, 0.02)
        votes[f"split-{i}"], iou[f"split-{i}"] = ("5", "5", "2"), 0.55 + rng.normal(0, 0.02)
    primary, judged = _judged(votes, iou)
    for label, expected in (("2", "pass"), ("5", "inconclusive")):
        assert primary["groups"][label]["verdicts"]["b"]["statistical"] == "violation"
        drawn = judged["groups"][label]["label_resample"]
        assert drawn["verdicts"]["b"]["statistical"] == expected, drawn
    two, five = (judged["groups"][g]["label_resample"] for g in ("2", "5"))
    assert two["images"] == pytest.approx(175) and five["images"] == pytest.approx(125)
    # The expected means over label draws: each image weighted by its vote share.
    assert two["value"] == pytest.approx(
        (sum(iou[f"two-{i}"] for i in range(150)) + sum(iou[f"split-{i}"] for i in range(75))
         / 3) / 175, abs=1e-12)
    assert five["value"] == pytest.approx(0.70, abs=0.01)
    # The primary figures are untouched.
    assert {g: b["value"] for g, b in judged["groups"].items()} == pytest.approx(
        {g: b["value"] for g, b in primary["groups"].items()})


def test_pooled_statistic_adds_nothing():
    votes = {f"i{i}": ("2", "2", "3") for i in range(40)}
    iou = {f"i{i}": 0.8 for i in range(40)}
    table = pd.DataFrame({"image": list(iou), "status": "ok", "iou": list(iou.values()),
                          "intersection": 8, "union": 10, "skin_tone": "2"})
    settings = Settings(statistic="pooled", bootstrap=200)
    statistics = compute_statistics(table, ["skin_tone"], settings)
    before = json.dumps(statistics)
    add_resample_verdicts(statistics, table, {"skin_tone": _voted(votes)}, settings)
    assert json.dumps(statistics) == before


def test_a_run_with_votes_records_resample_verdicts_and_the_card_lists_differences(tmp_path):
    outcome, _ = run_with(tmp_path, labels="majority", inter_annotator_iou=0.9)
    results = json.loads((outcome.run_dir / "results.json").read_text())
    groups = results["attributes"]["skin_tone"]["groups"]
    for group in groups.values():
        drawn = group["label_resample"]
        assert set(drawn) == {"images", "value", "ci", "deviation", "deviation_ci",
                              "verdicts", "margin_ci", "empty_share"}
        assert drawn["verdicts"]["b"]["confidence"] == group["verdicts"]["b"]["confidence"]
    # g (2, 3, 3) is in 3 by majority; drawn, it is in 2 a third of the time.
    assert groups["3"]["label_resample"]["images"] == pytest.approx(2 / 3)
    assert groups["2"]["label_resample"]["images"] == pytest.approx(3 + 1 / 3)
    document = as_document(results)
    # A document whose resample verdicts differ: the card's rows and summary line say so.
    edited = json.loads(json.dumps(results))
    edited["attributes"]["skin_tone"]["groups"]["5"]["label_resample"]["verdicts"]["b"][
        "statistical"] = "pass"
    changed = as_document(edited)
    rows = differing_verdicts(changed, "skin_tone")
    assert [(r["group"], r["criterion"], r["resample"]["value"]) for r in rows] == [
        ("5", "b", "pass")]
    assert rows[0]["primary"]["value"] == groups["5"]["verdicts"]["b"]["statistical"]
    assert "under labels drawn from the votes: 5 (b)" in "\n".join(markdown_lines(changed))
    # This run's eight images leave every verdict inconclusive either way.
    assert differing_verdicts(document, "skin_tone") == []
    assert "labels drawn from the votes change no verdict" in "\n".join(
        markdown_lines(document))
    (outcome.run_dir / "results.json").write_text(json.dumps(edited, indent=2))
    (html,) = render_reports(outcome.run_dir, formats=("html",), overwrite=True)
    section = html.read_text().split('<section id="labels">')[1].split("</section>")[0]
    assert re.search(r'<td class="group">5</td><td>\(b\)</td><td><span class="badge [^"]+">'
                     r'inconclusive</span></td><td><span class="badge [^"]+">pass</span></td>'
                     r'<td>deviation \[98\.\d+ % CI [^\]]+\] pt</td>',
                     section), section[-1500:]


def test_documents_without_it_write_back_byte_identical(tmp_path):
    outcome, _ = run_with(tmp_path, labels="majority")
    results = json.loads((outcome.run_dir / "results.json").read_text())
    for group in results["attributes"]["skin_tone"]["groups"].values():
        del group["label_resample"]
    assert as_document(results).to_json() == results
