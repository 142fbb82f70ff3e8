"""The Segmenter: one person-segmentation model, any runtime, one person probability per image.

A Segmenter takes a ModelSpec (or just a model file, which gets the default spec: how
MediaPipe feeds its selfie models). It opens the model in its runtime (runtimes.py),
checks the spec against the tensors (tensors.py), then per image: resize to the model size
(resizing.py), encode, invoke, decode, resize back. Nothing about the model's conventions
is assumed; what the spec leaves open is read from the tensors and recorded in
`model_spec`, the runtime actually used in `runtime`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .resizing import Placement, to_image, to_model_size
from .runtimes import open_runtime
from .spec import ModelSpec, default_model_spec
from .tensors import (
    TensorPlan,
    decode_output,
    encode_input,
    plan_tensors,
    resolved_spec,
    softmax_person,
)


@dataclass(frozen=True)
class TensorSpec:
    """What the model takes and gives, as recorded in results.json."""

    input_shape: tuple[int, ...]
    input_dtype: str
    output_shape: tuple[int, ...]
    output_dtype: str
    output_layout: str  # probability | two_class_logits | softmax | logit | labels
    layout: str = "NHWC"  # of the input tensor

    @property
    def input_size(self) -> tuple[int, int]:
        """(height, width) the model expects."""
        if self.layout == "NCHW":
            return self.input_shape[2], self.input_shape[3]
        return self.input_shape[1], self.input_shape[2]


@dataclass(frozen=True)
class Prediction:
    """One image's person probability, at the image's size and at the model's output size.

    `model_probability` is what a video loop feeds back as the next frame's prior.
    """

    probability: np.ndarray
    model_probability: np.ndarray


@dataclass(frozen=True)
class ModelInput:
    """One image made ready for the model: its input tensor and how to map the output back."""

    tensor: np.ndarray  # with its batch axis of 1
    placement: Placement  # where the image lies inside the model's input
    height: int  # the image's size, which the probability is resized back to
    width: int


def person_probability(output: np.ndarray) -> np.ndarray:
    """Decode an (h, w, c) output: 1 channel is the probability, 2 are softmaxed logits."""
    channels = output.shape[-1]
    if channels == 1:
        return output[..., 0].astype(np.float32)
    if channels == 2:
        return softmax_person(output, 1)
    raise ValueError(f"cannot decode an output with {channels} channels")


class Segmenter:
    """Loads a model once and predicts a person probability map per RGB image.

    `model`: a ModelSpec, or a .tflite / .onnx path (default spec). `log` hears, once, that
    LiteRT fell back from XNNPack to its built-in kernels. `xnnpack=False` skips XNNPack
    (to compare runtimes); it does not apply to ONNX models.
    """

    def __init__(self, model: ModelSpec | Path | str, threads: int = 1,
                 log: Callable[[str], None] | None = None, xnnpack: bool = True) -> None:
        spec = model if isinstance(model, ModelSpec) else default_model_spec(model)
        self.model_path = spec.path
        self._runtime = open_runtime(spec.path, threads, xnnpack)
        # Tensors are checked before the runtime prepares the model, so a model that does
        # not fit is refused with that reason, not the error its kernels raise.
        self.plan: TensorPlan = plan_tensors(spec, self._runtime.input, self._runtime.output)
        self._runtime.prepare(log)
        self.model_spec: ModelSpec = resolved_spec(spec, self.plan)
        self.spec = TensorSpec(self.plan.input.shape, self.plan.input.dtype,
                               self.plan.output.shape, self.plan.output.dtype,
                               self.plan.output_layout, self.plan.layout)

    @property
    def runtime(self) -> str:
        """The runtime actually used: litert-xnnpack, litert-builtin or onnxruntime X.Y.Z."""
        return self._runtime.name

    @property
    def batch(self) -> int:
        """Images `predict_many` gives the model in one invoke where it can (1: one by one)."""
        return getattr(self._runtime, "BATCH", 1)

    @property
    def input_size(self) -> tuple[int, int]:
        """(height, width) of the model's input, whatever its layout."""
        return self.plan.height, self.plan.width

    def describe(self) -> dict[str, Any]:
        """The effective spec and the runtime, as plain JSON values."""
        return {**self.model_spec.describe(), "runtime": self.runtime}

    def input_tensor(self, image_rgb: np.ndarray, prior: np.ndarray | None = None
                     ) -> np.ndarray:
        """The exact tensor the model is fed for an RGB uint8 image (to inspect a spec)."""
        resized, _ = to_model_size(image_rgb, self.plan.height, self.plan.width,
                                   self.model_spec.input.resize)
        return encode_input(resized, self.model_spec.input, self.plan, prior)

    def predict_tensor(self, resized_rgb: np.ndarray, prior: np.ndarray | None = None
                       ) -> np.ndarray:
        """Person probability at the model's output size from an RGB uint8 model-size image."""
        tensor = encode_input(resized_rgb, self.model_spec.input, self.plan, prior)
        return decode_output(self._runtime.run(tensor), self.plan)

    def model_input(self, image_rgb: np.ndarray, prior: np.ndarray | None = None
                    ) -> ModelInput:
        """An RGB uint8 image resized and encoded for the model (see `segment`)."""
        resized, placement = to_model_size(image_rgb, self.plan.height, self.plan.width,
                                           self.model_spec.input.resize)
        return ModelInput(encode_input(resized, self.model_spec.input, self.plan, prior),
                          placement, image_rgb.shape[0], image_rgb.shape[1])

    def segment(self, image_rgb: np.ndarray, prior: np.ndarray | None = None) -> Prediction:
        """Person probability of an RGB uint8 image, at its size and at the model's.

        `prior`: the previous frame's `model_probability` for a model with a prior channel
        (zeros when None); ignored by other models.
        """
        given = self.model_input(image_rgb, prior)
        model_probability = decode_output(self._runtime.run(given.tensor), self.plan)
        return Prediction(to_image(model_probability, given.placement, given.height,
                                   given.width), model_probability)

    def predict_many(self, inputs: Sequence[ModelInput]) -> list[np.ndarray]:
        """Person probability of each prepared image, at its size: what `predict` gives,
        bit for bit, with the model invoked on several images at once where it can."""
        if not inputs:
            return []
        raw = self._runtime.run_many(np.concatenate([given.tensor for given in inputs]))
        return [to_image(decode_output(raw[k:k + 1], self.plan), given.placement,
                         given.height, given.width)
                for k, given in enumerate(inputs)]

    def predict(self, image_rgb: np.ndarray, prior: np.ndarray | None = None) -> np.ndarray:
        """Person probability for each pixel of an RGB uint8 image, at the image's size."""
        return self.segment(image_rgb, prior).probability
