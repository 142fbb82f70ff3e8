"""What predicts a run's masks: a model opened from its spec, or supplied predictions.

`prepare_predictor` settles it once, in the main process, from the settings: a
`--predictions` folder (no model runs), a model spec (`--model-spec` or a `[model]` table),
or `--model` (a registered name or a model file, with the default spec). A model is opened
once here as a probe: its tensors are checked against the spec, a model no runtime can
prepare is refused (UsageError), and the XNNPack fallback is said once through `log`. The
result holds what results.json records (`ModelFacts`) and what each worker opens
(`Predictor.source`: the resolved, picklable ModelSpec, or the predictions folder).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config.settings import Settings
from ..data.samples import Sample
from ..models.segmenter import Segmenter
from ..models.spec import ModelSpec
from .predictions import SuppliedPredictions, folder_sha256

Log = Callable[[str], None]
SOURCE_MODEL, SOURCE_PREDICTIONS = "model", "predictions"


@dataclass(frozen=True)
class ModelFacts:
    """What results.json's `model` block says predicted the masks."""

    source: str  # "model" or "predictions" (supplied; no model ran)
    name: str  # display name: registry name, spec's name, "supplied predictions (<folder>)"
    path: str  # the model file, or the predictions folder
    sha256: str  # of the model file, or of the predictions folder (predictions.py)
    size_bytes: int  # the model file's size, or the predictions' total size
    input_shape: tuple[int, ...] | None = None
    input_dtype: str | None = None
    output_shape: tuple[int, ...] | None = None
    output_dtype: str | None = None
    output_layout: str | None = None
    spec: dict[str, Any] | None = None  # the effective model spec (ModelSpec.describe())
    runtime: str | None = None  # litert-xnnpack | litert-builtin | onnxruntime X.Y.Z
    files: int | None = None  # prediction files in the folder

    @property
    def folder_name(self) -> str:
        """What names the default run folder: the model's name, or "predictions"."""
        return self.source if self.source == SOURCE_PREDICTIONS else self.name

    def key(self) -> dict[str, Any]:
        """What a resumed run must share with the interrupted one (resume.py)."""
        return {"source": self.source, "sha256": self.sha256, "spec": self.spec,
                "runtime": self.runtime}


@dataclass(frozen=True)
class Predictor:
    """The facts of what predicts, and what each worker opens (`open_predictor`)."""

    facts: ModelFacts
    source: ModelSpec | SuppliedPredictions


def model_spec_of(settings: Settings, log: Log = lambda _: None) -> ModelSpec:
    """The spec of the settings' model: `model_spec` if given, else `--model`'s defaults."""
    from ..models.spec import model_spec_for

    if settings.model_spec is not None:
        return settings.model_spec
    return model_spec_for(settings.model, log=log)


def prepare_predictor(settings: Settings, log: Log = lambda _: None) -> Predictor:
    """Settle what predicts a run (see the module docstring); UsageError if it cannot."""
    if settings.predictions is not None:
        folder = Path(settings.predictions).resolve()
        sha256, files, size = folder_sha256(folder)
        facts = ModelFacts(SOURCE_PREDICTIONS, f"supplied predictions ({folder.name})",
                           str(folder), sha256, size, files=files)
        return Predictor(facts, SuppliedPredictions(folder, settings.mask_person_value))
    from ..models.registry import resolve_model

    spec = model_spec_of(settings, log)
    probe = Segmenter(spec, threads=1, log=log)  # the one place the fallback is said
    model_file = resolve_model(str(spec.path))
    tensors = probe.spec
    described = probe.describe()
    runtime = described.pop("runtime")
    facts = ModelFacts(
        SOURCE_MODEL, spec.name, str(model_file.path), model_file.sha256,
        int(model_file.size_bytes), tuple(int(s) for s in tensors.input_shape),
        tensors.input_dtype, tuple(int(s) for s in tensors.output_shape),
        tensors.output_dtype, tensors.output_layout, spec=described, runtime=runtime)
    return Predictor(facts, probe.model_spec)


def open_predictor(source: ModelSpec | SuppliedPredictions | Path | str, threads: int = 1
                   ) -> Segmenter | SuppliedPredictions:
    """What a worker predicts with: the model opened (no log: the probe said it all), or
    the predictions folder itself. A model file path gets the default spec."""
    if isinstance(source, SuppliedPredictions):
        return source
    return Segmenter(source, threads=threads)


def predicted_mask(predictor: Segmenter | SuppliedPredictions, sample: Sample,
                   image_rgb: np.ndarray, mask_threshold: float) -> np.ndarray:
    """The row's person mask: probability > mask_threshold (MediaPipe's own rule), from
    the model or from the supplied file (value / 255 > mask_threshold)."""
    if isinstance(predictor, SuppliedPredictions):
        return predictor.person_mask(sample, image_rgb.shape[:2], mask_threshold)
    return predictor.predict(image_rgb) > mask_threshold
