"""`run` with annotators' votes: the label policy makes the attribute column before anything
is evaluated, the (disputed) group is reported and never gated, results.json records the
label agreement and the options; bad votes are one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from fairness_eval.config.settings import Settings
from fairness_eval.data.label_policies import DISPUTED
from fairness_eval.data.votes import read_long_votes
from fairness_eval.errors import UsageError
from fairness_eval.stats.agreement import label_agreement

# Per image: its three annotators' skin tones (Fitzpatrick) and how many predicted rows
# of its 8x8 mask are right (the truth is the top 4 rows).
IMAGES = {
    "a": (("2", "2", "2"), 4), "b": (("2", "2", "2"), 4), "c": (("2", "2", "2"), 3),
    "d": (("5", "5", "5"), 2), "e": (("5", "5", "5"), 1), "f": (("5", "5", "5"), 2),
    "g": (("2", "3", "3"), 0), "h": (("4", "5", "5"), 0),
}


def dataset_with_votes(tmp_path: Path) -> tuple[Path, Path, Path]:
    root, predictions = tmp_path / "data", tmp_path / "predictions"
    for folder in (root / "images", root / "masks", predictions):
        folder.mkdir(parents=True)
    lines = ["image,annotator,attribute,value"]
    for image, (tones, right) in IMAGES.items():
        cv2.imwrite(str(root / "images" / f"{image}.png"), np.full((8, 8, 3), 80, np.uint8))
        truth = np.zeros((8, 8), np.uint8)
        truth[:4] = 255
        cv2.imwrite(str(root / "masks" / f"{image}.png"), truth)
        predicted = np.zeros((8, 8), np.uint8)
        predicted[:right] = 255
        predicted[4:8 - right] = 255  # wrong rows keep the union large
        cv2.imwrite(str(predictions / f"{image}.png"), predicted)
        lines += [f"{image},r{n},skin_tone,{tone}" for n, tone in enumerate(tones)]
    votes = tmp_path / "votes.csv"
    votes.write_text("\n".join(lines) + "\n")
    return root, predictions, votes


def run_with(tmp_path: Path, **options):
    from fairness_eval.workflow.run import run_evaluation

    root, predictions, votes = dataset_with_votes(tmp_path)
    settings = Settings(predictions=predictions, out=tmp_path / "run", formats=("md",),
                        bootstrap=300, min_group_size=1, workers=1,
                        attribute_votes=votes, **options)
    return run_evaluation(root, settings), votes


@pytest.mark.parametrize("policy", ["majority", "unanimous"])
def test_run_labels_images_from_votes(tmp_path, policy):
    outcome, votes = run_with(tmp_path, labels=policy)
    table = outcome.per_image.set_index("image")["skin_tone"].to_dict()
    expected = {"a": "2", "b": "2", "c": "2", "d": "5", "e": "5", "f": "5",
                "g": "3" if policy == "majority" else DISPUTED,
                "h": "5" if policy == "majority" else DISPUTED}
    assert table == expected
    results = json.loads((outcome.run_dir / "results.json").read_text())
    groups = results["attributes"]["skin_tone"]["groups"]
    assert set(groups) == set(expected.values())
    if policy == "unanimous":
        assert groups[DISPUTED]["n"] == 2 and not groups[DISPUTED]["gated"]
        assert groups[DISPUTED]["verdicts"]["b"]["statistical"] == "not gated"
        assert groups["2"]["gated"] and groups["5"]["gated"]
    record = results["label_agreement"]["skin_tone"]
    direct = label_agreement(read_long_votes(votes).attributes["skin_tone"], seed=0,
                             resamples=300)
    assert record["alpha"] == pytest.approx(direct.alpha, abs=1e-12)
    assert record["ci"] == pytest.approx(list(direct.ci))
    assert record["level"] == "ordinal" and record["annotators"] == 3
    assert record["policy"] == policy
    assert record["disputed"] == (2 if policy == "unanimous" else 0)
    # Shares by majority label whatever the policy: g (2, 3, 3) is in 3, h (4, 5, 5) in 5.
    assert record["unanimous_share"] == {"2": 1.0, "3": 0.0, "5": 0.75}
    settings = results["settings"]
    assert settings["attribute_votes"] == str(votes)
    assert settings["labels"] == policy  # recorded whenever votes are given


def test_run_without_votes_records_none_of_it(tmp_path):
    from fairness_eval.workflow.run import run_evaluation

    root, predictions, _ = dataset_with_votes(tmp_path)
    (root / "attributes.csv").write_text("image,region\n" + "".join(
        f"{image},europe\n" for image in IMAGES))
    settings = Settings(predictions=predictions, out=tmp_path / "run", formats=("md",),
                        bootstrap=100, workers=1)
    outcome = run_evaluation(root, settings)
    results = json.loads((outcome.run_dir / "results.json").read_text())
    assert "label_agreement" not in results
    assert not {"attribute_votes", "votes_image_key", "labels"} & set(results["settings"])


def split_vote_dataset(tmp_path: Path) -> tuple[Path, Path, Path]:
    """300 images, 20x20 masks whose predicted rows set each IoU: tone 2's 150 unanimous
    images at 0.9 or 1.0, tone 5's 75 unanimous at 0.8 or 0.9 and 75 voted 5, 5, 2 that
    the model segments poorly (0.5 or 0.6)."""
    root, predictions = tmp_path / "data", tmp_path / "predictions"
    for folder in (root / "images", root / "masks", predictions):
        folder.mkdir(parents=True)
    truth = np.zeros((20, 20), np.uint8)
    truth[:10] = 255
    lines = ["image,annotator,attribute,value"]
    kinds = [("two", ("2", "2", "2"), (10, 9))] * 150 + [("five", ("5", "5", "5"), (8, 9))] * 75
    kinds += [("split", ("5", "5", "2"), (5, 6))] * 75
    for i, (kind, tones, rows) in enumerate(kinds):
        image = f"{kind}{i:03d}"
        cv2.imwrite(str(root / "images" / f"{image}.png"), np.full((20, 20, 3), 80, np.uint8))
        cv2.imwrite(str(root / "masks" / f"{image}.png"), truth)
        predicted = np.zeros((20, 20), np.uint8)
        predicted[:rows[i % 2]] = 255  # IoU = rows / 10
        cv2.imwrite(str(predictions / f"{image}.png"), predicted)
        lines += [f"{image},r{n},skin_tone,{tone}" for n, tone in enumerate(tones)]
    votes = tmp_path / "votes.csv"
    votes.write_text("\n".join(lines) + "\n")
    return root, predictions, votes


def test_the_gate_reads_the_chosen_policy(tmp_path, cli):
    """By majority tone 2 (0.95) and tone 5 (0.70) each lie 12.5 pt from the reference,
    beyond criterion (b)'s 10 pt: the gate fails. Drawing labels sends a third of the poor
    images to tone 2: 0.89 and 0.73, 6.8 and 9.5 pt out, and the gate passes; each run's
    card and summary show the verdicts it gated and the other policy's beside them."""
    root, predictions, votes = split_vote_dataset(tmp_path)
    common = ("run", "--dataset", root, "--predictions", predictions, "--attribute-votes",
              votes, "--inter-annotator-iou", "0.95", "--bootstrap", "2000", "--format", "md",
              "--gate")
    exits, results = {}, {}
    for policy in ("majority", "resample"):
        out = tmp_path / policy
        done = cli(*common, "--labels", policy, "--out", out)
        exits[policy] = done.returncode
        results[policy] = json.loads((out / "results.json").read_text())
        summary = (out / "summary.md").read_text()
        other = "resample" if policy == "majority" else "majority"
        assert f"labels by {policy}; under labels by {other}: 2 (b)" in summary, summary
        console = done.stdout + done.stderr
        assert f"under labels by {other}: 2 (b)" in console, console
        if policy == "resample":
            assert "images expected: 2 175.0, 5 125.0" in console
    assert exits == {"majority": 1, "resample": 0}
    majority, resample = (results[p]["attributes"]["skin_tone"]["groups"]
                          for p in ("majority", "resample"))
    assert {g: majority[g]["verdicts"]["b"]["statistical"] for g in ("2", "5")} == {
        "2": "violation", "5": "violation"}
    assert resample["2"]["verdicts"]["b"]["statistical"] == "pass"
    assert resample["5"]["verdicts"]["b"]["statistical"] in ("pass", "inconclusive")
    iou = pd.read_csv(tmp_path / "resample" / "per_image.csv").set_index("image")["iou"]
    two, split = iou[iou.index.str.startswith("two")], iou[iou.index.str.startswith("split")]
    assert resample["2"]["value"] == pytest.approx((two.sum() + split.sum() / 3) / 175,
                                                   abs=1e-12)
    for label in ("2", "5"):
        assert resample[label]["label_majority"]["verdicts"] == majority[label]["verdicts"]
        assert majority[label]["label_resample"]["verdicts"] == resample[label]["verdicts"]
        # Disputed images widen the interval of every group they can land in.
        width = {p: np.diff(g[label]["ci"])[0] for p, g in (("majority", majority),
                                                            ("resample", resample))}
        assert width["resample"] >= width["majority"], (label, width)


def test_bad_votes_are_refused_in_one_line(tmp_path):
    from fairness_eval.workflow.run import run_evaluation

    root, predictions, votes = dataset_with_votes(tmp_path)
    votes.write_text(votes.read_text() + "a,r9,skin_tone,11\n")
    settings = Settings(predictions=predictions, out=tmp_path / "run", formats=("md",),
                        bootstrap=100, workers=1, attribute_votes=votes)
    with pytest.raises(UsageError, match=r"votes.csv, row 25 \(a\): skin_tone '11' is not in "
                       r"the vocabulary skin_tone") as caught:
        run_evaluation(root, settings)
    assert "\n" not in str(caught.value)
    with pytest.raises(UsageError, match=r"--labels.*is not one of majority, unanimous, "
                                         "resample"):
        Settings(labels="plurality")
