"""The Segmenter on the real model through LiteRT, and output decoding for both layouts."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy.special import softmax

from fairness_eval.errors import UsageError
from fairness_eval.models.segmenter import Segmenter, _read_spec, person_probability


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


class FakeInterpreter:
    def __init__(self, in_shape, out_shape, in_dtype=np.float32, out_dtype=np.float32):
        self.inputs = [{"shape": np.array(in_shape), "dtype": in_dtype, "index": 0}]
        self.outputs = [{"shape": np.array(out_shape), "dtype": out_dtype, "index": 1}]

    def get_input_details(self):
        return self.inputs

    def get_output_details(self):
        return self.outputs


@pytest.mark.parametrize(
    ("in_shape", "out_shape", "in_dtype", "message"),
    [
        ((1, 256, 256), (1, 256, 256, 1), np.float32, r"input tensor is \[1, 256, 256\]"),
        ((1, 256, 256, 4), (1, 256, 256, 1), np.float32, "expected.*RGB"),
        ((1, 256, 256, 3), (1, 256, 256, 3), np.float32, r"output tensor is \[1, 256, 256, 3\]"),
        ((1, 256, 256, 3), (1, 256, 256, 1), np.uint8, "input tensor is uint8"),
    ],
)
def test_tensor_shapes_that_do_not_fit_are_refused(in_shape, out_shape, in_dtype, message):
    with pytest.raises(UsageError, match=message):
        _read_spec(FakeInterpreter(in_shape, out_shape, in_dtype), Path("m.tflite"))


def test_two_channel_layout_is_read_from_the_shape():
    spec = _read_spec(FakeInterpreter((1, 144, 256, 3), (1, 144, 256, 2)), Path("m.tflite"))
    assert spec.output_layout == "two_class_logits" and spec.input_size == (144, 256)


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
