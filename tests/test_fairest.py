"""`compare` names the fairest model by its stated rule: fewest gated violations, then the
highest worst-group lower bound (lowest upper bound where lower is better), then the
smallest gap; equal models tie. The rule is the same words in `compare --help`, on the
comparison card and in comparison.json's ranking."""

from __future__ import annotations

import dataclasses
import json
import re
import tempfile
from pathlib import Path

from click.testing import CliRunner
from gate_helpers import attribute, group, results
from test_compare import base_table, write_run

from fairness_eval.cli import cli
from fairness_eval.config.command_options import CompareOptions
from fairness_eval.fairness.fairest import rank_models
from fairness_eval.report.comparison_card import comparison_card_html
from fairness_eval.report.model_comparison_markdown import fairest_line, models_closing_lines
from fairness_eval.results.assessment import AttributeAssessment
from fairness_eval.results.model_comparison_record import FAIREST_RULE, ModelComparison
from fairness_eval.workflow.compare import compare_model_runs, write_model_comparison


def _block(groups: dict, *, gap: float = 0.05, name: str = "region") -> AttributeAssessment:
    """An attribute whose groups have the given intervals ((low, high) per group name)."""
    found = {}
    for label, (low, high) in groups.items():
        one = group((low + high) / 2, 0.0, (-0.01, 0.01))
        one["ci"] = [low, high]
        found[label] = one
    data = attribute(found)
    data["range"]["value"] = gap
    return dataclasses.replace(AttributeAssessment.from_json(data), name=name)


def _doc(south_ci=(0.78, 0.82), gap=0.05, south_b=("pass", "pass")):
    north = group(0.8, 0.0, (-0.02, 0.02), n=40)
    south = group(0.8, 0.0, (-0.02, 0.02), n=40, b=south_b)
    south["ci"] = list(south_ci)
    doc = results({"region": attribute({"north": north, "south": south})})
    doc["attributes"]["region"]["range"]["value"] = gap
    doc["settings"] = {"threshold": 0.5, "seed": 0}
    return doc


# --------------------------------------------------------------------------- the rule


def test_fewest_violations_wins_before_any_interval():
    ranking = rank_models(
        ["A", "B"], [1, 0],
        [[_block({"x": (0.90, 0.95), "y": (0.90, 0.95)}, gap=0.0)],
         [_block({"x": (0.50, 0.60), "y": (0.70, 0.80)}, gap=0.2)]],
        lower_is_better=False)
    assert [(s.label, s.rank, s.decided_by) for s in ranking] == [
        ("B", 1, "gated violations"), ("A", 2, None)]


def test_then_the_highest_worst_group_lower_bound():
    ranking = rank_models(
        ["A", "B", "C"], [0, 0, 0],
        [[_block({"x": (0.70, 0.90), "y": (0.80, 0.85)})],   # worst lower end 0.70
         [_block({"x": (0.75, 0.95), "y": (0.90, 0.99)})],   # 0.75: the best
         [_block({"x": (0.60, 0.99), "y": (0.90, 0.99)})]],  # 0.60
        lower_is_better=False)
    assert [s.label for s in ranking] == ["B", "A", "C"]
    assert [s.rank for s in ranking] == [1, 2, 3]
    assert ranking[0].worst_bound == 0.75 and ranking[0].worst_group == "region: x"
    assert ranking[0].decided_by == "worst-group bound"


def test_lower_is_better_reads_the_highest_upper_end():
    # Flicker: A's worst group reaches 0.30, B's 0.20; B is the fairer although A's lowest
    # lower end is lower (which, lower being better, says nothing of its worst group).
    ranking = rank_models(
        ["A", "B"], [0, 0],
        [[_block({"x": (0.01, 0.30), "y": (0.02, 0.05)})],
         [_block({"x": (0.10, 0.20), "y": (0.10, 0.15)})]],
        lower_is_better=True)
    assert [s.label for s in ranking] == ["B", "A"]
    assert ranking[0].worst_bound == 0.20 and ranking[1].worst_bound == 0.30


def test_then_the_smallest_gap_and_equal_models_tie():
    same = {"x": (0.70, 0.90), "y": (0.80, 0.85)}
    ranking = rank_models(["A", "B", "C"], [0, 0, 0],
                          [[_block(same, gap=0.04)], [_block(same, gap=0.02)],
                           [_block(same, gap=0.04)]], lower_is_better=False)
    assert [(s.label, s.rank, s.decided_by) for s in ranking] == [
        ("B", 1, "gap"), ("A", 2, None), ("C", 2, None)]
    tied = rank_models(["A", "B"], [0, 0], [[_block(same)], [_block(same)]],
                       lower_is_better=False)
    assert [s.rank for s in tied] == [1, 1]


def test_a_missing_figure_ranks_last_on_its_rule():
    ranking = rank_models(["A", "B"], [0, 0],
                          [[_block({})], [_block({"x": (0.1, 0.2)})]], lower_is_better=False)
    assert [s.label for s in ranking] == ["B", "A"] and ranking[1].worst_bound is None


# --------------------------------------------------------------------------- compare


def test_compare_names_the_fairest_on_the_card_in_json_and_in_its_lines(tmp_path):
    base = write_run(tmp_path / "base", base_table(), _doc(south_ci=(0.76, 0.84)))
    better = write_run(tmp_path / "better", base_table(), _doc(south_ci=(0.78, 0.82)))
    violating = write_run(tmp_path / "violating", base_table(),
                          _doc(south_ci=(0.79, 0.81), south_b=("violation", "violation")))
    found = compare_model_runs([base, better, violating], CompareOptions())
    # All three are named "selfie": the labels carry the run folders' names.
    assert found.fairest == ("selfie (better)",)
    assert [(s.label, s.gated_violations, s.worst_bound) for s in found.ranking] == [
        ("selfie (better)", 0, 0.78), ("selfie (base)", 0, 0.76),
        ("selfie (violating)", 1, 0.78)]
    line = fairest_line(found)
    assert line == ("Fairest: selfie (better), by worst-group bound: 78.00 % (region: north) "
                    "against 76.00 % (region: south) for selfie (base).")
    assert line in models_closing_lines(found)
    assert models_closing_lines(found)[-1].startswith("comparison gate:")

    written = write_model_comparison(found, tmp_path / "out", formats=("html",))
    document = json.loads(written[0].read_text())
    assert document["fairest"] == ["selfie (better)"]
    assert [s["rank"] for s in document["ranking"]] == [1, 2, 3]
    assert ModelComparison.from_json(document).ranking == found.ranking  # reads back
    html = written[-1].read_text()
    assert line in html and FAIREST_RULE in html
    assert "Fairest" in written[1].read_text()  # comparison.md


def test_identical_runs_are_said_to_tie():
    doc = _doc()
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for name in ("a", "b"):
            runs.append(write_run(Path(folder) / name, base_table(), doc))
        found = compare_model_runs(runs, CompareOptions())
        assert fairest_line(found) == "Fairest: selfie (a) and selfie (b) tie on every rule."
        assert "tie on every rule" in comparison_card_html(found)


def test_compare_help_states_the_rule_the_card_prints():
    shown = CliRunner().invoke(cli, ["compare", "--help"]).output
    assert " ".join(FAIREST_RULE.split()) in re.sub(r"\s+", " ", shown)
