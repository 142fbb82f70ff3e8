"""The conditions block downstream of the statistics: the contract, the gate, the console and
the card. Synthetic per-image tables with a known disparate drop feed the real statistics
stage (fairness/conditions_assessment.py, fairness/adjusted.py); the blocks are added to the
hand-made fixture run, so nothing here runs the model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from report_helpers import fixture_run  # noqa: E402

from fairness_eval.ci.gate import evaluate_gate  # noqa: E402
from fairness_eval.config.settings import StatisticsSettings  # noqa: E402
from fairness_eval.fairness.adjusted import assess_adjusted  # noqa: E402
from fairness_eval.fairness.conditions_assessment import assess_conditions  # noqa: E402
from fairness_eval.report import render_reports  # noqa: E402
from fairness_eval.report.console import summary_lines  # noqa: E402
from fairness_eval.results.document import read_per_image, read_results  # noqa: E402
from fairness_eval.results.schema import ResultsDocument  # noqa: E402

IAA = 0.98  # criterion (b)'s threshold 2 x (1 - 0.98) = 0.04
SETTINGS = StatisticsSettings(bootstrap=1000, min_group_size=20, seed=0)


def synthetic(extra_drop: float, n: int = 240, seed: int = 0) -> tuple[pd.DataFrame,
                                                                         pd.DataFrame]:
    """Groups A, B (and C: 10 images, too small to judge) lose 0.05 under dark f = 0.1;
    B loses `extra_drop` more. The clean IoU depends on a confounder (`size`) that B has
    more of."""
    rng = np.random.default_rng(seed)
    group = np.array(["A"] * (n // 2) + ["B"] * (n // 2 - 10) + ["C"] * 10)
    size = np.where(rng.random(n) < np.where(group == "B", 0.8, 0.2), "small", "large")
    clean = np.clip(np.where(size == "small", 0.6, 0.9) + 0.03 * rng.standard_normal(n), 0, 1)
    drop = 0.05 + np.where(group == "B", extra_drop, 0.0) + 0.01 * rng.standard_normal(n)
    images = [f"im{i:03d}" for i in range(n)]
    per_image = pd.DataFrame({"image": images, "status": "ok", "iou": clean,
                              "intersection": np.rint(1000 * clean), "union": 1000,
                              "group": group, "size": size})
    conditions = pd.DataFrame({"image": images, "condition": "dark", "severity": 0.1,
                               "intersection": np.rint(1000 * (clean - drop)), "union": 1000,
                               "iou": clean - drop})
    return per_image, conditions


def blocks(extra_drop: float) -> dict:
    per_image, conditions = synthetic(extra_drop)
    return {
        "conditions": assess_conditions(per_image, conditions, [("group", ("group",))],
                                        SETTINGS, severities={"dark": (0.1,)},
                                        inter_annotator_iou=IAA),
        "adjustment": assess_adjusted(per_image, [("group", ("group",))], "size", SETTINGS),
    }


def run_with(tmp_path: Path, extra_drop: float, gate_on_conditions: bool = False) -> Path:
    """The fixture run with a synthetic conditions block and its own per-image table's
    bourdev_subcategory adjusted for its scene (a script tag among the strata)."""
    run_dir = fixture_run(tmp_path)
    document = json.loads((run_dir / "results.json").read_text())
    document.update(blocks(extra_drop))
    document["adjustment"] = assess_adjusted(
        read_per_image(run_dir), [("bourdev_subcategory", ("bourdev_subcategory",))], "scene",
        SETTINGS)
    document["settings"]["gate_on_conditions"] = gate_on_conditions
    (run_dir / "results.json").write_text(json.dumps(document))
    return run_dir


def test_blocks_survive_the_contract_and_carry_the_known_verdicts():
    violated = blocks(0.10)
    document = ResultsDocument.from_json({"schema_version": "2.0", "overall": {},
                                          "attributes": {}, **violated})
    assert document.to_json()["conditions"] == violated["conditions"]
    assert document.to_json()["adjustment"] == violated["adjustment"]
    record = document.conditions.attributes["group"]
    rows = {r.group: r for r in record.rows}
    assert rows["B"].statistical == "violation" and rows["A"].statistical == "pass"
    assert rows["C"].statistical == "not gated" and not rows["C"].gated  # 10 < 20 images
    assert record.verdict == {"statistical": "violation", "point": "violation"}
    # the excess drop is B's drop minus the drop of the pool of annotated images (A, B and
    # the small C: 240, B's 110 among them): 0.10 x (1 - 110 / 240), up to the noise
    assert rows["B"].excess_drop == pytest.approx(0.10 * 130 / 240, abs=0.005)
    equal = ResultsDocument.from_json({"schema_version": "2.0", "overall": {},
                                       "attributes": {}, **blocks(0.0)})
    assert equal.conditions.attributes["group"].verdict["statistical"] == "pass"


def test_adjusted_figures_remove_the_confounded_gap():
    adjustment = blocks(0.0)["adjustment"]["attributes"]["group"]["groups"]
    raw_gap = adjustment["A"]["raw"] - adjustment["B"]["raw"]
    adjusted_gap = adjustment["A"]["adjusted"] - adjustment["B"]["adjusted"]
    assert raw_gap > 0.15  # B has mostly small people
    assert abs(adjusted_gap) < 0.02


def test_gate_judges_degradation_only_when_asked(tmp_path):
    quiet = read_results(run_with(tmp_path / "quiet", 0.10))
    assert not [c for c in evaluate_gate(quiet).checks if c.criterion == "degradation"]
    gated = read_results(run_with(tmp_path / "gated", 0.10, gate_on_conditions=True))
    report = evaluate_gate(gated)
    checks = [c for c in report.checks if c.criterion == "degradation"]
    assert {c.group: c.status for c in checks} == {"A under dark f = 0.1": "pass",
                                                   "B under dark f = 0.1": "fail"}
    assert report.exit_code == 1
    passing = read_results(run_with(tmp_path / "equal", 0.0, gate_on_conditions=True))
    assert all(c.status == "pass" for c in evaluate_gate(passing).checks
               if c.criterion == "degradation")


def test_console_prints_the_change_and_the_verdicts(tmp_path):
    lines = summary_lines(read_results(run_with(tmp_path, 0.10)))
    text = "\n".join(lines)
    assert "capture conditions (2 evaluations per image)" in text
    assert "disparate degradation (threshold 4.00 pt): group violation" in text
    assert "adjusted for scene (standardised mean IoU %)" in text
    assert any(line.startswith("  bourdev_subcategory: Child ") for line in lines)


@pytest.mark.slow
def test_card_shows_the_section_charts_and_adjusted_column(tmp_path):
    run_dir = run_with(tmp_path, 0.10)
    html, md = render_reports(run_dir, formats=("html", "md"))
    page = html.read_text(encoding="utf-8")
    assert '<section id="conditions">' in page
    assert "group under dark: IoU per group against severity" in page  # the chart's title
    assert page.count('class="data conditions-table"') == 1
    # B's row under dark is a statistical violation; C's is reported, not gated
    assert page.count("row-bad") >= 1 and "not gated" in page
    # the adjusted column is in the results table of the attribute the block covers
    assert page.count("Adjusted IoU %") == 1
    assert "weighted by the whole set&#39;s mix" in page or "weighted by the whole set's mix" \
        in page
    assert "<script>alert(1)</script>" not in page  # the stratum's name shown as text
    summary = md.read_text(encoding="utf-8")
    # The pull-request summary says why a conditions gate would fail: the attribute's
    # verdict and B's row under dark, with its excess drop; A's passing row is left out.
    assert "**Capture conditions** (dark; 2 evaluations per image)" in summary
    assert "| group | ❌ **violation** · point violation |" in summary
    flagged = [line for line in summary.splitlines() if line.startswith("| group | ")
               and "dark f = 0.1" in line]
    assert [line.split(" | ")[1] for line in flagged] == ["B"]
    assert "violation" in flagged[0] and " pt |" in flagged[0]
    assert "reported, not gated" in summary


def test_model_card_toolkit_export_carries_the_conditions_and_validates(tmp_path):
    from test_report_mct import SCHEMA_PATH, TESTS, _mct_python, schema_errors

    from fairness_eval.report.card_text import load_card_text
    from fairness_eval.report.mct import model_card_document

    results = read_results(run_with(tmp_path, 0.10))
    exported = model_card_document(results, load_card_text("selfie"), graphics=False)
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema_errors(exported, schema, schema) == []
    metrics = exported["quantitative_analysis"]["performance_metrics"]
    record = results.conditions
    overall = record.overall[0]
    under = f"under dark f = {overall.severity:g}"
    everyone = [m for m in metrics if m["type"] == f"IoU {under}" and "slice" not in m]
    assert everyone == [{"type": f"IoU {under}", "value": f"{100 * overall.degraded:.2f} %",
                         "confidence_interval": {
                             "lower_bound": f"{100 * overall.degraded_ci[0]:.2f} %",
                             "upper_bound": f"{100 * overall.degraded_ci[1]:.2f} %"}}]
    verdicts = {m["slice"]: m["value"] for m in metrics
                if m["type"] == f"disparate degradation verdict {under}, statistical"}
    assert verdicts["group: B"] == "violation" and verdicts["group: A"] == "pass"
    excess = [m for m in metrics if m.get("slice") == "group: B"
              and m["type"] == f"excess drop in IoU {under}"]
    b_row = next(r for r in record.attributes["group"].rows
                 if r.group == "B" and r.severity == overall.severity)
    assert excess[0]["value"] == f"{100 * b_row.excess_drop:+.2f} pt".replace("-", "−")
    assert {m["value"] for m in metrics if m["type"] == "disparate degradation verdict, "
            "statistical"} == {"violation"}
    python = _mct_python()  # and the toolkit's own typed reader takes every metric
    if python is not None:
        done = subprocess.run([python, str(TESTS / "mct_roundtrip.py")],
                              input=json.dumps(exported), capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert json.loads(done.stdout)["card"] == {k: v for k, v in exported.items()
                                                   if k != "schema_version"}
