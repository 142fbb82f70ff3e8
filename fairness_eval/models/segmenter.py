"""The Segmenter: a .tflite person-segmentation model run through LiteRT with XNNPack.

This is the only module that knows about LiteRT. It reads the model's tensor shapes to
decide how to feed and decode it, never assuming them:
- input 1 x H x W x 3 float32 (RGB in [0, 1], as MediaPipe feeds it);
- output 1 x h x w x 1: already a person probability (sigmoid inside the model), or
  1 x h x w x 2: background and person logits, turned into a probability by a softmax
  across the channel axis.
LiteRT's default op resolver applies the XNNPack delegate and resolves MediaPipe's custom
`Convolution2DTransposeBias` op, which tflite-runtime cannot.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UsageError
from .preprocessing import to_image_size, to_model_input

OUTPUT_LAYOUTS = {1: "probability", 2: "two_class_logits"}


@dataclass(frozen=True)
class TensorSpec:
    """What the model takes and gives, read from its tensors."""

    input_shape: tuple[int, ...]
    input_dtype: str
    output_shape: tuple[int, ...]
    output_dtype: str
    output_layout: str  # "probability" or "two_class_logits"

    @property
    def input_size(self) -> tuple[int, int]:
        """(height, width) the model expects."""
        return self.input_shape[1], self.input_shape[2]


def person_probability(output: np.ndarray) -> np.ndarray:
    """Decode a model output of shape (h, w, c) into a person probability map (h, w)."""
    channels = output.shape[-1]
    if channels == 1:
        return output[..., 0].astype(np.float32)
    if channels == 2:
        # softmax over (background, person) = sigmoid of the logit difference; this form
        # cannot overflow for large logits.
        difference = output[..., 1].astype(np.float64) - output[..., 0].astype(np.float64)
        return (0.5 * (1.0 + np.tanh(0.5 * difference))).astype(np.float32)
    raise ValueError(f"cannot decode an output with {channels} channels")


class Segmenter:
    """Loads a model once and predicts a person probability map per RGB image."""

    def __init__(self, model_path: Path | str, threads: int = 1) -> None:
        from ai_edge_litert.interpreter import Interpreter  # the one LiteRT import

        self.model_path = Path(model_path)
        try:
            self._interpreter = Interpreter(model_path=str(self.model_path), num_threads=threads)
        except (ValueError, RuntimeError) as error:
            raise UsageError(f"--model {self.model_path}: not a loadable TFLite model "
                             f"({_first_line(error)})") from None
        # Shapes first: a model that does not fit gets a clear reason, not the error its
        # kernels raise when allocated.
        self.spec = _read_spec(self._interpreter, self.model_path)
        try:
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            raise UsageError(f"--model {self.model_path}: LiteRT cannot prepare it "
                             f"({_first_line(error)})") from None
        self._input_index = self._interpreter.get_input_details()[0]["index"]
        self._output_index = self._interpreter.get_output_details()[0]["index"]

    def predict_tensor(self, model_input: np.ndarray) -> np.ndarray:
        """Run the model on one H x W x 3 float32 tensor; returns the probability map."""
        self._interpreter.set_tensor(self._input_index, model_input[np.newaxis])
        self._interpreter.invoke()
        return person_probability(self._interpreter.get_tensor(self._output_index)[0])

    def predict(self, image_rgb: np.ndarray) -> np.ndarray:
        """Person probability for each pixel of an RGB uint8 image, at the image's size."""
        height, width = self.spec.input_size
        probability = self.predict_tensor(to_model_input(image_rgb, height, width))
        return to_image_size(probability, image_rgb.shape[0], image_rgb.shape[1])


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or ["unknown error"])[0]


def _read_spec(interpreter: object, path: Path) -> TensorSpec:
    inputs = interpreter.get_input_details()
    outputs = interpreter.get_output_details()
    if len(inputs) != 1 or len(outputs) < 1:
        raise UsageError(f"--model {path}: expected one input tensor and at least one output, "
                         f"found {len(inputs)} and {len(outputs)}")
    in_shape = tuple(int(d) for d in inputs[0]["shape"])
    out_shape = tuple(int(d) for d in outputs[0]["shape"])
    in_dtype = np.dtype(inputs[0]["dtype"]).name
    out_dtype = np.dtype(outputs[0]["dtype"]).name
    if len(in_shape) != 4 or in_shape[0] != 1 or in_shape[3] != 3:
        raise UsageError(f"--model {path}: input tensor is {list(in_shape)}; expected "
                         "[1, height, width, 3] (an RGB image)")
    if in_dtype != "float32":
        raise UsageError(f"--model {path}: input tensor is {in_dtype}; expected float32")
    if len(out_shape) != 4 or out_shape[0] != 1 or out_shape[3] not in OUTPUT_LAYOUTS:
        raise UsageError(f"--model {path}: output tensor is {list(out_shape)}; expected "
                         "[1, height, width, 1] (person probability) or [1, height, width, 2] "
                         "(background and person logits)")
    if out_dtype != "float32":
        raise UsageError(f"--model {path}: output tensor is {out_dtype}; expected float32")
    return TensorSpec(in_shape, in_dtype, out_shape, out_dtype, OUTPUT_LAYOUTS[out_shape[3]])
