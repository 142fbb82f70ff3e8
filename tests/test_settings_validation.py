"""Every option is checked once: the command line and the library refuse a bad value alike.

Each case gives one invalid value of one option to the real command line (the console
entry point, in process; one case also as a subprocess) and to the settings record a
notebook would construct, and asserts the same one-line message, exit code 2 and no
traceback. Nothing here evaluates an image: every value is refused before any input is
read.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fairness_eval.cli import main
from fairness_eval.config import rules
from fairness_eval.config.command_options import CheckOptions, CompareOptions, TableSettings
from fairness_eval.config.field_rules import option_name
from fairness_eval.config.settings import Settings, StatisticsSettings
from fairness_eval.errors import UsageError

EXE = Path(sys.executable).with_name("fairness-eval")
PREFIX = "fairness-eval: error: "

# (command-line arguments after the command, the record, its keyword, the value a library
# caller passes, a fragment of the reason). The library value is what the option's text
# means to a notebook: the number for a number, the text for text that is not one.
RUN_CASES: list[tuple[list[str], str, Any, str]] = [
    (["--threshold", "1.5"], "mask_threshold", 1.5, "must lie in (0, 1)"),
    (["--threshold", "0"], "mask_threshold", 0, "must lie in (0, 1)"),
    (["--mask-threshold", "1"], "mask_threshold", 1.0, "must lie in (0, 1)"),
    (["--threshold", "high"], "mask_threshold", "high", "is not a number"),
    (["--threads", "0"], "threads", 0, "must be at least 1"),
    (["--workers", "0"], "workers", 0, "must be at least 1"),
    (["--workers", "two"], "workers", "two", "is not an integer"),
    (["--bootstrap", "5"], "bootstrap", 5, "must be at least 100"),
    (["--bootstrap", "1000000000"], "bootstrap", 10**9, "must be at most 1000000"),
    (["--bootstrap", "2000.5"], "bootstrap", "2000.5", "is not an integer"),
    (["--confidence", "0.5"], "confidence", 0.5, "must lie in (0.5, 1)"),
    (["--confidence", "95"], "confidence", 95, "must lie in (0.5, 1)"),
    (["--confidence", "nan"], "confidence", float("nan"), "is not a finite number"),
    (["--ci-method", "studentized"], "ci_method", "studentized",
     "is not one of bca, percentile"),
    (["--seed", "-1"], "seed", -1, "must be at least 0"),
    (["--statistic", "median"], "statistic", "median", "is not one of mean, pooled"),
    (["--reference", "median"], "reference", "median", "is not one of overall, group-mean"),
    (["--min-group-size", "0"], "min_group_size", 0, "must be at least 1"),
    (["--sd-factor", "0"], "sd_factor", 0, "must be a positive number"),
    (["--sd-factor", "inf"], "sd_factor", float("inf"), "is not a finite number"),
    (["--sd-ddof", "2"], "sd_ddof", 2, "must be 0 (population SD) or 1 (sample SD)"),
    (["--inter-annotator-iou", "300"], "inter_annotator_iou", 300,
     "is not a percentage in [0, 100]"),
    (["--inter-annotator-iou", "0"], "inter_annotator_iou", 0, "must be above 0"),
    (["--inter-annotator-iou", "high"], "inter_annotator_iou", "high", "is not a number"),
    (["--format", "html,docx"], "formats", "html,docx", "unknown format(s) docx"),
    (["--examples", "-1"], "examples", -1, "must be at least 0"),
    (["--examples", "some"], "examples", "some", "is not an integer"),
    (["--gate-on", "vibes"], "gate_on", "vibes", "is not one of statistical, point"),
    (["--intersect", "region"], "intersect", ("region",), "crosses fewer than two attributes"),
    (["--intersect", "region,region"], "intersect", ("region,region",),
     "crosses fewer than two attributes"),
    (["--model", ""], "model", "", "is not a model name or a path to a .tflite or .onnx file"),
]

TABLE_CASES: list[tuple[list[str], str, Any, str]] = [
    (["--average", "120"], "average", 120, "is not a percentage in [0, 100]"),
    (["--average", "-0.5"], "average", -0.5, "is negative"),
    (["--average", "n/a"], "average", "n/a", "is not a number"),
    (["--inter-annotator-iou", "0"], "inter_annotator_iou", 0, "must be above 0"),
    (["--units", "permille"], "units", "permille", "is not one of auto, percent, fraction"),
    (["--reference", "median"], "reference", "median", "is not one of overall, group-mean"),
    (["--min-group-size", "0"], "min_group_size", 0, "must be at least 1"),
    (["--sd-factor", "-3"], "sd_factor", -3, "must be a positive number"),
    (["--sd-ddof", "-1"], "sd_ddof", -1, "must be at least 0"),
]


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The console entry point in process: its exit code and stderr."""
    monkeypatch.setattr(sys, "argv", ["fairness-eval", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    return exit_info.value.code, capsys.readouterr().err


def library_message(record: type, **values: Any) -> str:
    with pytest.raises(UsageError) as error:
        record(**values)
    return str(error.value)


def assert_same_refusal(args: list[str], message: str, monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(args, monkeypatch, capsys)
    assert code == 2, err
    assert "Traceback" not in err
    assert err.splitlines() == [PREFIX + message], err


@pytest.fixture(autouse=True)
def no_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A fairness-eval.toml in the working folder would be read by every command.
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(("args", "field", "value", "reason"), RUN_CASES,
                         ids=[" ".join(case[0]) for case in RUN_CASES])
def test_run_option_is_refused_alike_by_cli_and_settings(args, field, value, reason,
                                                         monkeypatch, capsys):
    message = library_message(Settings, **{field: value})
    assert message.startswith(option_name(field) + ":") and reason in message
    assert_same_refusal(["run", *args], message, monkeypatch, capsys)


@pytest.mark.parametrize(("args", "field", "value", "reason"), TABLE_CASES,
                         ids=[" ".join(case[0]) for case in TABLE_CASES])
def test_card_option_is_refused_alike_by_cli_and_table_settings(args, field, value, reason,
                                                                tmp_path, monkeypatch, capsys):
    message = library_message(TableSettings, **{field: value})
    assert message.startswith(option_name(field) + ":") and reason in message
    table = tmp_path / "table.csv"
    table.write_text("attribute,group,value,n\nx,a,96,100\nx,b,95,100\n")
    assert_same_refusal(["card", "--from-table", str(table), "--out", str(tmp_path / "out"),
                         *args], message, monkeypatch, capsys)
    assert not (tmp_path / "out").exists()  # refused before anything was written


@pytest.mark.parametrize(("args", "field", "value"), [
    (["--examples", "-1"], "examples", -1),
    (["--format", "docx"], "formats", "docx"),
])
def test_report_options_are_refused_by_the_same_rules(args, field, value, tmp_path,
                                                      monkeypatch, capsys):
    assert_same_refusal(["report", str(tmp_path), *args],
                        library_message(Settings, **{field: value}), monkeypatch, capsys)


def test_card_gate_on_is_refused_even_without_gate(tmp_path, monkeypatch, capsys):
    table = tmp_path / "table.csv"
    table.write_text("attribute,group,value,n\nx,a,96,100\nx,b,95,100\n")
    assert_same_refusal(["card", "--from-table", str(table), "--out", str(tmp_path / "out"),
                         "--gate-on", "vibes"], library_message(CheckOptions, gate_on="vibes"),
                        monkeypatch, capsys)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("args", "record", "values"), [
    (["check", "run", "--gate-on", "vibes"], CheckOptions, {"gate_on": "vibes"}),
    (["compare", "a", "b", "--gate-on", "vibes"], CompareOptions, {"gate_on": "vibes"}),
    (["compare", "a", "b", "--max-drop", "-0.1"], CompareOptions, {"max_drop": -0.1}),
    (["compare", "a", "b", "--max-drop", "much"], CompareOptions, {"max_drop": "much"}),
])
def test_check_and_compare_options_are_refused_alike(args, record, values, monkeypatch,
                                                     capsys):
    assert_same_refusal(args, library_message(record, **values), monkeypatch, capsys)


def test_the_statistics_slice_obeys_the_same_rules():
    for field, value, _ in [(c[1], c[2], c[3]) for c in RUN_CASES]:
        if field in StatisticsSettings.__dataclass_fields__:
            assert library_message(StatisticsSettings, **{field: value}) == \
                library_message(Settings, **{field: value})


def test_a_per_attribute_minimum_is_checked_by_the_global_rule(tmp_path, monkeypatch, capsys):
    library = library_message(Settings, per_attribute={"region": {"min_group_size": 0}})
    assert library == "attributes.region.min-group-size: 0 must be at least 1"
    assert library_message(StatisticsSettings, min_group_sizes={"region": 0}) == library
    config = tmp_path / "team.toml"
    config.write_text("[attributes.region]\nmin-group-size = 0\n")
    reason = library.partition(": ")[2]
    assert_same_refusal(["run", "--config", str(config)],
                        f"{config}: key 'attributes.region.min-group-size': {reason}",
                        monkeypatch, capsys)


def test_a_bad_file_value_names_the_file_and_the_key_with_the_options_reason(
        tmp_path, monkeypatch, capsys):
    config = tmp_path / "team.toml"
    config.write_text("bootstrap = 1000000000\n")
    reason = library_message(Settings, bootstrap=10**9).partition(": ")[2]
    assert_same_refusal(["run", "--config", str(config)],
                        f"{config}: key 'bootstrap': {reason}", monkeypatch, capsys)


def test_records_are_frozen_and_replace_checks_again():
    import dataclasses

    settings = Settings(bootstrap=200)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.bootstrap = 5  # type: ignore[misc]
    with pytest.raises(UsageError, match="--bootstrap: 5 must be at least 100"):
        dataclasses.replace(settings, bootstrap=5)


def test_the_installed_command_refuses_a_huge_bootstrap_in_one_line(tmp_path):
    done = subprocess.run([str(EXE), "run", "--dataset", str(tmp_path), "--bootstrap",
                           str(10**9)], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [PREFIX + library_message(Settings, bootstrap=10**9)]


@pytest.mark.parametrize(("value", "expected"), [
    (0.9874, 0.9874), (98.74, 0.9874), ("98.74", 0.9874), ("98.74%", 0.9874), (1, 1.0),
    (0, 0.0), (100, 1.0), ("0.5", 0.5),
])
def test_parse_fraction_accepts_fractions_and_percentages(value, expected):
    assert rules.parse_fraction(value, "--average") == pytest.approx(expected)


@pytest.mark.parametrize("value", ["abc", float("nan"), float("inf"), 150, -0.1, None, "NaN",
                                   True])
def test_parse_fraction_rejects_other_values_naming_the_option(value):
    with pytest.raises(UsageError, match="^--average: "):
        rules.parse_fraction(value, "--average")
