"""The stdout summary reads results.json and labels each figure with what it is."""

from fairness_eval.report.console import summary_lines


def document(statistic: str) -> dict:
    return {
        "kind": "run",
        "dataset": {"name": "d", "evaluated": 3, "rows": 3, "skipped": []},
        "bootstrap": {"statistic": statistic},
        "overall": {"n": 3, "mean_iou": 0.5, "pooled_iou": 0.7, "ci": [0.6, 0.8]},
        "inter_annotator_iou": {"value": None},
        "attributes": {},
    }


def test_the_interval_is_printed_beside_the_statistic_it_belongs_to():
    assert "pooled IoU  70.0% [60.0, 80.0], mean IoU  50.0%" in summary_lines(
        document("pooled"))[1]
    assert "mean IoU  50.0% [60.0, 80.0], pooled IoU  70.0%" in summary_lines(
        document("mean"))[1]


def test_missing_inter_annotator_iou_is_said_plainly():
    assert "criterion (b) not evaluated" in summary_lines(document("mean"))[2]
