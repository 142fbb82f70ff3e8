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


# --- several images per invoke ---------------------------------------------------------

VOC_IMAGES = MODELS.parents[1] / "datasets" / "voc2012_person" / "images"


def real_inputs(segmenter: Segmenter, count: int) -> list:
    import cv2

    paths = sorted(VOC_IMAGES.glob("*.jpg"))[:count]
    return [segmenter.model_input(cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB))
            for p in paths]


@pytest.mark.parametrize(("model", "batched"), [
    ("selfie", True),
    ("mnv3_seg_float.tflite", True),
    ("prisma_net.tflite", False),  # its input cannot be resized
    ("portrait_video_quant.tflite", False),  # resizes, but a fixed shape inside fails
])
def test_predict_many_is_predict_bit_for_bit_on_real_photos(model, batched):
    import numpy as np

    from fairness_eval.models.registry import resolve_model

    path = resolve_model("selfie").path if model == "selfie" else MODELS / model
    spec = ModelSpec(path, model, InputSpec(prior="none")) if "video" in model else path
    segmenter = Segmenter(spec)
    inputs = real_inputs(segmenter, 9)  # two groups of 4 and one image alone
    many = segmenter.predict_many(inputs)
    singles = [segmenter.predict_many([given])[0] for given in inputs]
    assert len(many) == 9
    for got, want, given in zip(many, singles, inputs, strict=True):
        assert got.shape == (given.height, given.width)
        np.testing.assert_array_equal(got, want)
    # Four at a time where the model allows it; one by one, and the same, where not.
    assert (segmenter._runtime._batched is not False) == batched


def test_a_batch_whose_outputs_differ_by_a_bit_is_never_used(monkeypatch):
    import numpy as np

    from fairness_eval.models import runtimes
    from fairness_eval.models.registry import resolve_model

    segmenter = Segmenter(resolve_model("selfie").path)
    runtime = segmenter._runtime
    invoke = runtimes.LiteRTRuntime._invoke

    def off_by_a_bit(self, interpreter, tensor):
        output = invoke(self, interpreter, tensor)
        return np.nextafter(output, 2) if len(tensor) > 1 else output

    monkeypatch.setattr(runtimes.LiteRTRuntime, "_invoke", off_by_a_bit)
    inputs = real_inputs(segmenter, 8)
    many = segmenter.predict_many(inputs)
    assert runtime._batched is False  # checked on the first group, then given up
    for got, given in zip(many, inputs, strict=True):
        np.testing.assert_array_equal(got, segmenter.predict_many([given])[0])


def test_onnx_predict_many_runs_one_image_at_a_time():
    pytest.importorskip("onnxruntime", reason="ONNX Runtime is not installed (the [onnx] extra)")
    import numpy as np

    segmenter = Segmenter(MODELS / "sinet.onnx")
    inputs = real_inputs(segmenter, 3)
    assert segmenter.batch == 1
    for got, given in zip(segmenter.predict_many(inputs), inputs, strict=True):
        np.testing.assert_array_equal(got, segmenter.predict_many([given])[0])
