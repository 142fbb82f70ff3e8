"""The model runtimes' catalogue: one record per kind of model file fairness-eval can run.

A `RuntimeKind` says which file suffix picks the runtime, which pip extra installs it (None:
a core dependency), where results.json records its version, and what it is. The spec's
path check (spec.py), the configuration file's model key (config/file_keys.py) and the
runtime chooser (runtimes.py `open_runtime`) read this one list, so a new runtime is its
class in runtimes.py and its record here. Standard library only: the settings read it
before a run forks its workers, and no runtime is imported to list them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RuntimeKind:
    """One kind of model file and the runtime that runs it."""

    key: str  # runtimes.py's name for it
    suffix: str  # the model file's suffix (lower case) that picks it
    extra: str | None  # the pip extra that installs it: fairness-eval[<extra>]; None: core
    version_recorded: str  # where results.json records the runtime's version
    description: str


RUNTIME_KINDS = (
    RuntimeKind("litert", ".tflite", None,
                "versions.litert (the ai-edge-litert package); model.runtime says "
                "litert-xnnpack or litert-builtin",
                "LiteRT (TensorFlow Lite): XNNPack, else LiteRT's built-in kernels"),
    RuntimeKind("onnx", ".onnx", "onnx", "model.runtime ('onnxruntime X.Y.Z')",
                "ONNX Runtime on the CPU, an optional extra imported only for .onnx files"),
)
MODEL_SUFFIXES = tuple(kind.suffix for kind in RUNTIME_KINDS)
# How messages name the model files: ".tflite or .onnx".
MODEL_FILE_WORDS = " or ".join(MODEL_SUFFIXES)


def runtime_kind(path: Path | str) -> RuntimeKind | None:
    """The runtime a model file's suffix picks, or None for a suffix none takes."""
    suffix = Path(path).suffix.lower()
    return next((kind for kind in RUNTIME_KINDS if kind.suffix == suffix), None)


def install_hint(kind: RuntimeKind) -> str:
    """How to install a runtime: "pip install 'fairness-eval[onnx]'"."""
    return ("pip install fairness-eval" if kind.extra is None
            else f"pip install 'fairness-eval[{kind.extra}]'")


__all__ = ["MODEL_FILE_WORDS", "MODEL_SUFFIXES", "RUNTIME_KINDS", "RuntimeKind",
           "install_hint", "runtime_kind"]
