"""Runtimes (fairness_eval.models.runtimes): XNNPack, LiteRT's built-in kernels, ONNX Runtime.

Uses the real third-party models in ../shared/models/portrait_segmentation (SOURCE.md
there says which ones XNNPack refuses and which one no runtime can prepare).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fairness_eval.errors import UsageError
from fairness_eval.models.segmenter import Segmenter
from fairness_eval.models.spec import InputSpec, ModelSpec

MODELS = Path(__file__).resolve().parents[1].parent / "shared" / "models" / "portrait_segmentation"

pytestmark = pytest.mark.skipif(not MODELS.is_dir(), reason=f"shared models missing: {MODELS}")


def test_a_model_xnnpack_takes_runs_there_silently():
    heard: list[str] = []
    segmenter = Segmenter(MODELS / "prisma_net.tflite", log=heard.append)
    assert segmenter.runtime == "litert-xnnpack" and heard == []


@pytest.mark.parametrize(("name", "input_spec"), [
    ("deeplab_aiseg_quant513.tflite", InputSpec()),
    ("portrait_video_quant.tflite", InputSpec(prior="none")),  # a 4th channel needs a prior
])
def test_a_model_xnnpack_refuses_falls_back_to_builtin_kernels_and_says_so_once(name,
                                                                                input_spec):
    heard: list[str] = []
    segmenter = Segmenter(ModelSpec(MODELS / name, name, input_spec), log=heard.append)
    assert segmenter.runtime == "litert-builtin"
    assert segmenter.describe()["runtime"] == "litert-builtin"
    assert len(heard) == 1 and "\n" not in heard[0]
    assert name in heard[0] and "XNNPack delegate refused" in heard[0]
    assert "built-in kernels" in heard[0]


def test_a_model_no_runtime_can_prepare_is_one_line():
    with pytest.raises(UsageError) as refused:
        Segmenter(MODELS / "mnv3_seg_quant.tflite", log=lambda _: None)
    message = str(refused.value)
    assert "\n" not in message and "mnv3_seg_quant.tflite" in message
    assert "LiteRT cannot prepare it, neither with XNNPack nor with its built-in kernels" in message


def test_onnx_models_run_in_onnx_runtime_without_start_up_warnings():
    pytest.importorskip("onnxruntime", reason="ONNX Runtime is not installed (the [onnx] extra)")
    # In a child process: ONNX Runtime writes its warnings from C++ straight to stderr.
    code = ("from fairness_eval.models.segmenter import Segmenter; "
            f"s = Segmenter({str(MODELS / 'sinet.onnx')!r}); "
            "print(s.runtime, s.model_spec.input.layout, s.plan.kind, *s.spec.input_size)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    import onnxruntime

    assert done.stdout.split() == ["onnxruntime", onnxruntime.__version__, "NCHW", "softmax",
                                   "320", "320"]
    assert done.stderr == ""  # unsilenced, SINet logs hundreds of initializer warnings


def test_onnx_without_onnx_runtime_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes the import fail
    with pytest.raises(UsageError) as refused:
        Segmenter(MODELS / "sinet.onnx")
    message = str(refused.value)
    assert "\n" not in message and "sinet.onnx" in message
    assert "pip install 'fairness-eval[onnx]'" in message


def test_a_file_that_is_not_onnx_is_one_line(tmp_path):
    pytest.importorskip("onnxruntime", reason="ONNX Runtime is not installed (the [onnx] extra)")
    bogus = tmp_path / "model.onnx"
    bogus.write_bytes(b"not a protobuf at all" * 10)
    with pytest.raises(UsageError, match="ONNX Runtime cannot load it") as refused:
        Segmenter(bogus)
    assert "\n" not in str(refused.value) and "model.onnx" in str(refused.value)


def test_tflite_models_never_import_onnx_runtime():
    code = ("import sys; from fairness_eval.models.segmenter import Segmenter; "
            f"Segmenter({str(MODELS / 'prisma_net.tflite')!r}); "
            "print('onnxruntime' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_builtin_kernels_can_be_chosen_and_agree_with_xnnpack():
    import numpy as np

    image = np.random.default_rng(0).integers(0, 256, (300, 200, 3), dtype=np.uint8)
    xnnpack = Segmenter(MODELS / "mnv3_seg_float.tflite")
    builtin = Segmenter(MODELS / "mnv3_seg_float.tflite", xnnpack=False)
    assert (xnnpack.runtime, builtin.runtime) == ("litert-xnnpack", "litert-builtin")
    np.testing.assert_allclose(builtin.predict(image), xnnpack.predict(image), atol=1e-3)
    with pytest.raises(UsageError, match="built-in kernels cannot prepare it") as refused:
        Segmenter(MODELS / "mnv3_seg_quant.tflite", xnnpack=False)
    assert "\n" not in str(refused.value)
