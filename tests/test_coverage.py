"""stats/coverage.py: when a small group's interval is read at face value, and what the
criteria do with a group that is too small for it."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from fairness_eval.config.settings import StatisticsSettings
from fairness_eval.fairness.assess import evaluate
from fairness_eval.stats.bootstrap import bootstrap_value, make_sample
from fairness_eval.stats.coverage import MIN_RELIABLE_N, reliable_size, skewness


def test_skewness_is_scipys_adjusted_estimate_and_zero_where_undefined():
    values = np.random.default_rng(3).beta(1.3, 0.6, 200)
    assert skewness(values) == pytest.approx(sps.skew(values, bias=False), rel=1e-12)
    assert skewness(np.append(values, np.nan)) == pytest.approx(skewness(values), rel=1e-12)
    assert skewness(np.array([0.5, 0.5, 0.5, 0.5])) == 0.0
    assert skewness(np.array([0.1, 0.9])) == 0.0


@pytest.mark.parametrize(("skew", "needed"), [
    (0.0, 10), (0.5, 10), (-0.63, 10), (0.64, 11), (0.8624, 19), (-1.0, 25), (2.0, 100)])
def test_reliable_size_is_cochrans_rule_with_a_floor_of_ten(skew, needed):
    assert reliable_size(skew) == needed


def _mixture(rng, n, p0, p1):
    """Per-image IoUs: 0 with probability p0, 1 with p1, else Beta(1.33, 0.556) (VOC-like)."""
    u = rng.random(n)
    x = rng.beta(1.33, 0.556, n)
    return np.where(u < p0, 0.0, np.where(u < p0 + p1, 1.0, x))


@pytest.mark.slow
def test_the_rule_flags_a_size_whose_intervals_under_cover_and_passes_one_that_covers():
    # 400 simulated groups per size from a J-shaped mixture with 10 % exact zeros; the
    # population mean is known exactly. Intervals of 5 images under-cover (the rule flags
    # them); at the size the rule asks for, they cover within Monte Carlo error of 95 %.
    p0, p1 = 0.1, 0.0
    true_mean = (1 - p0 - p1) * 1.33 / (1.33 + 0.556) + p1
    rng = np.random.default_rng(11)
    pool_skew = skewness(_mixture(rng, 300_000, p0, p1))
    needed = reliable_size(pool_skew)
    assert 10 < needed < 40

    def coverage(n: int) -> float:
        hits = 0
        for replicate in range(400):
            sample = _mixture(np.random.default_rng([n, replicate]), n, p0, p1)
            _, (low, high), _ = bootstrap_value(make_sample("mean", iou=sample),
                                                ("g", replicate), seed=5, resamples=1_000,
                                                confidence=0.95, method="bca")
            hits += low <= true_mean <= high
        return hits / 400

    small, enough = coverage(5), coverage(needed)
    assert small < 0.90
    assert enough > 0.92  # 95 % less 2.2 SE of 400 draws, and BCa's small excess


def _table(sizes, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for label, n in sizes.items():
        for value in np.clip(0.8 + rng.normal(0, 0.01, n), 0, 1):
            rows.append({"image": f"i{len(rows)}", "status": "ok", "iou": value,
                         "intersection": value * 1e4, "union": 1e4, "team": label})
    return pd.DataFrame(rows)


def test_a_gated_group_too_small_for_its_interval_is_inconclusive_with_the_reason():
    table = _table({"big": 40, "small": MIN_RELIABLE_N - 1, "enough": MIN_RELIABLE_N})
    block = evaluate(table, "team", StatisticsSettings(
        bootstrap=1_000, seed=1, min_group_size=5, inter_annotator_iou=0.9))["attributes"]["team"]
    small = block["groups"]["small"]["verdicts"]
    for criterion in ("b",):  # (a) cannot fire with three groups
        assert small[criterion]["statistical"] == "inconclusive"
        assert small[criterion]["reason"].startswith("n = 9 is too few for the interval's")
        assert "needs n ≥ 10" in small[criterion]["reason"]
    # The interval is still recorded: the verdict is what changes, not the figures.
    assert small["b"]["ci"] is not None
    for label in ("big", "enough"):
        assert block["groups"][label]["verdicts"]["b"]["statistical"] == "pass"
        assert block["groups"][label]["verdicts"]["b"]["reason"] is None
    assert any("groups under 10 are judged inconclusive" in note for note in block["notes"])


@pytest.mark.slow
def test_the_reason_is_printed_beside_the_verdict_in_every_report(tmp_path):
    import json
    import re
    from html import unescape

    from gate_helpers import attribute, group, results

    from fairness_eval.report import render_reports
    from fairness_eval.report.console import summary_lines

    reason = ("n = 8 is too few for the interval's stated confidence: with iou this skewed "
              "(G1 = -1.20) a group needs n ≥ 36")
    small = group(0.70, -0.06, (-0.20, 0.02), n=8, b=("pass", "inconclusive"))
    small["verdicts"]["b"]["reason"] = reason
    doc = results({"team": attribute({"big": group(0.80, 0.01, (-0.01, 0.03), n=60),
                                      "few": small}, verdict="inconclusive")})
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps(doc))
    html, md, _ = render_reports(folder, ("html", "md", "json"))
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", html.read_text())).split())
    assert reason in text
    flagged = [line for line in md.read_text().splitlines() if "| few |" in line]
    assert len(flagged) == 1 and reason in flagged[0]
    lines = summary_lines(doc)
    row = next(i for i, line in enumerate(lines) if line.lstrip().startswith("few"))
    assert lines[row + 1].strip() == reason
    assert not any(reason in line for line in lines[:row])  # once, under its group
