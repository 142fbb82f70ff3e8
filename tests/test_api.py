"""The notebook front door: `fairness_eval.assess` and `ResultsDocument.load`, against the
golden VOC run, pandas and (when installed) Fairlearn, `run`'s options and the gate."""

from __future__ import annotations

import doctest
import inspect
import json
import shutil
import subprocess
import sys
import tempfile
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
    assert result.attempted >= 30  # the module's, assess's and evaluate's examples


# --- evaluate: run's evaluation, then the run folder read as assess reads it --------------

# run's option that evaluate has no keyword for: the dataset is its first argument.
NOT_KEYWORDS_OF_EVALUATE = {"--dataset"}


def _run_options() -> dict[str, click.Option]:
    return {opt: param for param in run_command.params if isinstance(param, click.Option)
            for opt in param.opts}


def test_evaluate_has_a_keyword_for_every_option_of_run_with_the_same_default():
    options = _run_options()
    context = run_command.make_context("run", [])
    parameters = inspect.signature(fe.evaluate).parameters
    names = api.keywords(fe.evaluate)
    for name in names:
        flag = "--" + name.replace("_", "-")
        assert flag in options and flag not in NOT_KEYWORDS_OF_EVALUATE, name
        option = options[flag]
        ours, theirs = parameters[name].default, context.params[option.name]
        if ours is None or theirs is None:  # None: the settings' own default (--workers)
            assert ours is theirs, name
        elif option.name in FIELD_RULES:
            _, rule = FIELD_RULES[option.name]
            assert rule(ours, flag) == rule(theirs, flag), name
        else:
            assert ours == theirs, name
    # each other option of run is taken by its name (run_options), none twice
    covered = {options["--" + name.replace("_", "-")].name for name in names}
    assert len(names) == len(covered)
    others = api.run_options()
    assert not set(others) & set(names)
    rest = {param.opts[0] for param in set(options.values()) if param.name not in covered
            and param.opts[0] not in NOT_KEYWORDS_OF_EVALUATE}
    assert {flag[2:].replace("-", "_") for flag in rest} <= set(others)
    # assess's keywords are evaluate's, with the same defaults
    for name in api.keywords():
        assert parameters[name].default == inspect.signature(fe.assess).parameters[
            name].default, name


def _extra_rows(i: int) -> int:
    return (i % 2) * (1 + i % 3)


def _tiny_dataset(root: Path, n: int = 6) -> tuple[Path, Path]:
    """A folder-layout dataset of n 8x8 images (a person in the top 4 rows) and supplied
    predictions: the even images ("bright") exact, the odd ones ("dim") 1 to 3 rows too
    many (IoU 4 / (4 + rows))."""
    from PIL import Image

    data, predicted = root / "data", root / "predicted"
    for folder in (data / "images", data / "masks", predicted):
        folder.mkdir(parents=True)
    rows = ["image,light"]
    for i in range(n):
        Image.new("RGB", (8, 8)).save(data / "images" / f"{i}.png")
        truth = np.zeros((8, 8), np.uint8)
        truth[:4] = 255
        Image.fromarray(truth).save(data / "masks" / f"{i}.png")
        truth[4:4 + _extra_rows(i)] = 255
        Image.fromarray(truth).save(predicted / f"{i}.png")
        rows.append(f"{i},{'dim' if i % 2 else 'bright'}")
    (data / "attributes.csv").write_text("\n".join(rows) + "\n")
    return data, predicted


def test_evaluate_writes_a_fresh_temporary_run_folder_by_default(tmp_path, capsys):
    data, predicted = _tiny_dataset(tmp_path, n=8)
    res = fe.evaluate(data, predictions=predicted, attribute="light", min_group_size=1,
                      bootstrap=200, format="", workers=1)
    try:
        assert res.run_dir is not None and res.run_dir.name.startswith("fairness-eval-")
        assert not res.run_dir.is_relative_to(tmp_path)
        assert sorted(p.name for p in res.run_dir.glob("*.*") if p.name[0] != ".") == [
            "per_image.csv", "progress.sqlite", "results.json"]
        expected = [4 / (4 + _extra_rows(i)) for i in range(8)]
        np.testing.assert_allclose(res.per_image["iou"], expected, rtol=1e-12)
        table = res.by_group()
        assert table.index.tolist() == ["bright", "dim"]
        np.testing.assert_allclose(table["value"], [1.0, np.mean(expected[1::2])],
                                   rtol=1e-12)
        assert table["n"].tolist() == [4, 4]
        assert res.document == fe.ResultsDocument.load(res.run_dir)
        assert res.document.model.source == "predictions"
        # recorded as the call that made it
        assert res.document.command.startswith(
            f"fairness_eval.evaluate({str(data)!r}, predictions=")
        assert f"run_dir={str(res.run_dir)!r}" in repr(res)
        assert "8 of 8 rows evaluated" in capsys.readouterr().out
    finally:
        shutil.rmtree(res.run_dir)


def test_evaluate_gates_as_run_and_check_do(tmp_path, capsys, monkeypatch):
    from fairness_eval import cli

    data, predicted = _tiny_dataset(tmp_path, n=24)
    # (b) at an agreement of 0.95 allows 10 points: the groups lie 16 apart from the mean
    res = fe.evaluate(data, predictions=predicted, attribute="light", min_group_size=10,
                      bootstrap=500, format="", workers=1, inter_annotator_iou=0.95,
                      gate=True, out=tmp_path / "run")
    assert res.verdict == "failed" and res.exit_code == 1
    assert res.by_group()["verdict_b"].tolist() == ["violation", "violation"]
    assert "fairness gate: FAILED" in capsys.readouterr().out  # run's own gate
    monkeypatch.setattr(sys, "argv", ["fairness-eval", "check", str(res.run_dir)])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == res.exit_code
    # a second call into the same folder is refused as run refuses it
    with pytest.raises(UsageError, match=r"^out: .*overwrite"):
        fe.evaluate(data, predictions=predicted, out=tmp_path / "run", format="", workers=1)


def test_evaluate_reads_a_configuration_file_only_when_named(tmp_path, monkeypatch):
    """`config` is read as `run --config` reads it (its [attributes.NAME] tables too, which
    no keyword sets), the keywords over it, its hash recorded; without it, no file is read,
    not even ./fairness-eval.toml."""
    data, predicted = _tiny_dataset(tmp_path, n=8)
    config = tmp_path / "fairness-eval.toml"
    config.write_text('bootstrap = 300\nseed = 4\n\n[attributes.light]\nmin_group_size = 2\n')
    res = fe.evaluate(data, config=config, predictions=predicted, attribute="light",
                      seed=5, format="", workers=1, out=tmp_path / "with")
    settings = res.document.settings.values
    assert (settings["bootstrap"], settings["seed"]) == (300, 5)  # the keyword over the file
    assert settings["per_attribute"] == {"light": {"min_group_size": 2}}
    assert res.by_group()["gated"].all()  # 4 images a group: gated at 2, not at 30
    recorded = json.loads((res.run_dir / "results.json").read_text())["config"]
    assert recorded["source"] == "fairness-eval.toml" and len(recorded["sha256"]) == 64
    monkeypatch.chdir(tmp_path)  # a file beside the call is not read unless named
    plain = fe.evaluate(data, predictions=predicted, attribute="light", format="",
                        workers=1, out=tmp_path / "without")
    assert plain.document.settings.values["bootstrap"] == 10_000
    assert not plain.by_group()["gated"].any()
    with pytest.raises(UsageError, match=r"^config: .*nothere\.toml: no such file"):
        fe.evaluate(data, config=tmp_path / "nothere.toml", predictions=predicted)


def test_an_option_of_run_without_a_keyword_is_taken_by_its_name(tmp_path, monkeypatch,
                                                                capsys):
    """A dataset keyword `workflow.run` gains (as images and image_set locate COCO's and
    VOC's rows) reaches it from evaluate without a change here."""
    from fairness_eval import workflow

    real, seen = workflow.run, {}

    def run(dataset, settings, *, shelf: str | None = None, **rest):
        seen["shelf"] = shelf
        return real(dataset, settings, **rest)

    monkeypatch.setattr(workflow, "run", run)
    assert "shelf" in api.run_options()
    data, predicted = _tiny_dataset(tmp_path)
    # limit: a setting of run's key table with no keyword of evaluate's own
    assert "limit" in api.run_options()
    res = fe.evaluate(data, predictions=predicted, format="", workers=1, shelf="top",
                      limit=4, bootstrap=200, out=tmp_path / "run")
    assert seen == {"shelf": "top"}
    assert res.per_image["image"].tolist() == ["0", "1", "2", "3"]
    assert res.document.command.endswith(", shelf='top', limit=4)")
    with pytest.raises(UsageError, match=r"^evaluate: unknown keyword 'shelves' \(did you "
                                         r"mean 'shelf'\?\)$"):
        fe.evaluate(data, predictions=predicted, shelves="top")
    capsys.readouterr()


@pytest.mark.parametrize(("keywords", "starts"), [
    ({"bootstrap": -5}, "bootstrap: "),
    ({"threshold": 2}, "threshold: "),
    ({"model": "other.tflite"}, "model and predictions: give only one"),
    ({"atribute": "light"}, "evaluate: unknown keyword 'atribute' (did you mean 'attribute'?)"),
    ({"attribute": "colour"}, ""),
])
def test_evaluate_bad_input_is_one_line_naming_the_keyword(tmp_path, keywords, starts):
    data, predicted = _tiny_dataset(tmp_path)
    before = set(Path(tempfile.gettempdir()).glob("fairness-eval-*"))
    with pytest.raises(UsageError) as raised:
        fe.evaluate(data, predictions=predicted, format="", workers=1, **keywords)
    message = str(raised.value)
    assert "\n" not in message and message.startswith(starts), message
    assert "--" not in message, message
    # the temporary run folder of a refused call is not left behind
    assert set(Path(tempfile.gettempdir()).glob("fairness-eval-*")) == before


@pytest.mark.slow
def test_evaluate_runs_the_real_model_as_the_golden_run_did(tmp_path, voc_dataset, model_file,
                                                            capsys, monkeypatch):
    """16 annotated VOC images through the selfie model: each row's numbers are the golden
    300-image run's (a row depends only on its image, masks, model and settings), and the
    result is the run folder read as assess reads it."""
    from fairness_eval import cli

    golden = pd.read_csv(GOLDEN / "voc_per_image.csv", dtype={"image": str})
    chosen = golden[golden[ATTRIBUTE].notna()].head(16)
    rows = []
    for stem, group in zip(chosen["image"], chosen[ATTRIBUTE], strict=True):
        second = voc_dataset / "masks_annotator2" / f"{stem}.png"
        rows.append({"image": str(voc_dataset / "images" / f"{stem}.jpg"),
                     "mask": str(voc_dataset / "masks" / f"{stem}.png"),
                     "ignore": str(voc_dataset / "ignore" / f"{stem}.png"),
                     "mask_annotator2": str(second) if second.exists() else "",
                     ATTRIBUTE: group})
    manifest = tmp_path / "voc16.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)

    settings = {"attribute": ATTRIBUTE, "min_group_size": 3, "bootstrap": 500}
    res = fe.evaluate(manifest, model="selfie", out=tmp_path / "run", format="md",
                      workers=1, gate=True, **settings)
    assert res.run_dir == tmp_path / "run"
    assert "16 of 16 rows evaluated" in capsys.readouterr().out

    table = res.per_image
    assert table["image"].tolist() == chosen["image"].tolist()
    for column in ("intersection", "union", "iou", "boundary_iou", "iou_annotator2"):
        assert table[column].tolist() == chosen[column].tolist(), column  # bit for bit
    assert (table["status"] == "ok").all()
    # the same reading as assess(run folder), and the same figures when recomputed there
    again = fe.assess(res.run_dir, **settings)
    pd.testing.assert_frame_equal(again.per_image, table)
    pd.testing.assert_frame_equal(again.by_group(), res.by_group())
    assert res.document == fe.ResultsDocument.load(res.run_dir)
    groups = res.by_group()
    assert groups["n"].sum() == 16
    expected = chosen.groupby(ATTRIBUTE)["iou"].mean()
    np.testing.assert_allclose(groups.loc[expected.index, "value"], expected, rtol=1e-12)
    assert res.document.model.name == "selfie"
    assert res.document.inter_annotator_iou.source == "dataset"
    # the verdict is check's over the same folder
    monkeypatch.setattr(sys, "argv", ["fairness-eval", "check", str(res.run_dir)])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == res.exit_code
    assert (res.run_dir / "summary.md").is_file()


def test_a_message_for_the_command_line_names_the_calls_keywords():
    from fairness_eval.config.python_keywords import flags_as_keywords, one_name_each

    message = ("--mask-threshold: 2 must lie in (0, 1); pass --overwrite, not --skip-invalid "
               "or --no-such-option (see run--help)")
    assert flags_as_keywords(message, {"threshold", "overwrite", "bootstrap"},
                             {"overwrite"}) == (
        "threshold: 2 must lie in (0, 1); pass overwrite=True, not --skip-invalid or "
        "--no-such-option (see run--help)")
    # a flag is named as itself where it is the subject of the message
    assert flags_as_keywords("--overwrite: no", {"overwrite"}, {"overwrite"}) == "overwrite: no"
    with pytest.raises(UsageError, match=r"^threshold and mask_threshold: give only one"):
        one_name_each({"threshold": 0.4, "mask_threshold": 0.6})
    with pytest.raises(UsageError, match=r"^evaluate: unknown keyword 'mask_threshold' "
                                         r"\(did you mean 'threshold'\?\)$"):
        fe.evaluate("anywhere", mask_threshold=0.6)  # one name per option, as assess


def test_settings_fields_are_runs_option_names():
    # One set of names: a notebook user who knows `--min-group-size` writes
    # Settings(min_group_size=...), and the recorded settings use the same words. Only what
    # the configuration file's tables hold ([conditions], [attributes.NAME]) has no flag.
    import dataclasses

    from fairness_eval.config.settings import Settings, StatisticsSettings

    flags = {param.name for param in run_command.params if isinstance(param, click.Option)}
    config_tables = {"condition_severities", "per_attribute", "min_group_sizes",
                     "gated_criteria"}
    for record in (Settings, StatisticsSettings):
        names = {field.name for field in dataclasses.fields(record)}
        assert names - config_tables <= flags, sorted(names - config_tables - flags)
