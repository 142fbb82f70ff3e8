"""Choosing the model through the command line: `--model-spec`, a `[model]` table in
fairness-eval.toml, and the one-line refusals (two models at once, an ONNX model without
ONNX Runtime, a model no runtime can prepare). tests/test_models_shared.py covers each
shared model through the library; here one example spec runs end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from fairness_eval.config.files import load_config, parse_config
from fairness_eval.config.merge import merge_run_settings
from fairness_eval.errors import UsageError

REPO = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).with_name("fairness-eval")
MODELS = REPO.parent / "shared" / "models" / "portrait_segmentation"
SPECS = REPO / "examples" / "model-specs"
IMAGES = 10


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def one_error_line(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in done.stderr.strip().splitlines()
             if not line.startswith("INFO: Created TensorFlow Lite")]
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert lines[0].startswith("fairness-eval: error: ")
    return lines[0].removeprefix("fairness-eval: error: ")


@pytest.fixture(scope="module")
def ccp_manifest(tmp_path_factory, ccp_dataset: Path) -> Path:
    """The first IMAGES CCP images (sorted by name), split by the person's share of the
    frame (meta.csv) at its median."""
    meta = pd.read_csv(ccp_dataset / "meta.csv", dtype={"image": str}).sort_values("image")
    meta = meta.head(IMAGES)
    median = meta["person_pixel_fraction"].median()
    rows = [{"image": str(ccp_dataset / "images" / f"{stem}.jpg"),
             "mask": str(ccp_dataset / "masks" / f"{stem}.png"),
             "person_share": "large" if share >= median else "small"}
            for stem, share in zip(meta["image"], meta["person_pixel_fraction"], strict=True)]
    path = tmp_path_factory.mktemp("ccp") / "ccp_first.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.mark.real_run
def test_an_example_spec_runs_and_its_effective_spec_and_runtime_are_recorded(
        ccp_manifest, tmp_path):
    out = tmp_path / "run"
    done = cli("run", "--dataset", str(ccp_manifest), "--model-spec",
               str(SPECS / "mnv3_seg_float.toml"), "--out", str(out), "--format", "html",
               "--bootstrap", "200", "--min-group-size", "3", "--workers", "2")
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())
    model = results["model"]
    assert model["name"] == "MobileNetV3 seg (float)"
    assert Path(model["path"]).resolve() == (MODELS / "mnv3_seg_float.tflite").resolve()
    assert model["source"] == "model" and model["runtime"] == "litert-xnnpack"
    assert model["spec"]["input"] == {"layout": "NHWC", "channels": "RGB",
                                      "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5],
                                      "resize": "bilinear", "prior": "none"}
    assert model["spec"]["output"] == {"kind": "softmax", "person": 1}
    assert results["settings"]["model_spec"]["spec_file"] == str(SPECS / "mnv3_seg_float.toml")
    assert results["dataset"]["evaluated"] == IMAGES
    card = (out / "model_card.html").read_text()
    details = card.split('id="model-details"', 1)[1].split("</section>", 1)[0]
    for shown in ("MobileNetV3 seg (float)", "litert-xnnpack", "softmax", "bilinear",
                  "mnv3_seg_float.toml"):
        assert shown in details, shown


def test_model_and_model_spec_together_is_one_line_and_exit_2(tmp_path):
    message = one_error_line(cli("run", "--dataset", str(tmp_path), "--model", "selfie",
                                 "--model-spec", str(SPECS / "prisma_net.toml")))
    assert message == ("--model and --model-spec: give only one (a model name or file, a "
                       "model spec, or a folder of predictions)")


@pytest.mark.skipif(not MODELS.is_dir(), reason=f"shared models missing: {MODELS}")
def test_an_onnx_model_without_onnx_runtime_names_the_extra(ccp_manifest, tmp_path):
    # A package that fails to import, first on the path: as if ONNX Runtime were absent.
    blocker = tmp_path / "blocker" / "onnxruntime"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('No module named onnxruntime')\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(blocker.parent)}
    message = one_error_line(cli("run", "--dataset", str(ccp_manifest), "--model-spec",
                                 str(SPECS / "sinet.toml"), "--out", str(tmp_path / "out"),
                                 env=env))
    assert "pip install 'fairness-eval[onnx]'" in message
    assert "sinet.onnx" in message
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not MODELS.is_dir(), reason=f"shared models missing: {MODELS}")
def test_a_model_no_runtime_can_prepare_is_one_line_and_exit_2(ccp_manifest, tmp_path):
    message = one_error_line(cli("run", "--dataset", str(ccp_manifest), "--model",
                                 str(MODELS / "mnv3_seg_quant.tflite"), "--out",
                                 str(tmp_path / "out")))
    assert message.startswith(f"model {MODELS / 'mnv3_seg_quant.tflite'}: LiteRT cannot "
                              "prepare it, neither with XNNPack nor with its built-in kernels")
    assert not (tmp_path / "out").exists()


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fairness-eval.toml"
    path.write_text(text)
    return path


@pytest.mark.skipif(not MODELS.is_dir(), reason=f"shared models missing: {MODELS}")
def test_a_model_table_in_the_config_file_is_a_spec_relative_to_the_file(tmp_path):
    relative = os.path.relpath(MODELS, tmp_path)
    path = _config(tmp_path, f'[model]\npath = "{relative}/prisma_net.tflite"\n'
                             'name = "Prisma"\n[model.input]\nresize = "bilinear"\n')
    settings = merge_run_settings(load_config(path), {})
    assert settings.model_spec.name == "Prisma"
    assert settings.model_spec.path.resolve() == (MODELS / "prisma_net.tflite").resolve()
    assert settings.model_spec.input.resize == "bilinear"
    assert settings.as_dict()["model"] is None
    # The command line's choice replaces the file's.
    assert merge_run_settings(parse_config({"model": {"path": str(MODELS / "prisma_net.tflite")}},
                                           path), {"model": "selfie"}).model_spec is None


def test_a_bad_key_in_the_config_files_model_table_names_the_file_and_key(tmp_path):
    _config(tmp_path, '[model]\npath = "net.tflite"\n[model.input]\nmean = [0.5, 0.5]\n')
    (tmp_path / "net.tflite").write_bytes(b"not a model")
    message = one_error_line(cli("run", "--dataset", str(tmp_path), cwd=tmp_path))
    assert message == (f"{tmp_path / 'fairness-eval.toml'}: model.input.mean must have 3 "
                       "numbers (one per colour channel), got 2")


def test_two_model_sources_in_the_config_file_are_refused(tmp_path):
    path = _config(tmp_path, "")
    with pytest.raises(UsageError, match="keys 'model' and 'model-spec': give only one"):
        parse_config({"model": "x.tflite", "model-spec": str(SPECS / "prisma_net.toml")}, path)
