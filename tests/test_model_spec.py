"""Model specs (fairness_eval.models.spec): reading, defaults and one-line refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fairness_eval.errors import UsageError
from fairness_eval.models.spec import (
    InputSpec,
    ModelSpec,
    OutputSpec,
    default_model_spec,
    load_model_spec,
    model_spec_for,
    model_spec_from_table,
)

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO.parent / "shared" / "models" / "portrait_segmentation"
EXAMPLES = REPO / "examples" / "model-specs"


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "models" / "net.tflite"
    path.parent.mkdir()
    path.write_bytes(b"weights")
    return path


def write_spec(folder: Path, text: str) -> Path:
    path = folder / "spec.toml"
    path.write_text(text)
    return path


def test_a_full_spec_is_read_with_every_value(tmp_path, model):
    path = write_spec(tmp_path, """
[model]
path = "models/net.tflite"
name = "Net"
[model.input]
layout = "nchw"
channels = "BGR"
mean = [0.4, 0.5, 0.6]
std = [2, 3.5, 4]
resize = "letterbox"
prior = "previous"
[model.output]
kind = "softmax"
person = 2
""")
    spec = load_model_spec(path)
    assert spec == ModelSpec(
        model.resolve(), "Net",
        InputSpec("NCHW", "BGR", (0.4, 0.5, 0.6), (2.0, 3.5, 4.0), "letterbox", "previous"),
        OutputSpec("softmax", 2))
    assert spec.source == path
    described = spec.describe()
    assert json.loads(json.dumps(described)) == described
    assert described["input"]["std"] == [2.0, 3.5, 4.0]
    assert described["spec_file"] == str(path)


def test_defaults_are_todays_mediapipe_feeding(tmp_path, model):
    spec = load_model_spec(write_spec(tmp_path, '[model]\npath = "models/net.tflite"\n'))
    assert spec.name == "net"  # the file's stem
    assert spec.input == InputSpec(None, "RGB", (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), "mediapipe",
                                   None)
    assert spec.output == OutputSpec(None, None)
    assert spec == default_model_spec(model.resolve())


def test_a_table_inside_the_config_is_relative_to_that_file(tmp_path, model):
    config = tmp_path / "fairness-eval.toml"
    spec = model_spec_from_table({"path": "models/net.tflite", "output": {"kind": "logit"}},
                                 config)
    assert spec.path == model.resolve() and spec.output.kind == "logit"
    assert spec.where == str(config)


def test_model_spec_for_dispatches_on_name_spec_or_model_file(tmp_path, model):
    path = write_spec(tmp_path, '[model]\npath = "models/net.tflite"\nname = "N"\n')
    assert model_spec_for(str(path)).name == "N"
    assert model_spec_for(str(model)) == default_model_spec(model)
    with pytest.raises(UsageError, match="neither a registered model"):
        model_spec_for(str(tmp_path / "absent.onnx"))


@pytest.mark.parametrize(
    ("body", "key", "reason"),
    [
        ('path = "models/net.tflite"\nscale = 2', "model.scale", "unknown key"),
        ('path = "models/net.tflite"\n[model.input]\nnormalise = true', "model.input.normalise",
         "unknown key"),
        ('path = "models/net.tflite"\n[model.output]\nthreshold = 0.5', "model.output.threshold",
         "unknown key"),
        ('name = "x"', "model.path", "missing"),
        ('path = "models/absent.tflite"', "model.path", "no such file"),
        ('path = "models/net.pt"', "model.path", "not a .tflite or .onnx file"),
        ("path = 3", "model.path", "must be a string"),
        ('path = "models/net.tflite"\nname = ""', "model.name", "empty"),
        ('path = "models/net.tflite"\ninput = 3', "model.input", "must be a table"),
        ('path = "models/net.tflite"\n[model.input]\nlayout = "NWHC"', "model.input.layout",
         "must be one of NHWC, NCHW"),
        ('path = "models/net.tflite"\n[model.input]\nchannels = "RGBA"',
         "model.input.channels", "must be one of RGB, BGR"),
        ('path = "models/net.tflite"\n[model.input]\nmean = [0.5, 0.5, 0.5, 0.5]',
         "model.input.mean", "must have 3 numbers (one per colour channel), got 4"),
        ('path = "models/net.tflite"\n[model.input]\nmean = 0.5', "model.input.mean",
         "must be a list of 3 numbers"),
        ('path = "models/net.tflite"\n[model.input]\nstd = [1, 0, 1]', "model.input.std",
         "must be positive"),
        ('path = "models/net.tflite"\n[model.input]\nstd = ["1", 1, 1]', "model.input.std",
         "must be a list of 3 numbers"),
        ('path = "models/net.tflite"\n[model.input]\nresize = "nearest"', "model.input.resize",
         "must be one of mediapipe, bilinear, letterbox"),
        ('path = "models/net.tflite"\n[model.input]\nprior = "next"', "model.input.prior",
         "must be one of none, previous"),
        ('path = "models/net.tflite"\n[model.output]\nkind = "sigmoid"', "model.output.kind",
         "must be one of probability, logit, softmax, labels"),
        ('path = "models/net.tflite"\n[model.output]\nperson = -1', "model.output.person",
         "must be a whole number >= 0"),
        ('path = "models/net.tflite"\n[model.output]\nperson = true', "model.output.person",
         "must be a whole number >= 0"),
    ],
)
def test_each_bad_key_is_one_line_naming_the_file_and_key(tmp_path, model, body, key, reason):
    path = write_spec(tmp_path, "[model]\n" + body + "\n")
    with pytest.raises(UsageError) as refused:
        load_model_spec(path)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(str(path)) and key in message and reason in message, message


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[model\npath = 1", "not valid TOML"),
        ('[models]\npath = "x.tflite"', "unknown key models"),
        ('title = "x"', "unknown key title"),
        ("", r"no \[model\] table"),
    ],
)
def test_a_file_that_is_no_spec_is_refused_in_one_line(tmp_path, text, reason):
    path = write_spec(tmp_path, text)
    with pytest.raises(UsageError, match=reason) as refused:
        load_model_spec(path)
    assert "\n" not in str(refused.value) and str(path) in str(refused.value)


def test_a_missing_spec_file_is_named(tmp_path):
    with pytest.raises(UsageError, match="model spec file not found"):
        load_model_spec(tmp_path / "absent.toml")


@pytest.mark.skipif(not MODELS.is_dir(), reason=f"shared models missing: {MODELS}")
def test_the_example_specs_point_at_the_shared_models():
    specs = {p.stem: load_model_spec(p) for p in sorted(EXAMPLES.glob("*.toml"))}
    assert set(specs) == {"mnv3_seg_float", "prisma_net", "bilinear_fin_munet_uint8",
                          "deeplab_aiseg_quant513", "portrait_video_quant", "sinet"}
    for stem, spec in specs.items():
        assert spec.path.parent == MODELS.resolve() and spec.path.stem == stem
        assert spec.input.resize == "bilinear"  # as SOURCE.md's sanity figures were made
