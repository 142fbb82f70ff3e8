"""`run --mlflow` (ci/tracking.py): a run folder logged to a local MLflow file store and read
back with MlflowClient: parameters, metrics with their intervals under names MLflow accepts,
the gate's decision as a tag, the outputs as artifacts; without MLflow, one line naming the
extra before the model loads."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from fairness_eval.errors import UsageError
from fairness_eval.results.schema import ResultsDocument

mlflow = pytest.importorskip("mlflow")
from mlflow.tracking import MlflowClient  # noqa: E402

from fairness_eval.ci.tracking import log_run, metric_name, tracked_metrics  # noqa: E402

GOLDEN = Path(__file__).parent / "golden"
VOC = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "voc2012_person"
ATTRIBUTE = "bourdev_subcategory"


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A file store of its own (MLflow refuses a file store unless allowed)."""
    uri = f"file:{tmp_path / 'mlruns'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    mlflow.set_tracking_uri(None)  # the environment's URI, whatever a test set before
    return uri


def _golden_run(folder: Path, renames: dict[str, str] | None = None) -> ResultsDocument:
    """The golden VOC run as a run folder; `renames` gives its groups other names."""
    folder.mkdir()
    data = json.loads((GOLDEN / "voc_results.json").read_text())
    for old, new in (renames or {}).items():
        assessment = data["attributes"][ATTRIBUTE]
        assessment["groups"] = {new if k == old else k: v
                                for k, v in assessment["groups"].items()}
        for key in ("min_group", "max_group"):
            if assessment["range"][key] == old:
                assessment["range"][key] = new
    (folder / "results.json").write_text(json.dumps(data))
    shutil.copy(GOLDEN / "voc_per_image.csv", folder / "per_image.csv")
    (folder / "summary.md").write_text("# summary\n")
    return ResultsDocument.from_json(data)


def test_the_golden_run_reads_back_from_the_store(store, tmp_path):
    document = _golden_run(tmp_path / "run")
    run_id = log_run(tmp_path / "run", document, gated=True)
    run = MlflowClient(store).get_run(run_id)
    metrics, params, tags = run.data.metrics, run.data.params, run.data.tags
    overall = document.overall
    assert metrics["overall.value"] == pytest.approx(overall.value)
    assert (metrics["overall.ci_low"], metrics["overall.ci_high"]) == pytest.approx(
        tuple(overall.ci))
    assert metrics["overall.n"] == 300
    child = document.attributes[ATTRIBUTE].groups["Child"]
    assert metrics[f"{ATTRIBUTE}/Child.value"] == pytest.approx(child.value)
    assert metrics[f"{ATTRIBUTE}/Child.ci_low"] == pytest.approx(child.ci[0])
    assert metrics[f"{ATTRIBUTE}/Child.ci_high"] == pytest.approx(child.ci[1])
    assert metrics[f"{ATTRIBUTE}/Child.n"] == child.n
    assert metrics[f"{ATTRIBUTE}/_not annotated_.n"] == \
        document.attributes[ATTRIBUTE].groups["(not annotated)"].n
    assert metrics[f"{ATTRIBUTE}.sd"] == pytest.approx(document.attributes[ATTRIBUTE].sd)
    assert params["model.sha256"] == document.model.sha256
    assert params["dataset.sha256"] == document.dataset.sha256
    assert params["config.sha256"] == document.config.sha256
    assert params["settings.bootstrap"] == "2000"
    assert params["settings.attributes"] == json.dumps([ATTRIBUTE])
    # The golden attribute is inconclusive: the recorded (non-strict) gate passes it.
    assert tags["fairness_eval.gate"] == "passed" and tags["fairness_eval.gated"] == "true"
    assert tags[f"fairness_eval.verdict.{ATTRIBUTE}"] == "inconclusive"
    assert run.info.run_name == "selfie on voc2012_person"
    artifacts = {a.path for a in MlflowClient(store).list_artifacts(run_id)}
    assert artifacts == {"results.json", "per_image.csv", "summary.md", "metric_names.json"}
    local = Path(MlflowClient(store).download_artifacts(run_id, "per_image.csv",
                                                        str(tmp_path / "back")))
    assert local.read_bytes() == (GOLDEN / "voc_per_image.csv").read_bytes()


def test_group_names_are_made_acceptable_and_kept_apart(store, tmp_path):
    renames = {"Child": "female×dark", "Female": "female+dark", "Male": "a/b",
               "Unknown": "a_b", "mixed": ".."}
    document = _golden_run(tmp_path / "run", renames)
    metrics, origins = tracked_metrics(document)
    groups = {name.split("/", 1)[1].rsplit(".", 1)[0] for name in metrics
              if name.startswith(f"{ATTRIBUTE}/")}
    # ".." would be a path's parent: "_." and with the stat's dot "__.value"
    assert groups == {"female_dark", "female_dark_2", "a_b", "a_b_2", "__",
                      "_not annotated_"}
    assert origins[f"{ATTRIBUTE}/female_dark_2.value"] == [ATTRIBUTE, "female+dark", "value"]
    assert origins[f"{ATTRIBUTE}/a_b.ci_low"] == [ATTRIBUTE, "a/b", "ci_low"]
    # MLflow itself takes every name: all of them read back.
    run_id = log_run(tmp_path / "run", document)
    stored = MlflowClient(store).get_run(run_id).data.metrics
    assert set(metrics) <= set(stored)
    dots = next(name for name, origin in origins.items() if origin == [ATTRIBUTE, "..", "n"])
    assert dots == f"{ATTRIBUTE}/__.n"
    assert stored[dots] == document.attributes[ATTRIBUTE].groups[".."].n
    assert metric_name("a..b", "c:d") == "a_.b/c_d"


@pytest.mark.slow
def test_run_with_mlflow_logs_the_finished_run(store, tmp_path):
    from fairness_eval.config.settings import Settings
    from fairness_eval.workflow.run import run

    stems = sorted(p.stem for p in (VOC / "masks_annotator2").glob("*.png"))[:12]
    folder = tmp_path / "data"
    for name in ("images", "masks"):
        (folder / name).mkdir(parents=True)
    for stem in stems:
        shutil.copy(VOC / "images" / f"{stem}.jpg", folder / "images")
        shutil.copy(VOC / "masks" / f"{stem}.png", folder / "masks")
    pd.DataFrame({"image": stems, "side": ["left", "right"] * 6}).to_csv(
        folder / "attributes.csv", index=False)
    lines: list[str] = []
    settings = Settings(out=tmp_path / "run", predictions=VOC / "masks_annotator2", workers=1,
                        formats=("md", "json"), bootstrap=200, min_group_size=3, gate=True)
    result = run(folder, settings, mlflow=True, echo=lines.append, log=lines.append)
    run_id = lines[-1].split()[3]
    assert lines[-1] == f"mlflow: logged run {run_id} to {store}"
    logged = MlflowClient(store).get_run(run_id)
    per_image = pd.read_csv(tmp_path / "run" / "per_image.csv")
    assert logged.data.metrics["overall.n"] == len(stems)
    assert logged.data.metrics["overall.mean_iou"] == pytest.approx(per_image["iou"].mean())
    assert logged.data.metrics["side/left.n"] == 6
    decision = {0: "passed", 1: "failed", 2: "nothing-checked"}[result.gate_exit_code]
    assert logged.data.tags["fairness_eval.gate"] == decision
    assert logged.data.params["settings.predictions"] == str(VOC / "masks_annotator2")
    artifacts = {a.path for a in MlflowClient(store).list_artifacts(run_id)}
    assert {"results.json", "per_image.csv", "summary.md", "model_card.json",
            "junit.xml"} <= artifacts


def test_without_mlflow_the_run_stops_before_the_dataset_and_model(monkeypatch, tmp_path):
    from fairness_eval.config.settings import Settings
    from fairness_eval.workflow.run import run

    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow -> ImportError
    # Neither the dataset nor the model exists: the tracking check comes first.
    with pytest.raises(UsageError) as refused:
        run(tmp_path / "absent", Settings(model=str(tmp_path / "absent.tflite")), mlflow=True)
    assert str(refused.value) == ("--mlflow: MLflow is not installed: "
                                  "pip install 'fairness-eval[mlflow]'")


def test_the_cli_refuses_an_unusable_store_in_one_line(monkeypatch, tmp_path, capsys):
    from fairness_eval.cli import main

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"file:{tmp_path / 'mlruns'}")
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    mlflow.set_tracking_uri(None)
    monkeypatch.setattr(sys, "argv", ["fairness-eval", "run", "--dataset",
                                      str(tmp_path / "absent"), "--mlflow"])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"fairness-eval: error: --mlflow: MLflow cannot use the tracking "
                             f"URI file:{tmp_path / 'mlruns'}: ")
    assert "MLFLOW_ALLOW_FILE_STORE" in err[0]
