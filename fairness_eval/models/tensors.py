"""Model tensors: what a spec means for a given model's input and output tensors.

`plan_tensors` settles, once per model, everything the spec leaves open and refuses what
cannot work (a wrong rank, a person channel the output does not have, a flat output that
does not divide into the input's pixels), each with one line naming the file and the key.
`encode_input` and `decode_output` are then plain array functions per image:

- input: x = (pixel / 255 - mean) / std in the model's channel order, an optional 4th
  channel carrying a prior person probability, NHWC or NCHW, and for a quantised tensor
  q = clip(round_half_even(x / scale) + zero_point);
- output: dequantised (q - zero_point) * scale, a flat 1 x H*W*C vector reshaped to the
  input's H x W, and turned into a person probability according to its kind.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import UsageError
from .runtimes import TensorInfo
from .spec import InputSpec, ModelSpec, OutputSpec

FLOAT_TYPES = ("float32", "float16", "float64")
PIXEL_SCALE = np.float32(1.0 / 255.0)  # MediaPipe multiplies by the float 1/255


@dataclass(frozen=True)
class TensorPlan:
    """How one model's tensors are fed and read, every open choice settled."""

    input: TensorInfo
    output: TensorInfo
    layout: str  # NHWC | NCHW, of the input and of a 4-D output
    height: int  # the model's input size
    width: int
    channels: int  # 3, or 4 with a prior channel
    grid: tuple[int, int, int]  # the output as (height, width, channels)
    kind: str  # probability | logit | softmax | labels
    person: int

    @property
    def output_layout(self) -> str:
        """The decoding's name in results.json (two_class_logits: the 2-channel softmax)."""
        if self.kind == "softmax" and self.grid[2] == 2:
            return "two_class_logits"
        return self.kind


def plan_tensors(spec: ModelSpec, model_input: TensorInfo, model_output: TensorInfo
                 ) -> TensorPlan:
    """Check the spec against the tensors and settle its open values; UsageError if unfit."""
    where = spec.where
    layout, height, width, channels = _input_geometry(spec.input, model_input, where)
    if model_input.dtype not in FLOAT_TYPES and not model_input.quantised:
        raise UsageError(f"model {where}: input tensor is {model_input.dtype} without "
                         "quantisation parameters; expected float32 or a quantised uint8 / "
                         "int8 tensor")
    grid = _output_grid(model_output, layout, height, width, where)
    kind, person = _output_reading(spec.output, model_output, grid[2], where)
    return TensorPlan(model_input, model_output, layout, height, width, channels, grid, kind,
                      person)


def resolved_spec(spec: ModelSpec, plan: TensorPlan) -> ModelSpec:
    """The spec with the values read from the tensors filled in (what describe() records)."""
    from dataclasses import replace

    prior = spec.input.prior or "none"
    return replace(spec, input=replace(spec.input, layout=plan.layout, prior=prior),
                   output=OutputSpec(kind=plan.kind, person=plan.person))


def _input_geometry(spec: InputSpec, tensor: TensorInfo, where: str
                    ) -> tuple[str, int, int, int]:
    shape = tensor.shape
    if len(shape) != 4 or shape[0] != 1:
        raise UsageError(f"model {where}: input tensor is {list(shape)}; expected "
                         "[1, height, width, 3] (NHWC) or [1, 3, height, width] (NCHW)")
    layout = spec.layout or ("NCHW" if shape[3] not in (3, 4) and shape[1] in (3, 4)
                             else "NHWC")
    height, width, channels = (shape[1], shape[2], shape[3]) if layout == "NHWC" else (
        shape[2], shape[3], shape[1])
    if channels not in (3, 4) or (channels == 4 and spec.prior is None):
        hint = " unless model.input.prior is set" if channels == 4 else ""
        raise UsageError(f"model {where}: input tensor is {list(shape)} ({layout}) with "
                         f"{channels} channels; expected 3 (an RGB image){hint}")
    if channels == 3 and spec.prior == "previous":
        raise UsageError(f"model {where}: model.input.prior = \"previous\" but the input "
                         f"tensor {list(shape)} has no 4th channel to carry it")
    return layout, height, width, channels


def _output_grid(tensor: TensorInfo, layout: str, height: int, width: int, where: str
                 ) -> tuple[int, int, int]:
    shape = tensor.shape
    dims = shape[1:] if len(shape) >= 2 and shape[0] == 1 else shape
    if len(dims) == 3 and len(shape) == 4:
        return (dims[0], dims[1], dims[2]) if layout == "NHWC" else (dims[1], dims[2], dims[0])
    if len(dims) == 2 and len(shape) == 3:
        return dims[0], dims[1], 1
    if len(dims) == 1:
        values, pixels = dims[0], height * width
        if values % pixels:
            raise UsageError(f"model {where}: flat output tensor {list(shape)} has {values} "
                             f"values, which do not divide into the input's {height} x "
                             f"{width} = {pixels} pixels")
        return height, width, values // pixels
    raise UsageError(f"model {where}: output tensor is {list(shape)}; expected [1, height, "
                     "width, channels], [1, channels, height, width], [1, height, width] or "
                     "a flat [1, height * width * channels]")


def _output_reading(spec: OutputSpec, tensor: TensorInfo, channels: int, where: str
                    ) -> tuple[str, int]:
    integer = tensor.dtype not in FLOAT_TYPES
    kind = spec.kind
    if kind is None:
        if integer and not tensor.quantised:
            kind = "labels"
        elif channels in (1, 2):
            kind = "probability" if channels == 1 else "softmax"
        else:
            raise UsageError(f"model {where}: output tensor is {list(tensor.shape)} with "
                             f"{channels} channels; set model.output.kind and "
                             "model.output.person")
    if integer and not tensor.quantised and kind != "labels":
        raise UsageError(f"model {where}: output tensor is {tensor.dtype} without quantisation "
                         f"parameters, which cannot be read as model.output.kind = \"{kind}\"")
    if kind == "labels":
        if channels != 1:
            raise UsageError(f"model {where}: model.output.kind = \"labels\" needs one class "
                             f"map; output tensor {list(tensor.shape)} has {channels} channels")
        return kind, 1 if spec.person is None else spec.person
    if kind == "softmax" and channels < 2:
        raise UsageError(f"model {where}: model.output.kind = \"softmax\" needs 2 or more "
                         f"channels; output tensor {list(tensor.shape)} has 1")
    person = spec.person if spec.person is not None else (0 if channels == 1 else 1)
    if person >= channels:
        raise UsageError(f"model {where}: model.output.person = {person} but output tensor "
                         f"{list(tensor.shape)} has {channels} channel"
                         f"{'s' if channels > 1 else ''} (0 to {channels - 1})")
    return kind, person


# --- per image -------------------------------------------------------------------------


def quantise(real: np.ndarray, scale: float, zero_point: int, dtype: str) -> np.ndarray:
    """q = clip(round_half_even(real / scale) + zero_point) in the tensor's integer type."""
    limits = np.iinfo(np.dtype(dtype))
    steps = np.rint(real.astype(np.float64) / scale) + zero_point
    return np.clip(steps, limits.min, limits.max).astype(dtype)


def dequantise(values: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return ((values.astype(np.float64) - zero_point) * scale).astype(np.float32)


def encode_input(resized_rgb: np.ndarray, spec: InputSpec, plan: TensorPlan,
                 prior: np.ndarray | None = None) -> np.ndarray:
    """The model's input tensor (with its batch axis) from an RGB uint8 image at model size.

    `prior`: the person probability the 4th channel carries (the previous frame's, at the
    model's resolution); zeros when None. Ignored by 3-channel models.
    """
    if plan.input.quantised:
        # In double precision, so that rounding half to even sees the exact real value.
        x, real = resized_rgb / 255.0, np.float64
    else:
        x, real = np.multiply(resized_rgb, PIXEL_SCALE, dtype=np.float32), np.float32
    if spec.channels == "BGR":
        x = x[..., ::-1]
    x = _normalised(x, spec.mean, spec.std, real)
    if plan.channels == 4:
        x = np.concatenate([x, _prior_channel(prior, plan).astype(real)[..., np.newaxis]],
                           axis=-1)
    if plan.layout == "NCHW":
        x = x.transpose(2, 0, 1)
    tensor = x[np.newaxis]
    if plan.input.quantised:
        tensor = quantise(tensor, plan.input.scale, plan.input.zero_point, plan.input.dtype)
    return np.ascontiguousarray(tensor, dtype=plan.input.dtype)


def _normalised(x: np.ndarray, mean: tuple[float, ...], std: tuple[float, ...],
                real: type) -> np.ndarray:
    """``(x - mean) / std`` per channel, with the same rounding as the plain expression.

    Subtracting 0 and dividing by 1 are exact, so they are skipped; one value for every
    channel is applied as a scalar. Both avoid numpy's slow broadcast over a 3-element
    last axis, which costs more than the model's whole preprocessing otherwise.
    """
    if all(m == 0 for m in mean) and all(d == 1 for d in std):
        return x
    if len(set(mean)) == 1 and len(set(std)) == 1:
        return (x - real(mean[0])) / real(std[0])
    return (x - np.asarray(mean, real)) / np.asarray(std, real)


def _prior_channel(prior: np.ndarray | None, plan: TensorPlan) -> np.ndarray:
    if prior is None:
        return np.zeros((plan.height, plan.width), np.float32)
    prior = np.asarray(prior, np.float32)
    if prior.ndim != 2:
        raise ValueError(f"a prior is a 2-D probability map, got shape {prior.shape}")
    if prior.shape != (plan.height, plan.width):
        prior = cv2.resize(prior, (plan.width, plan.height), interpolation=cv2.INTER_LINEAR)
    return prior


class NonFiniteOutput(ValueError):
    """A float output holding NaN or inf: its image is a problem of its row, never read as
    background (NaN > threshold is False) or as certain person."""

    def __init__(self, count: int) -> None:
        self.count = count
        super().__init__(f"model output holds {count} NaN/inf value{'s' * (count != 1)}")


def check_finite(raw: np.ndarray) -> None:
    """Raise NonFiniteOutput when a float output tensor holds NaN or inf (integer tensors
    cannot)."""
    if raw.dtype.kind == "f" and not np.isfinite(raw).all():
        raise NonFiniteOutput(int(raw.size - np.count_nonzero(np.isfinite(raw))))


def decode_output(raw: np.ndarray, plan: TensorPlan) -> np.ndarray:
    """The person probability (float32, output height x width) from the raw output tensor.

    NonFiniteOutput (a ValueError) when a float output holds NaN or inf."""
    check_finite(raw)
    height, width, channels = plan.grid
    if plan.layout == "NCHW" and raw.ndim != 3:
        values = raw.reshape(channels, height, width).transpose(1, 2, 0)
    else:
        values = raw.reshape(height, width, channels)
    if plan.kind == "labels":
        return (values[..., 0] == plan.person).astype(np.float32)
    if plan.output.quantised:
        values = dequantise(values, plan.output.scale, plan.output.zero_point)
    if plan.kind == "probability":
        return values[..., plan.person].astype(np.float32)
    if plan.kind == "logit":
        return _sigmoid(values[..., plan.person].astype(np.float64))
    return softmax_person(values, plan.person)


def softmax_person(logits: np.ndarray, person: int) -> np.ndarray:
    """Softmax across the last axis, the person channel's share (h, w) as float32."""
    logits = logits.astype(np.float64)
    if logits.shape[-1] == 2:
        # softmax over (background, person) = sigmoid of the logit difference; this form
        # cannot overflow for large logits.
        return _sigmoid(logits[..., person] - logits[..., 1 - person])
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return (shifted[..., person] / shifted.sum(axis=-1)).astype(np.float32)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (0.5 * (1.0 + np.tanh(0.5 * x))).astype(np.float32)
