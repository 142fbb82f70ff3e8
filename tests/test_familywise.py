"""Holm's step-down over a run's gated checks: confidences, consistency, the family."""

import numpy as np
import pytest
from test_fairness import per_image_table  # noqa: E402  (tests/ is on sys.path)

from fairness_eval.config.settings import StatisticsSettings
from fairness_eval.fairness.assess import evaluate
from fairness_eval.fairness.familywise import gated_checks
from fairness_eval.results.names import INCONCLUSIVE, PASS, VIOLATION

FAST = {"bootstrap": 2_000, "seed": 3}


def judged(result):
    """(attribute, group, criterion) -> the criterion's verdict record, for gated checks."""
    return {(a, g, c): block["groups"][g]["verdicts"][c]
            for a, block in result["attributes"].items()
            for g in block["groups"] for c in ("a", "b")
            if block["groups"][g]["verdicts"][c]["statistical"] in (PASS, INCONCLUSIVE,
                                                                      VIOLATION)}


def decided_from_interval(record):
    """The verdict the recorded interval gives, by the criterion's own rule."""
    low, high = record["ci"]
    if record["statistic"] == "margin":
        return VIOLATION if low > 0 else PASS if high <= 0 else INCONCLUSIVE
    bound = record["bound"]
    if low > bound or high < -bound:
        return VIOLATION
    return PASS if -bound <= low and high <= bound else INCONCLUSIVE


def table_with_one_bad_group():
    return per_image_table({"a": (60, 0.95), "b": (60, 0.951), "c": (60, 0.90),
                            "d": (60, 0.949)})


def test_holm_judges_each_check_at_the_confidence_of_its_round():
    result = evaluate(table_with_one_bad_group(), ["region"],
                      StatisticsSettings(**FAST, inter_annotator_iou=0.99))
    records = judged(result)
    m = len(records)
    assert result["familywise"] == {"method": "holm", "checks": m}
    assert m == 4  # criterion (a) cannot fire with four groups around their mean: (b) only
    violations = [key for key, r in records.items() if r["statistical"] == VIOLATION]
    assert violations == [("region", "c", "b")]
    # Found in the first round, at 1 - alpha / m; the others in the last, 1 - alpha / (m - 1).
    assert records[violations[0]]["confidence"] == pytest.approx(1 - 0.05 / m)
    for key, record in records.items():
        if key not in violations:
            assert record["confidence"] == pytest.approx(1 - 0.05 / (m - 1))


@pytest.mark.parametrize("seed", range(6))
def test_every_recorded_interval_gives_its_verdict(seed):
    rng = np.random.default_rng(seed)
    groups = {f"g{i}": (int(rng.integers(20, 80)), float(rng.uniform(0.85, 0.95)))
              for i in range(12)}
    table = per_image_table(groups, seed=seed)
    table["gender"] = rng.choice(["f", "m", "x"], len(table))
    result = evaluate(table, ["region", "gender"],
                      StatisticsSettings(**FAST, inter_annotator_iou=0.985,
                                         min_group_size=25))
    records = judged(result)
    assert records, "the example must judge something"
    for key, record in records.items():
        assert decided_from_interval(record) == record["statistical"], key
        assert 0.95 <= record["confidence"] < 1


def test_without_familywise_control_every_check_is_at_the_run_confidence():
    result = evaluate(table_with_one_bad_group(), ["region"],
                      StatisticsSettings(**FAST, inter_annotator_iou=0.99, familywise="none"))
    assert result["familywise"] == {"method": "none", "checks": 4}
    records = judged(result)
    assert {r["confidence"] for r in records.values()} == {0.95}
    # The recorded interval at the run's confidence is the deviation interval reported.
    group = result["attributes"]["region"]["groups"]["c"]
    assert group["verdicts"]["b"]["ci"] == group["deviation_ci"]


def test_holm_never_finds_more_violations_than_each_check_alone():
    table = table_with_one_bad_group()
    holm = judged(evaluate(table, ["region"], StatisticsSettings(**FAST,
                                                                 inter_annotator_iou=0.99)))
    alone = judged(evaluate(table, ["region"], StatisticsSettings(
        **FAST, inter_annotator_iou=0.99, familywise="none")))
    assert {k for k, r in holm.items() if r["statistical"] == VIOLATION} <= {
        k for k, r in alone.items() if r["statistical"] == VIOLATION}


def test_the_family_holds_only_what_the_gate_reads():
    table = table_with_one_bad_group()
    table["gender"] = np.where(np.arange(len(table)) % 2, "f", "m")
    settings = StatisticsSettings(**FAST, inter_annotator_iou=0.99,
                                  gated_criteria={"gender": ()})
    result = evaluate(table, ["region", "gender"], settings)
    assert result["familywise"]["checks"] == 4  # region's four (b) checks; gender not gated
    assert len(gated_checks(result["attributes"], settings.gated_criteria_for)) == 4
