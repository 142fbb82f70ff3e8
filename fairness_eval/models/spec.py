"""The model spec: how to feed a person-segmentation model and how to read its output.

A spec is a TOML file with one `[model]` table (or the same table inside
fairness-eval.toml). Every key is optional except `path`; where the spec is silent the
defaults reproduce how fairness-eval has always fed MediaPipe's selfie models:

    [model]
    path = "model.onnx"          # .tflite or .onnx, relative to the spec file
    name = "My model"            # display name (default: the file's stem)
    [model.input]
    layout = "NCHW"              # NHWC | NCHW (default: read from the input tensor)
    channels = "BGR"             # RGB (default) | BGR: the order the model takes
    mean = [0.5, 0.5, 0.5]       # x = (pixel / 255 - mean) / std, in the model's channel
    std = [0.5, 0.5, 0.5]        #   order (default mean 0, std 1)
    resize = "bilinear"          # mediapipe (default) | bilinear | letterbox
    prior = "previous"           # a 4th input channel: none (zeros) | previous frame
    [model.output]
    kind = "softmax"             # probability | logit | softmax | labels
    person = 1                   # the person channel, or the person label value

Values the spec leaves open (layout, output kind, person) are settled from the model's
tensors when a Segmenter opens it (`Segmenter.model_spec` is then fully resolved).
Every key is checked here, with a one-line UsageError naming the file and the key.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .runtime_kinds import MODEL_FILE_WORDS, MODEL_SUFFIXES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

LAYOUTS = ("NHWC", "NCHW")
CHANNEL_ORDERS = ("RGB", "BGR")
RESIZE_METHODS = ("mediapipe", "bilinear", "letterbox")
PRIORS = ("none", "previous")
OUTPUT_KINDS = ("probability", "logit", "softmax", "labels")
# The model files a runtime takes: the runtimes' catalogue (runtime_kinds.py).

MODEL_KEYS = ("path", "name", "input", "output")
INPUT_KEYS = ("layout", "channels", "mean", "std", "resize", "prior")
OUTPUT_KEYS = ("kind", "person")


@dataclass(frozen=True)
class InputSpec:
    """How an RGB uint8 image becomes the model's input tensor."""

    layout: str | None = None  # None: read from the input tensor's shape
    channels: str = "RGB"
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    resize: str = "mediapipe"
    prior: str | None = None  # None: the model must take exactly 3 channels


@dataclass(frozen=True)
class OutputSpec:
    """How the model's output tensor becomes a person probability."""

    kind: str | None = None  # None: 1 channel = probability, 2 channels = softmax
    person: int | None = None  # None: channel 0 of 1, else 1; label value 1


@dataclass(frozen=True)
class ModelSpec:
    """A model file and how to feed and read it."""

    path: Path
    name: str
    input: InputSpec = InputSpec()
    output: OutputSpec = OutputSpec()
    source: Path | None = field(default=None, compare=False)  # the spec file, if any

    @property
    def where(self) -> str:
        """What error messages name: the spec file, else the model file."""
        return str(self.source if self.source is not None else self.path)

    def describe(self) -> dict[str, Any]:
        """The spec as plain JSON values, for results.json and the card."""
        return {
            "name": self.name,
            "path": str(self.path),
            "spec_file": str(self.source) if self.source is not None else None,
            "input": {
                "layout": self.input.layout,
                "channels": self.input.channels,
                "mean": list(self.input.mean),
                "std": list(self.input.std),
                "resize": self.input.resize,
                "prior": self.input.prior,
            },
            "output": {"kind": self.output.kind, "person": self.output.person},
        }


def default_model_spec(path: Path | str, name: str | None = None) -> ModelSpec:
    """The spec of a model file given without one: today's MediaPipe-style defaults."""
    path = Path(path)
    return ModelSpec(path=path, name=name or path.stem)


def named_model_spec(name: str, pull: bool = True,
                     log: Callable[[str], None] = lambda _: None) -> ModelSpec:
    """The spec of a registered model (`selfie`, `selfie-landscape`), pulled on first use."""
    from .registry import REGISTRY, resolve_model

    if name not in REGISTRY:
        raise UsageError(f"--model {name}: not a registered model ({', '.join(REGISTRY)})")
    return default_model_spec(resolve_model(name, pull=pull, log=log).path, name=name)


def model_spec_for(reference: str | Path, pull: bool = True,
                   log: Callable[[str], None] = lambda _: None) -> ModelSpec:
    """A registered model name, a spec file (.toml) or a model file (.tflite / .onnx)."""
    from .registry import REGISTRY, resolve_model

    text = str(reference)
    if text in REGISTRY:
        return named_model_spec(text, pull=pull, log=log)
    if Path(text).suffix.lower() == ".toml":
        return load_model_spec(text)
    return default_model_spec(resolve_model(text, pull=pull, log=log).path)


def load_model_spec(path: Path | str) -> ModelSpec:
    """Read and check a spec file: a TOML document with one `[model]` table."""
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: model spec file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: cannot read the model spec ({error})") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path}: not valid TOML ({error})") from None
    except RecursionError:
        raise UsageError(f"{path}: not valid TOML (nested too deeply)") from None
    extra = sorted(set(document) - {"model"})
    if extra:
        raise UsageError(f"{path}: unknown key {extra[0]} (a model spec holds one [model] table)")
    if "model" not in document:
        raise UsageError(f"{path}: no [model] table")
    return model_spec_from_table(document["model"], path)


def model_spec_from_table(table: Mapping[str, Any], source: Path) -> ModelSpec:
    """Check a `[model]` table read from `source`; a relative path is relative to it."""
    source = Path(source)
    check = _Checker(source)
    check.table(table, "model", MODEL_KEYS)
    if "path" not in table:
        raise UsageError(f"{source}: model.path is missing (the {MODEL_FILE_WORDS} file)")
    model_path = _model_path(check.text(table, "model", "path"), source)
    name = check.text(table, "model", "name") if "name" in table else model_path.stem
    if not name.strip():
        raise UsageError(f"{source}: model.name is empty")
    inputs = table.get("input", {})
    check.table(inputs, "model.input", INPUT_KEYS)
    outputs = table.get("output", {})
    check.table(outputs, "model.output", OUTPUT_KEYS)
    defaults = InputSpec()
    input_spec = InputSpec(
        layout=check.choice(inputs, "model.input", "layout", LAYOUTS, upper=True),
        channels=check.choice(inputs, "model.input", "channels", CHANNEL_ORDERS, upper=True)
        or defaults.channels,
        mean=check.triple(inputs, "model.input", "mean", positive=False) or defaults.mean,
        std=check.triple(inputs, "model.input", "std", positive=True) or defaults.std,
        resize=check.choice(inputs, "model.input", "resize", RESIZE_METHODS) or defaults.resize,
        prior=check.choice(inputs, "model.input", "prior", PRIORS),
    )
    output_spec = OutputSpec(
        kind=check.choice(outputs, "model.output", "kind", OUTPUT_KINDS),
        person=check.index(outputs, "model.output", "person"),
    )
    return ModelSpec(model_path, name, input_spec, output_spec, source)


def _model_path(text: str, source: Path) -> Path:
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = source.parent / path
    path = path.resolve()
    if path.suffix.lower() not in MODEL_SUFFIXES:
        raise UsageError(f"{source}: model.path {text} is not a {MODEL_FILE_WORDS} file")
    if not path.is_file():
        raise UsageError(f"{source}: model.path {text}: no such file ({path})")
    return path


class _Checker:
    """Type and value checks of one table's keys; every failure names the file and key."""

    def __init__(self, source: Path) -> None:
        self.source = source

    def fail(self, key: str, reason: str) -> UsageError:
        return UsageError(f"{self.source}: {key} {reason}")

    def table(self, value: Any, key: str, known: tuple[str, ...]) -> None:
        if not isinstance(value, Mapping):
            raise self.fail(key, f"must be a table, got {_shown(value)}")
        unknown = [k for k in value if k not in known]
        if unknown:
            raise UsageError(f"{self.source}: unknown key {key}.{unknown[0]} "
                             f"(known: {', '.join(known)})")

    def text(self, table: Mapping[str, Any], where: str, key: str) -> str:
        value = table[key]
        if not isinstance(value, str):
            raise self.fail(f"{where}.{key}", f"must be a string, got {_shown(value)}")
        return value

    def choice(self, table: Mapping[str, Any], where: str, key: str,
               allowed: tuple[str, ...], upper: bool = False) -> str | None:
        if key not in table:
            return None
        value = self.text(table, where, key).strip()
        value = value.upper() if upper else value.lower()
        if value not in allowed:
            raise self.fail(f"{where}.{key}", f"must be one of {', '.join(allowed)}, "
                            f"got {table[key]!r}")
        return value

    def triple(self, table: Mapping[str, Any], where: str, key: str,
               positive: bool) -> tuple[float, float, float] | None:
        if key not in table:
            return None
        value = table[key]
        if not isinstance(value, list) or not all(_is_number(v) for v in value):
            raise self.fail(f"{where}.{key}", f"must be a list of 3 numbers (one per colour "
                            f"channel), got {_shown(value)}")
        if len(value) != 3:
            raise self.fail(f"{where}.{key}", f"must have 3 numbers (one per colour channel), "
                            f"got {len(value)}")
        numbers = tuple(float(v) for v in value)
        if not all(math.isfinite(v) for v in numbers):
            raise self.fail(f"{where}.{key}", "must hold finite numbers")
        if positive and not all(v > 0 for v in numbers):
            raise self.fail(f"{where}.{key}", f"must be positive (it divides), got {value}")
        return numbers  # type: ignore[return-value]

    def index(self, table: Mapping[str, Any], where: str, key: str) -> int | None:
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(f"{where}.{key}", f"must be a whole number >= 0, got {_shown(value)}")
        return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
