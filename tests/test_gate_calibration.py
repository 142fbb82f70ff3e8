"""A small version of benchmarks/gate_calibration.py: the gate rarely fails a fair model and
flags a group well beyond the threshold."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from gate_calibration import Setting, simulate  # noqa: E402

pytestmark = pytest.mark.slow


def rate(setting: Setting, scenario: str, runs: int) -> float:
    results = [simulate((setting, 0, scenario, r, 7, 400)) for r in range(runs)]
    return sum(r[2] if scenario == "fair" else r[3] for r in results) / runs


def test_two_equal_groups_beside_a_small_low_one_do_not_fail_the_gate():
    # Before the reference left the small group out, 11 % of such runs failed.
    assert rate(Setting(3, 0, "overall", "bca", "none", case="voc"), "fair", 40) == 0.0


def test_seventeen_fair_groups_rarely_fail_under_holm():
    # 40 runs: a true rate of 5 % gives more than 6 failures with probability < 1 %.
    assert rate(Setting(17, 20, "overall", "bca", "holm"), "fair", 40) <= 6 / 40


def test_a_group_three_standard_errors_beyond_the_threshold_is_usually_flagged():
    # Expected about 85 %; 25 runs below 50 % would happen with probability < 0.1 %.
    assert rate(Setting(2, 200, "overall", "bca", "none"), "power", 25) >= 0.5
