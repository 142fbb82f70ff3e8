"""Tensor planning, encoding and decoding (fairness_eval.models.tensors), on synthetic tensors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit, softmax

from fairness_eval.errors import UsageError
from fairness_eval.models.runtimes import TensorInfo
from fairness_eval.models.spec import InputSpec, ModelSpec, OutputSpec
from fairness_eval.models.tensors import (
    decode_output,
    dequantise,
    encode_input,
    plan_tensors,
    quantise,
    resolved_spec,
)

SPEC_FILE = Path("my-spec.toml")


DEFAULT_INPUT, DEFAULT_OUTPUT = InputSpec(), OutputSpec()


def spec(input_spec: InputSpec = DEFAULT_INPUT, output_spec: OutputSpec = DEFAULT_OUTPUT
         ) -> ModelSpec:
    return ModelSpec(Path("net.tflite"), "net", input_spec, output_spec, SPEC_FILE)


def tensor(shape, dtype="float32", scale=0.0, zero_point=0) -> TensorInfo:
    return TensorInfo("t", tuple(shape), dtype, scale, zero_point)


# --- planning --------------------------------------------------------------------------


def test_layout_kind_and_flat_grid_are_read_from_the_tensors():
    nchw = plan_tensors(spec(), tensor((1, 3, 320, 320)), tensor((1, 2, 320, 320)))
    assert (nchw.layout, nchw.height, nchw.width, nchw.grid) == ("NCHW", 320, 320, (320, 320, 2))
    assert (nchw.kind, nchw.person) == ("softmax", 1)
    labels = plan_tensors(spec(), tensor((1, 513, 513, 3), "uint8", 1 / 128, 128),
                          tensor((1, 513, 513), "int64"))
    assert (labels.kind, labels.person, labels.grid) == ("labels", 1, (513, 513, 1))
    flat = plan_tensors(spec(), tensor((1, 128, 96, 3)), tensor((1, 128 * 96 * 2)))
    assert flat.grid == (128, 96, 2)


@pytest.mark.parametrize(
    ("input_spec", "output_spec", "in_shape", "out_shape", "out_dtype", "words"),
    [
        (InputSpec(), OutputSpec("softmax", 5), (1, 64, 64, 3), (1, 64, 64, 2), "float32",
         ["model.output.person = 5", "has 2 channels"]),
        (InputSpec(), OutputSpec("probability", 1), (1, 64, 64, 3), (1, 4096), "float32",
         ["model.output.person = 1", "has 1 channel "]),
        (InputSpec(), OutputSpec(), (1, 224, 224, 3), (1, 50000), "float32",
         ["flat output tensor [1, 50000]", "do not divide", "224 x 224 = 50176"]),
        (InputSpec(), OutputSpec("labels"), (1, 64, 64, 3), (1, 64, 64, 2), "float32",
         ['model.output.kind = "labels"', "2 channels"]),
        (InputSpec(), OutputSpec("softmax"), (1, 64, 64, 3), (1, 64, 64, 1), "float32",
         ['model.output.kind = "softmax"', "has 1"]),
        (InputSpec(), OutputSpec("probability"), (1, 64, 64, 3), (1, 64, 64), "int64",
         ["int64 without quantisation", 'kind = "probability"']),
        (InputSpec(), OutputSpec(), (1, 64, 64, 3), (1, 64, 64, 21), "float32",
         ["21 channels", "set model.output.kind"]),
        (InputSpec(prior="previous"), OutputSpec(), (1, 64, 64, 3), (1, 64, 64, 1), "float32",
         ['model.input.prior = "previous"', "no 4th channel"]),
        (InputSpec(layout="NCHW"), OutputSpec(), (1, 64, 64, 3), (1, 64, 64, 1), "float32",
         ["(NCHW) with 64 channels"]),
        (InputSpec(), OutputSpec(), (1, 64, 64, 3), (1, 2, 64, 64, 1), "float32",
         ["output tensor is [1, 2, 64, 64, 1]"]),
    ],
)
def test_a_spec_that_does_not_fit_the_tensors_is_one_line(input_spec, output_spec, in_shape,
                                                          out_shape, out_dtype, words):
    with pytest.raises(UsageError) as refused:
        plan_tensors(spec(input_spec, output_spec), tensor(in_shape), tensor(out_shape, out_dtype))
    message = str(refused.value)
    assert "\n" not in message and str(SPEC_FILE) in message
    for word in words:
        assert word in message, message


# --- quantisation ----------------------------------------------------------------------


def test_quantise_rounds_half_to_even_and_clips():
    real = np.array([0.25, 0.75, -0.25, 1.25, 100.0, -100.0], np.float32)
    assert quantise(real, 0.5, 0, "int8").tolist() == [0, 2, 0, 2, 127, -128]
    assert quantise(real, 0.5, 10, "uint8").tolist() == [10, 12, 10, 12, 210, 0]


def test_dequantise_uses_scale_and_zero_point():
    values = np.array([-128, 0, 127], np.int8)
    assert dequantise(values, 1 / 256, -128).tolist() == [0.0, 0.5, 255 / 256]


# --- encoding --------------------------------------------------------------------------


def test_encode_applies_channel_order_mean_std_and_nchw():
    image = np.array([[[10, 20, 30], [40, 50, 60]]], np.uint8)  # 1 x 2 RGB
    input_spec = InputSpec("NCHW", "BGR", (0.1, 0.2, 0.3), (2.0, 4.0, 8.0))
    plan = plan_tensors(spec(input_spec), tensor((1, 3, 1, 2)), tensor((1, 2, 1, 2)))
    encoded = encode_input(image, input_spec, plan)
    assert encoded.shape == (1, 3, 1, 2) and encoded.dtype == np.float32
    bgr = image[..., ::-1].astype(np.float64) / 255
    expected = ((bgr - [0.1, 0.2, 0.3]) / [2.0, 4.0, 8.0]).transpose(2, 0, 1)[np.newaxis]
    np.testing.assert_allclose(encoded, expected, atol=1e-6)


def test_default_encoding_is_mediapipes_float_range():
    image = np.arange(48, dtype=np.uint8).reshape(4, 4, 3) * 5
    plan = plan_tensors(spec(), tensor((1, 4, 4, 3)), tensor((1, 4, 4, 1)))
    expected = image.astype(np.float32) * np.float32(1 / 255)
    np.testing.assert_array_equal(encode_input(image, InputSpec(), plan)[0], expected)


@pytest.mark.parametrize("mean, std", [((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
                                       ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
                                       ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_fast_normalisation_rounds_exactly_like_the_plain_expression(mean, std, dtype):
    # The skipped identity and the scalar forms must give the very same bits as
    # (x - mean) / std broadcast over the channels, in float32 and (quantised) float64.
    image = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    info = tensor((1, 16, 16, 3), dtype, *((0.0078125, 0) if dtype == "int8" else ()))
    input_spec = InputSpec(mean=mean, std=std)
    plan = plan_tensors(spec(input_spec), info, tensor((1, 16, 16, 1)))
    if dtype == "int8":
        plain = (image / 255.0 - np.asarray(mean)) / np.asarray(std)
        plain = quantise(plain[np.newaxis], 0.0078125, 0, "int8")
    else:
        x = image.astype(np.float32) * np.float32(1 / 255)
        plain = ((x - np.asarray(mean, np.float32)) / np.asarray(std, np.float32))[np.newaxis]
    np.testing.assert_array_equal(encode_input(image, input_spec, plan), plain)


def test_quantised_input_with_a_prior_channel():
    input_spec = InputSpec(channels="BGR", mean=(0.4, 0.45, 0.5), std=(0.25, 0.25, 0.25),
                           prior="previous")
    info = tensor((1, 3, 5, 4), "int8", 0.018316, -13)
    plan = plan_tensors(spec(input_spec), info, tensor((1, 15), "int8", 1 / 256, -128))
    rng = np.random.default_rng(4)
    image = rng.integers(0, 256, (3, 5, 3), dtype=np.uint8)
    prior = rng.random((3, 5)).astype(np.float32)
    encoded = encode_input(image, input_spec, plan, prior)[0]
    assert encoded.dtype == np.int8 and encoded.shape == (3, 5, 4)
    real = (image[..., ::-1] / 255 - np.array([0.4, 0.45, 0.5])) / 0.25
    colour = np.clip(np.rint(real / 0.018316) - 13, -128, 127)
    np.testing.assert_array_equal(encoded[..., :3], colour)
    np.testing.assert_array_equal(encoded[..., 3], np.rint(prior / 0.018316) - 13)
    zero = encode_input(image, input_spec, plan)[0]
    assert (zero[..., 3] == -13).all()  # no prior: probability 0, the zero point
    np.testing.assert_array_equal(zero[..., :3], encoded[..., :3])


def test_a_prior_of_another_size_is_resized_to_the_input():
    input_spec = InputSpec(prior="previous")
    plan = plan_tensors(spec(input_spec), tensor((1, 8, 8, 4)), tensor((1, 4, 4, 1)))
    encoded = encode_input(np.zeros((8, 8, 3), np.uint8), input_spec, plan,
                           np.full((4, 4), 0.25, np.float32))
    np.testing.assert_allclose(encoded[0, ..., 3], 0.25)


# --- decoding --------------------------------------------------------------------------


def decoded(raw: np.ndarray, in_shape, output_spec=DEFAULT_OUTPUT, dtype=None, scale=0.0,
            zero_point=0, layout=None) -> np.ndarray:
    info = tensor(raw.shape, dtype or raw.dtype.name, scale, zero_point)
    plan = plan_tensors(spec(InputSpec(layout=layout), output_spec), tensor(in_shape), info)
    return decode_output(raw, plan)


def test_flat_softmax_output_is_reshaped_in_its_layout():
    logits = np.random.default_rng(5).normal(0, 3, (4, 6, 2)).astype(np.float32)
    expected = softmax(logits.astype(np.float64), axis=-1)[..., 1]
    nhwc = decoded(logits.reshape(1, -1), (1, 4, 6, 3), OutputSpec("softmax", 1))
    np.testing.assert_allclose(nhwc, expected, atol=1e-6)
    channel_first = logits.transpose(2, 0, 1).reshape(1, -1)
    nchw = decoded(channel_first, (1, 3, 4, 6), OutputSpec("softmax", 1))
    np.testing.assert_allclose(nchw, expected, atol=1e-6)


def test_softmax_over_many_channels_and_logit_outputs():
    logits = np.random.default_rng(6).normal(0, 3, (1, 5, 4, 21)).astype(np.float32)
    many = decoded(logits, (1, 5, 4, 3), OutputSpec("softmax", 15))
    np.testing.assert_allclose(many, softmax(logits[0].astype(np.float64), axis=-1)[..., 15],
                               atol=1e-6)
    single = logits[..., :1]
    np.testing.assert_allclose(decoded(single, (1, 5, 4, 3), OutputSpec("logit")),
                               expit(single[0, ..., 0].astype(np.float64)), atol=1e-6)


def test_label_maps_become_zero_or_one_for_the_person_value():
    labels = np.array([[[0, 1, 15], [15, 2, 0]]], np.int64)
    assert decoded(labels, (1, 2, 3, 3)).tolist() == [[0, 1, 0], [0, 0, 0]]
    voc = decoded(labels, (1, 2, 3, 3), OutputSpec("labels", 15))
    assert voc.tolist() == [[0, 0, 1], [1, 0, 0]]


def test_quantised_flat_probability_is_dequantised():
    raw = np.array([[-128, 0, 127, 64]], np.int8)
    probability = decoded(raw, (1, 2, 2, 3), OutputSpec("probability"), scale=1 / 256,
                          zero_point=-128)
    assert probability.tolist() == [[0.0, 0.5], [255 / 256, 0.75]]


def test_resolved_spec_fills_what_the_tensors_settled():
    plan = plan_tensors(spec(), tensor((1, 3, 8, 8)), tensor((1, 2, 8, 8)))
    resolved = resolved_spec(spec(), plan)
    assert resolved.input == InputSpec(layout="NCHW", prior="none")
    assert resolved.output == OutputSpec("softmax", 1)
    assert resolved.describe()["output"] == {"kind": "softmax", "person": 1}
