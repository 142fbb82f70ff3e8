"""Voted attributes under both label policies (fairness/label_groups.py, label_verdicts.py):
with unanimous votes `--labels resample` gives `--labels majority`'s results exactly; where
split votes put poorly segmented images in a group, drawing their labels moves figures and
verdicts as the vote shares say; each gated group records the other policy's judgement,
which is exactly what a run under that policy reports; the card lists both."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from test_label_votes_run import run_with

from fairness_eval.config.settings import Settings
from fairness_eval.data.votes import AttributeVotes, ImageVotes
from fairness_eval.errors import UsageError
from fairness_eval.fairness.stage import compute_statistics
from fairness_eval.report import render_reports
from fairness_eval.report.label_section import differing_verdicts, markdown_lines
from fairness_eval.results.schema import as_document

SCALE = ("1", "2", "3", "4", "5", "6")
SECOND = {"majority": "label_resample", "resample": "label_majority"}
# What only one policy writes: each one's record of the other, and resample's own counts.
POLICY_KEYS = ("label_resample", "label_majority", "expected_images", "empty_share", "note")


def _votes(votes: dict[str, tuple[str, ...]]) -> AttributeVotes:
    images = {}
    for image, chosen in votes.items():
        counts: dict[str, int] = {}
        for value in chosen:
            counts[value] = counts.get(value, 0) + 1
        images[image] = ImageVotes(counts=counts, annotators={
            f"r{i}": value for i, value in enumerate(chosen)})
    return AttributeVotes(attribute="skin_tone", values=SCALE, ordinal=True,
                          images=images, named=True)


def _statistics(votes, iou, policy, **options):
    """compute_statistics over a table whose column holds the majority labels, as `run`
    writes it under majority and resample."""
    from fairness_eval.data.label_policies import majority_label

    voted = _votes(votes)
    table = pd.DataFrame({"image": list(iou), "status": "ok", "iou": list(iou.values()),
                          "intersection": 8, "union": 10,
                          "skin_tone": [majority_label(voted.images[i].counts) for i in iou]})
    settings = Settings(**{"inter_annotator_iou": 0.95, "bootstrap": 1000,
                           "min_group_size": 30, "labels": policy, **options})
    statistics = compute_statistics(table, ["skin_tone"], settings,
                                    votes={"skin_tone": voted})
    return json.loads(json.dumps(statistics))


def _plain(groups):
    return {label: {k: v for k, v in g.items() if k not in POLICY_KEYS}
            for label, g in groups.items()}


def unanimous_table():
    rng = np.random.default_rng(3)
    votes, iou = {}, {}
    for group, centre, n in (("2", 0.86, 60), ("4", 0.80, 45), ("5", 0.74, 50)):
        for i in range(n):
            votes[f"{group}-{i}"] = (group,) * 3
            iou[f"{group}-{i}"] = float(np.clip(rng.normal(centre, 0.06), 0, 1))
    return votes, iou


@pytest.mark.parametrize("method", ["bca", "percentile"])
def test_unanimous_votes_give_identical_results_under_both_policies(method):
    votes, iou = unanimous_table()
    by_policy = {p: _statistics(votes, iou, p, ci_method=method, sd_factor=1.0)
                 for p in ("majority", "resample")}
    majority, resample = (by_policy[p]["attributes"]["skin_tone"] for p in by_policy)
    assert _plain(majority["groups"]) == _plain(resample["groups"])
    assert majority["criteria"] == resample["criteria"]
    assert by_policy["majority"]["familywise"] == by_policy["resample"]["familywise"]
    for label, group in resample["groups"].items():
        assert group["expected_images"] == group["n"] and group["empty_share"] == 0.0
        # Each records the other's judgement, which is the other's own.
        other = majority["groups"][label]
        assert group["label_majority"]["verdicts"] == other["verdicts"]
        assert other["label_resample"]["verdicts"] == group["verdicts"]
        assert other["label_resample"]["ci"] == group["ci"]


def split_table():
    """Group 2's 150 images are unanimous (IoU 0.93); group 5 has 75 unanimous images
    (0.80) and 75 voted 5, 5, 2 that the model segments poorly (0.55)."""
    rng = np.random.default_rng(5)
    votes, iou = {}, {}
    for i in range(150):
        votes[f"two-{i}"], iou[f"two-{i}"] = ("2", "2", "2"), 0.93 + rng.normal(0, 0.02)
    for i in range(75):
        votes[f"five-{i}"], iou[f"five-{i}"] = ("5", "5", "5"), 0.80 + rng.normal(0, 0.02)
        votes[f"split-{i}"], iou[f"split-{i}"] = ("5", "5", "2"), 0.55 + rng.normal(0, 0.02)
    return votes, iou


def test_split_votes_move_poor_images_between_groups_and_turn_verdicts():
    """By majority, 2 is 0.93 and 5 0.675, each about 13 pt from the reference (0.80):
    both violate criterion (b)'s 10 pt. Drawing labels sends a third of the poor images to
    2: about 0.88 (7 pt above, a pass) and 0.70 (10 pt below, on the threshold:
    inconclusive). Each policy's run gates its own verdicts and records the other's."""
    votes, iou = split_table()
    majority = _statistics(votes, iou, "majority")["attributes"]["skin_tone"]["groups"]
    resample = _statistics(votes, iou, "resample")["attributes"]["skin_tone"]["groups"]
    for label, expected in (("2", "pass"), ("5", "inconclusive")):
        assert majority[label]["verdicts"]["b"]["statistical"] == "violation"
        assert resample[label]["verdicts"]["b"]["statistical"] == expected
        assert majority[label]["label_resample"]["verdicts"] == resample[label]["verdicts"]
        assert resample[label]["label_majority"]["verdicts"] == majority[label]["verdicts"]
    # Same seed, same numbers; another seed, other draws.
    assert _statistics(votes, iou, "resample")["attributes"]["skin_tone"]["groups"] == resample
    reseeded = _statistics(votes, iou, "resample", seed=1)["attributes"]["skin_tone"]["groups"]
    assert reseeded["2"]["ci"] != resample["2"]["ci"]
    assert resample["2"]["expected_images"] == pytest.approx(175)
    assert resample["5"]["expected_images"] == pytest.approx(125)
    assert (resample["2"]["n"], resample["5"]["n"]) == (150, 150)  # majority strata
    # The expected means over label draws: each image weighted by its vote share.
    assert resample["2"]["value"] == pytest.approx(
        (sum(iou[f"two-{i}"] for i in range(150)) + sum(iou[f"split-{i}"] for i in range(75))
         / 3) / 175, abs=1e-12)
    assert resample["5"]["value"] == pytest.approx(0.70, abs=0.01)
    # Group 2 receives a third of the poor images in expectation and a varying number in
    # each resample: its interval is wider than majority's, which holds none of them.
    width = {name: np.diff(groups["2"]["ci"])[0]
             for name, groups in (("majority", majority), ("resample", resample))}
    assert width["resample"] > 1.5 * width["majority"]


def test_disputed_images_are_drawn_and_the_pooled_statistic_is_judged_too():
    """Ties (2 against 2) are (disputed) by majority, reported and never gated; resampling
    draws their labels, so it has no such group; the pooled IoU weights I and U alike."""
    votes, iou = split_table()
    for i in range(20):
        votes[f"tie-{i}"], iou[f"tie-{i}"] = ("2", "2", "5", "5"), 0.6
    majority = _statistics(votes, iou, "majority", statistic="pooled")
    resample = _statistics(votes, iou, "resample", statistic="pooled")
    groups = resample["attributes"]["skin_tone"]["groups"]
    assert "(disputed)" in majority["attributes"]["skin_tone"]["groups"]
    assert "(disputed)" not in groups
    assert groups["2"]["expected_images"] == pytest.approx(175 + 10)
    assert "label_majority" in groups["2"]
    assert "label_resample" not in majority["attributes"]["skin_tone"]["groups"]["(disputed)"]


def test_crossing_a_resampled_attribute_is_refused():
    votes, iou = unanimous_table()
    with pytest.raises(UsageError, match="--intersect skin_tone×region: --labels resample"):
        table_votes = _votes(votes)
        table = pd.DataFrame({"image": list(iou), "status": "ok", "iou": list(iou.values()),
                              "intersection": 8, "union": 10, "region": "x",
                              "skin_tone": [v[0] for v in votes.values()]})
        compute_statistics(table, ["skin_tone"], Settings(
            labels="resample", bootstrap=100, intersect=(("skin_tone", "region"),)),
            votes={"skin_tone": table_votes})


@pytest.mark.parametrize("policy", ["majority", "resample"])
def test_a_run_records_the_other_policy_and_the_card_lists_both(tmp_path, policy):
    outcome, _ = run_with(tmp_path, labels=policy, inter_annotator_iou=0.9)
    results = json.loads((outcome.run_dir / "results.json").read_text())
    assert results["settings"]["labels"] == policy  # recorded whenever votes are given
    assert results["label_agreement"]["skin_tone"]["policy"] == policy
    groups = results["attributes"]["skin_tone"]["groups"]
    gated = [g for g in groups.values() if g["gated"]]
    assert gated
    for group in gated:
        other = group[SECOND[policy]]
        assert set(other) == {"images", "value", "ci", "deviation", "deviation_ci",
                              "verdicts", "margin_ci", "empty_share"}
    # g (2, 3, 3) is in 3 by majority; drawn, it is in 2 a third of the time.
    if policy == "majority":
        assert groups["3"]["label_resample"]["images"] == pytest.approx(2 / 3)
        assert groups["2"]["label_resample"]["images"] == pytest.approx(3 + 1 / 3)
    else:
        assert groups["3"]["expected_images"] == pytest.approx(2 / 3)
        assert groups["2"]["expected_images"] == pytest.approx(3 + 1 / 3)
        assert groups["2"]["label_majority"]["images"] == groups["2"]["n"] == 3
    # A document whose verdicts differ: the card's rows and summary line say so.
    edited = json.loads(json.dumps(results))
    other_key = SECOND[policy]
    edited["attributes"]["skin_tone"]["groups"]["5"][other_key]["verdicts"]["b"][
        "statistical"] = "pass"
    changed = as_document(edited)
    rows = differing_verdicts(changed, "skin_tone")
    assert [(r["group"], r["criterion"], r["other"]["value"]) for r in rows] == [
        ("5", "b", "pass")]
    assert rows[0]["primary"]["value"] == groups["5"]["verdicts"]["b"]["statistical"]
    other_policy = other_key.removeprefix("label_")
    assert f"under labels by {other_policy}: 5 (b)" in "\n".join(markdown_lines(changed))
    # This run's eight images leave every verdict inconclusive either way.
    assert differing_verdicts(as_document(results), "skin_tone") == []
    assert f"labels by {other_policy} change no verdict" in "\n".join(
        markdown_lines(as_document(results)))
    (outcome.run_dir / "results.json").write_text(json.dumps(edited, indent=2))
    (html,) = render_reports(outcome.run_dir, formats=("html",), overwrite=True)
    section = html.read_text().split('<section id="labels">')[1].split("</section>")[0]
    assert re.search(r'<tr class="differs"><th scope="row" class="group">5</th><td>[^<]+</td>'
                     r'<td>[^<]+</td><td>\(b\)</td><td><span class="badge [^"]+">'
                     r'inconclusive</span></td><td><span class="badge [^"]+">pass</span></td>'
                     r'<td>deviation \[9\d\.\d+ % CI [^\]]+\] pt</td><td><strong>differs',
                     section), section[-2500:]
    assert section.count("<strong>differs</strong>") == 1
    assert section.count(">same</td>") == 2 * len(gated) - 1


def test_documents_without_it_write_back_byte_identical(tmp_path):
    outcome, _ = run_with(tmp_path, labels="majority")
    results = json.loads((outcome.run_dir / "results.json").read_text())
    for group in results["attributes"]["skin_tone"]["groups"].values():
        group.pop("label_resample", None)
    assert as_document(results).to_json() == results


def test_assess_refuses_a_run_that_drew_its_labels(tmp_path):
    """fe.assess judges one label per image: a run folder under majority gives the run's
    figures again; one under resample is refused in a line that says where to read it."""
    import fairness_eval as fe

    for policy in ("majority", "resample"):
        outcome, _ = run_with(tmp_path / policy, labels=policy, inter_annotator_iou=0.9)
        if policy == "majority":
            again = fe.assess(outcome.run_dir, bootstrap=300, min_group_size=1,
                              inter_annotator_iou=0.9)
            recorded = fe.ResultsDocument.load(outcome.run_dir).by_group("skin_tone")
            assert again.by_group("skin_tone")["value"].tolist() == pytest.approx(
                recorded["value"].tolist(), abs=1e-12)
            continue
        with pytest.raises(UsageError, match=r"drew skin_tone's labels from annotators' votes "
                                             r"\(--labels resample\)") as caught:
            fe.assess(outcome.run_dir)
        assert "\n" not in str(caught.value)
        with pytest.raises(UsageError, match=r"drew skin_tone's labels"):  # crossed too
            fe.assess(outcome.run_dir, attribute="status", intersect="skin_tone,status")


def test_crossing_a_voted_attribute_is_judged_under_majority_and_refused_early_under_resample(
        tmp_path):
    """Under majority the crossing is judged as before (the resample judgement beside it
    leaves crossings out); a resample run refuses it before any image is evaluated."""
    from fairness_eval.data.label_policies import majority_label

    votes, iou = unanimous_table()
    voted = _votes(votes)
    table = pd.DataFrame({"image": list(iou), "status": "ok", "iou": list(iou.values()),
                          "intersection": 8, "union": 10,
                          "region": ["north" if i % 2 else "south" for i in range(len(iou))],
                          "skin_tone": [majority_label(voted.images[i].counts) for i in iou]})
    settings = Settings(inter_annotator_iou=0.95, bootstrap=300, min_group_size=10,
                        intersect=(("skin_tone", "region"),))
    statistics = compute_statistics(table, ["skin_tone", "region"], settings,
                                    votes={"skin_tone": voted})
    crossing = statistics["attributes"]["skin_tone×region"]["groups"]
    assert crossing and not any("label_resample" in g for g in crossing.values())
    assert all("label_resample" in g for g in statistics["attributes"]["skin_tone"][
        "groups"].values() if g["gated"])
    with pytest.raises(UsageError, match=r"^--intersect skin_tone,region: --labels resample "
                                         r"draws skin_tone's labels"):
        run_with(tmp_path, labels="resample", intersect=(("skin_tone", "region"),))


def test_labels_so_uncertain_that_gated_groups_go_empty_are_a_doubt_on_their_verdicts():
    """Two gated groups of two images each, every image voted 2:1: a resample leaves group 2
    empty when both its draws go to 5 (1/9) and both of 5's stay (4/9), so about 10 % of
    the resamples are discarded (either group). Every group's note counts them, and the
    doubt that caps gated verdicts at inconclusive says how many. (The small-group rule
    caps groups this small anyway: with n >= 10 a gated group is empty in well under 1 %
    of resamples.)"""
    from fairness_eval.fairness.label_groups import drawn_groups
    from fairness_eval.fairness.rows import sample_of
    from fairness_eval.results.labels import group_labels_and_missing

    votes = {f"j{i}": ("2", "2", "5") if i % 2 else ("5", "5", "2") for i in range(4)}
    iou = {image: 0.5 + 0.1 * i for i, image in enumerate(votes)}
    rows = pd.DataFrame({"image": list(iou), "iou": list(iou.values()), "intersection": 8,
                         "union": 10, "skin_tone": "2"})
    labels, missing = group_labels_and_missing(rows, ["skin_tone"])
    drawn = drawn_groups(rows, labels, missing, _votes(votes))
    assert drawn.groups == ("2", "5")
    found = drawn.judge(rows, "skin_tone", sample_of(rows, "mean", "iou"), counted=[True, True],
                        annotated=[True, True], seed=0, resamples=4000, confidence=0.95,
                        method="bca", reference="overall", sd_ddof=0, sd_factor=3.0)
    share = re.search(r"labels too uncertain: (\d+\.\d) % of the resamples", found.doubt)
    expected = 2 * (1 / 9) * (4 / 9)  # either group empty (never both: 4 images land)
    assert share is not None and float(share.group(1)) == pytest.approx(100 * expected,
                                                                        abs=1.5), found.doubt
    discarded = round(float(share.group(1)) * 40)
    assert all(f"{discarded} resamples without an image" in note for note in found.notes)
    statistics = _statistics(votes, iou, "resample", min_group_size=2)
    for group in statistics["attributes"]["skin_tone"]["groups"].values():
        assert group["verdicts"]["b"]["statistical"] == "inconclusive"
