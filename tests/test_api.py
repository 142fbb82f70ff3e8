"""The notebook front door: `fairness_eval.assess` and `ResultsDocument.load`, against the
golden VOC run, pandas and (when installed) Fairlearn, `run`'s options and the gate."""

from __future__ import annotations

import doctest
import inspect
import json
import shutil
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pytest

import fairness_eval as fe
from fairness_eval import api
from fairness_eval.cli import run as run_command
from fairness_eval.config.field_rules import FIELD_RULES
from fairness_eval.errors import UsageError
from fairness_eval.results import frames

GOLDEN = Path(__file__).parent / "golden"
ATTRIBUTE = "bourdev_subcategory"
# The golden run's statistical settings (tests/test_golden.py): bootstrap 2000, seed 0.
GOLDEN_SETTINGS = {"attribute": ATTRIBUTE, "min_group_size": 20, "bootstrap": 2000, "seed": 0}


@pytest.fixture(scope="module")
def per_image() -> pd.DataFrame:
    return pd.read_csv(GOLDEN / "voc_per_image.csv")


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads((GOLDEN / "voc_results.json").read_text())


@pytest.fixture(scope="module")
def assessed(per_image: pd.DataFrame) -> api.Assessment:
    return fe.assess(per_image, **GOLDEN_SETTINGS)


@pytest.fixture
def run_folder(tmp_path: Path) -> Path:
    """The golden run as a run folder: its results.json beside its per_image.csv."""
    shutil.copy(GOLDEN / "voc_results.json", tmp_path / "results.json")
    shutil.copy(GOLDEN / "voc_per_image.csv", tmp_path / "per_image.csv")
    return tmp_path


def _interval(frame: pd.DataFrame, prefix: str) -> list[list[float]]:
    return frame[[f"{prefix}_low", f"{prefix}_high"]].to_numpy().tolist()


# --- the same numbers and verdicts as the run ---------------------------------------------


def test_groups_intervals_and_verdicts_equal_the_golden_run(assessed, golden):
    groups = golden["attributes"][ATTRIBUTE]["groups"]  # keys sorted in the golden file
    table = assessed.by_group(ATTRIBUTE)
    assert table.index.name == ATTRIBUTE
    assert sorted(table.index) == sorted(groups)
    assert table.index[-1] == "(not annotated)" and table.loc["(not annotated)", "not_annotated"]
    table = table.loc[list(groups)]
    assert table["n"].tolist() == [g["n"] for g in groups.values()]
    # bit for bit: the same code, settings and seed
    assert table["value"].tolist() == [g["value"] for g in groups.values()]
    assert _interval(table, "ci") == [g["ci"] for g in groups.values()]
    assert table["deviation"].tolist() == [g["deviation"] for g in groups.values()]
    assert _interval(table, "deviation_ci") == [g["deviation_ci"] for g in groups.values()]
    for criterion in ("a", "b"):
        assert table[f"verdict_{criterion}"].tolist() == [
            g["verdicts"][criterion]["statistical"] for g in groups.values()]
        assert table[f"point_verdict_{criterion}"].tolist() == [
            g["verdicts"][criterion]["point"] for g in groups.values()]
    assert table["gated"].tolist() == [g["gated"] for g in groups.values()]
    # and the statistical blocks whole: results.json's, from the in-memory table
    document = assessed.to_json()
    for block in ("overall", "bootstrap", "inter_annotator_iou", "attributes", "familywise"):
        assert document[block] == golden[block], block


def test_the_verdict_is_the_gate_of_check_on_the_golden_run(assessed, run_folder,
                                                           monkeypatch, capsys):
    from fairness_eval import cli

    output = run_folder / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setattr(sys, "argv", ["fairness-eval", "check", str(run_folder)])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    capsys.readouterr()
    assert exited.value.code == assessed.exit_code
    outputs = dict(line.split("=", 1) for line in _plain_outputs(output.read_text()))
    assert outputs["verdict"] == assessed.verdict
    assert {k: int(outputs[k]) for k in assessed.counts} == assessed.counts


def _plain_outputs(text: str) -> list[str]:
    """`name=value` of each `name<<D`, value, `D` block (the values here are one line)."""
    lines = text.splitlines()
    return [f"{lines[i].split('<<')[0]}={lines[i + 1]}"
            for i in range(len(lines)) if "<<" in lines[i]]


def test_a_run_folder_and_its_results_document_give_the_same_tables(assessed, run_folder):
    from_folder = fe.assess(run_folder, min_group_size=20, bootstrap=2000)  # its attributes
    pd.testing.assert_frame_equal(from_folder.by_group(), assessed.by_group(ATTRIBUTE))
    # (the golden file's keys are sorted: a run's own results.json keeps the groups' order)
    loaded = fe.ResultsDocument.load(run_folder / "results.json")
    assert fe.ResultsDocument.load(run_folder) == loaded
    expected = assessed.by_group(ATTRIBUTE)
    pd.testing.assert_frame_equal(loaded.by_group(ATTRIBUTE).loc[expected.index], expected)
    pd.testing.assert_frame_equal(loaded.by_group(), frames.by_group(loaded, ATTRIBUTE))
    expected = assessed.to_frame()
    found = loaded.to_frame().set_index(["attribute", "group"]).loc[
        pd.MultiIndex.from_frame(expected[["attribute", "group"]])].reset_index()
    pd.testing.assert_frame_equal(found, expected)
    assert fe.assess(run_folder / "per_image.csv", **GOLDEN_SETTINGS).verdict \
        == assessed.verdict


def test_an_edited_per_image_table_in_a_run_folder_is_refused(run_folder):
    path = run_folder / "per_image.csv"
    path.write_text(path.read_text().replace("0.879182559617949", "0.979182559617949"))
    with pytest.raises(UsageError, match=r"^per_image\.csv|changed since the run"):
        fe.assess(run_folder, **GOLDEN_SETTINGS)


def test_intersection_and_union_alone_give_the_same_figures(per_image, assessed):
    counts_only = per_image.drop(columns=["iou", "boundary_iou"])
    again = fe.assess(counts_only, **GOLDEN_SETTINGS)
    pd.testing.assert_frame_equal(again.by_group(), assessed.by_group())


def test_long_form_stacks_every_attribute(per_image):
    res = fe.assess(per_image, attribute=[ATTRIBUTE, "bourdev_persons_read"],
                    intersect=[f"{ATTRIBUTE},bourdev_persons_read"], min_group_size=20,
                    bootstrap=200)
    long = res.to_frame()
    crossing = f"{ATTRIBUTE}×bourdev_persons_read"
    assert list(dict.fromkeys(long["attribute"])) == [ATTRIBUTE, "bourdev_persons_read",
                                                      crossing]
    assert list(long.columns) == ["attribute", "group", *frames.COLUMNS]
    for name in res.attributes:
        part = long[long["attribute"] == name].drop(columns="attribute").set_index("group")
        part.index.name = name
        pd.testing.assert_frame_equal(part, res.by_group(name))
    with pytest.raises(UsageError, match="^by_group: name the attribute, one of"):
        res.by_group()


# --- against pandas and Fairlearn ----------------------------------------------------------


def _annotated(assessed: api.Assessment) -> pd.DataFrame:
    table = assessed.by_group(ATTRIBUTE)
    return table[~table["not_annotated"]]


def test_group_means_equal_a_pandas_groupby(per_image, assessed):
    ok = per_image[per_image["status"] == "ok"]
    expected = ok.groupby(ATTRIBUTE)["iou"].agg(["mean", "size"])  # NaN: not annotated
    table = _annotated(assessed)
    assert sorted(table.index) == sorted(expected.index)
    expected = expected.loc[table.index]
    np.testing.assert_allclose(table["value"], expected["mean"], rtol=1e-12, atol=0)
    assert table["n"].tolist() == expected["size"].tolist()
    # the not-annotated group is the rest of the evaluated images
    rest = ok[ok[ATTRIBUTE].isna()]
    missing = assessed.by_group(ATTRIBUTE).loc["(not annotated)"]
    assert missing["n"] == len(rest)
    assert missing["value"] == pytest.approx(rest["iou"].mean(), rel=1e-12)


def test_group_means_equal_fairlearn_metric_frame(per_image, assessed):
    import fairlearn.metrics as fairlearn  # in the [test] extra: a missing oracle fails

    ok = per_image[(per_image["status"] == "ok") & per_image[ATTRIBUTE].notna()]
    frame = fairlearn.MetricFrame(
        metrics={"value": lambda y_true, y_pred: float(np.mean(y_pred)),
                 "n": lambda y_true, y_pred: len(y_pred)},
        y_true=ok["iou"], y_pred=ok["iou"], sensitive_features=ok[ATTRIBUTE])
    expected = frame.by_group
    table = _annotated(assessed)
    assert sorted(table.index) == sorted(expected.index)
    expected = expected.loc[table.index]
    np.testing.assert_allclose(table["value"], expected["value"].astype(float), rtol=1e-12)
    assert table["n"].tolist() == expected["n"].astype(int).tolist()


# --- keywords: run's options, the same defaults ------------------------------------------


def test_every_keyword_is_an_option_of_run_with_the_same_default():
    options = {opt: param for param in run_command.params if isinstance(param, click.Option)
               for opt in param.opts}
    context = run_command.make_context("run", [])  # every option at its default
    parameters = inspect.signature(fe.assess).parameters
    assert api.keywords() and set(api.keywords()) < set(parameters)
    for name in api.keywords():
        flag = "--" + name.replace("_", "-")
        assert flag in options, f"{name}: no option {flag} of run"
        option = options[flag]
        ours = parameters[name].default
        theirs = context.params[option.name]
        if option.name in FIELD_RULES:  # compared as the one rule of the setting reads them
            _, rule = FIELD_RULES[option.name]
            assert rule(ours, flag) == rule(theirs, flag), name
        else:
            assert ours == theirs, name
    # the keywords are the statistics and gate options: each of StatisticsSettings' own
    # (those with an option) is one of them
    from dataclasses import fields

    from fairness_eval.config.settings import StatisticsSettings

    settable = {f.name for f in fields(StatisticsSettings) if f.name in FIELD_RULES}
    missing = settable - set(api.keywords())
    assert not missing, f"assess() has no keyword for the statistics setting(s) {missing}"


# --- bad input: one line naming the argument ----------------------------------------------


@pytest.mark.parametrize(("call", "starts"), [
    (lambda t: fe.assess(t, attribute="colour"),
     "attribute: 'colour' is not a column of the per-image table"),
    (lambda t: fe.assess(t, attribute=ATTRIBUTE, intersect="colour,region"), "intersect: "),
    (lambda t: fe.assess(t, attributes=ATTRIBUTE),
     "assess: unknown keyword 'attributes' (did you mean 'attribute'?)"),
    (lambda t: fe.assess(t, attribute=ATTRIBUTE, bootstrap=-5), "bootstrap: "),
    (lambda t: fe.assess(t, attribute=ATTRIBUTE, min_group_size="many"), "min_group_size: "),
    (lambda t: fe.assess(t, attribute=ATTRIBUTE, gate_on="vibes"), "gate_on: "),
    (lambda t: fe.assess(t.drop(columns=["iou", "union"]), attribute=ATTRIBUTE),
     "per_image: no 'iou' column, nor 'intersection' and 'union'"),
    (lambda t: fe.assess(t, attribute=ATTRIBUTE, metric="colour"), "metric: "),
    (lambda t: fe.assess(t.to_dict(), attribute=ATTRIBUTE),
     "per_image: expected a pandas DataFrame or a run folder, not dict"),
    (lambda t: fe.assess(Path("/nonexistent/run")), "per_image: /nonexistent/run does not"),
    (lambda t: fe.assess(t.assign(iou=t["iou"] * 2), attribute=ATTRIBUTE), "per_image row "),
])
def test_bad_input_is_one_line_naming_the_argument(per_image, call, starts):
    with pytest.raises(UsageError) as raised:
        call(per_image)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(starts), message


def test_by_group_of_an_attribute_not_assessed(assessed):
    with pytest.raises(UsageError, match=r"^by_group: 'region' is not an assessed attribute "
                                         r"\(assessed: bourdev_subcategory\)$"):
        assessed.by_group("region")


# --- the face stays cheap, its examples run ------------------------------------------------


def test_importing_the_package_loads_neither_pandas_nor_scipy():
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import fairness_eval"],
                          capture_output=True, text=True, timeout=120, check=True)
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0]
                for line in done.stderr.splitlines() if "|" in line}
    assert "fairness_eval" in imported
    assert not imported & {"pandas", "scipy", "numpy", "click"}, imported
    code = ("import sys, fairness_eval as fe; fe.assess; fe.ResultsDocument; "
            "print('pandas' in sys.modules, 'assess' in dir(fe))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.split() == ["True", "True"]  # reading the names loads them


def test_unknown_names_of_the_package_are_attribute_errors():
    with pytest.raises(AttributeError, match="no attribute 'asses'"):
        fe.asses  # noqa: B018


def test_docstring_examples_run():
    result = doctest.testmod(api, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted >= 10
