"""The Segmenter on the real model through LiteRT, and output decoding for both layouts."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy.special import softmax

from fairness_eval.errors import UsageError
from fairness_eval.models.runtimes import TensorInfo
from fairness_eval.models.segmenter import Segmenter, person_probability
from fairness_eval.models.spec import default_model_spec
from fairness_eval.models.tensors import plan_tensors


def test_one_channel_output_is_taken_as_probability():
    output = np.random.default_rng(0).random((4, 5, 1), dtype=np.float32)
    assert np.array_equal(person_probability(output), output[..., 0])


def test_two_channel_output_is_softmaxed_across_channels():
    logits = np.random.default_rng(1).normal(0, 4, (6, 7, 2)).astype(np.float32)
    expected = softmax(logits.astype(np.float64), axis=-1)[..., 1]
    assert np.allclose(person_probability(logits), expected, atol=1e-6)
    extreme = np.array([[[-500.0, 500.0], [500.0, -500.0]]], np.float32)
    assert person_probability(extreme).tolist() == [[1.0, 0.0]]  # no overflow, no NaN


def test_other_channel_counts_are_refused():
    with pytest.raises(ValueError, match="3 channels"):
        person_probability(np.zeros((2, 2, 3), np.float32))


def plan(in_shape, out_shape, in_dtype="float32", out_dtype="float32", spec=None):
    spec = spec or default_model_spec(Path("m.tflite"))
    return plan_tensors(spec, TensorInfo("in", tuple(in_shape), in_dtype),
                        TensorInfo("out", tuple(out_shape), out_dtype))


@pytest.mark.parametrize(
    ("in_shape", "out_shape", "in_dtype", "message"),
    [
        ((1, 256, 256), (1, 256, 256, 1), "float32",
         r"input tensor is \[1, 256, 256\]; expected \[1, height, width, 3\]"),
        ((1, 256, 256, 4), (1, 256, 256, 1), "float32", "expected.*RGB"),
        ((1, 256, 256, 3), (1, 256, 256, 3), "float32", r"output tensor is \[1, 256, 256, 3\]"),
        ((1, 256, 256, 3), (1, 256, 256, 1), "uint8", "input tensor is uint8"),
    ],
)
def test_tensor_shapes_that_do_not_fit_are_refused(in_shape, out_shape, in_dtype, message):
    """Without a spec: an RGB input, a 1- or 2-channel output, float or quantised input."""
    with pytest.raises(UsageError, match=message) as refused:
        plan(in_shape, out_shape, in_dtype)
    assert "m.tflite" in str(refused.value) and "\n" not in str(refused.value)


def test_two_channel_layout_is_read_from_the_shape():
    planned = plan((1, 144, 256, 3), (1, 144, 256, 2))
    assert planned.output_layout == "two_class_logits"
    assert (planned.height, planned.width) == (144, 256)
    assert (planned.kind, planned.person, planned.layout) == ("softmax", 1, "NHWC")


def test_real_model_spec_and_prediction(model_file, voc_dataset):
    segmenter = Segmenter(model_file.path)
    assert segmenter.spec.input_shape == (1, 256, 256, 3)
    assert segmenter.spec.output_shape == (1, 256, 256, 1)
    assert segmenter.spec.output_layout == "probability"
    image = cv2.cvtColor(cv2.imread(str(voc_dataset / "images/2008_000359.jpg")),
                         cv2.COLOR_BGR2RGB)
    probability = segmenter.predict(image)
    assert probability.shape == image.shape[:2] and probability.dtype == np.float32
    assert probability.min() >= 0.0 and probability.max() <= 1.0
    truth = cv2.imread(str(voc_dataset / "masks/2008_000359.png"), cv2.IMREAD_GRAYSCALE) >= 128
    predicted = probability > 0.5
    iou = (predicted & truth).sum() / (predicted | truth).sum()
    assert iou > 0.9  # a large person filling most of the frame (IoU 0.96 measured)


def test_landscape_model_takes_144_by_256(voc_dataset):
    from fairness_eval.models.registry import resolve_model

    segmenter = Segmenter(resolve_model("selfie-landscape").path)
    assert segmenter.spec.input_size == (144, 256)
    image = np.zeros((100, 80, 3), np.uint8)
    assert segmenter.predict(image).shape == (100, 80)


def test_a_file_that_is_not_tflite_is_refused(tmp_path):
    bogus = tmp_path / "model.tflite"
    bogus.write_text("definitely not a flatbuffer")
    with pytest.raises(UsageError, match="not a loadable TFLite model"):
        Segmenter(bogus)


def test_named_selfie_spec_is_todays_behaviour(model_file, voc_dataset):
    from fairness_eval.models.spec import named_model_spec

    by_name = Segmenter(named_model_spec("selfie"))
    by_path = Segmenter(model_file.path)
    image = cv2.cvtColor(cv2.imread(str(voc_dataset / "images/2008_000359.jpg")),
                         cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(by_name.predict(image), by_path.predict(image))
    described = by_name.describe()
    assert described["name"] == "selfie" and described["runtime"] == "litert-xnnpack"
    assert described["input"] == {"layout": "NHWC", "channels": "RGB", "mean": [0.0] * 3,
                                  "std": [1.0] * 3, "resize": "mediapipe", "prior": "none"}
    assert described["output"] == {"kind": "probability", "person": 0}


def test_segment_returns_the_model_resolution_probability(model_file, voc_dataset):
    segmenter = Segmenter(model_file.path)
    image = cv2.cvtColor(cv2.imread(str(voc_dataset / "images/2008_000359.jpg")),
                         cv2.COLOR_BGR2RGB)
    prediction = segmenter.segment(image)
    assert prediction.model_probability.shape == (256, 256)
    np.testing.assert_array_equal(prediction.probability, segmenter.predict(image))
    # a prior is ignored by a model without a prior channel
    np.testing.assert_array_equal(segmenter.predict(image, prior=prediction.model_probability),
                                  prediction.probability)
