"""The card's model details about how the masks were made: the effective model spec and the
runtime used, or the note that the predictions were supplied (and their folder's hash).

Formatting only, from results.json's `model` block (results/provenance.py ModelRecord).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..results.provenance import ModelRecord
from .formatting import DASH, count

RUNTIMES = {
    "litert-xnnpack": "LiteRT with the XNNPack delegate",
    "litert-builtin": "LiteRT's built-in kernels; the XNNPack delegate refused the model",
}
OUTPUT_KINDS = {
    "probability": "person probability in channel {person}",
    "logit": "person logit in channel {person}, through a sigmoid",
    "softmax": "softmax over the channels, person channel {person}",
    "labels": "class labels, person = label {person}",
}


def supplied_rows(model: ModelRecord) -> list[tuple[str, str]]:
    """Rows for supplied predictions: where they are, how many, and the folder's SHA-256."""
    files = f"{count(model.files)} PNG files" if model.files is not None else "PNG files"
    return [
        ("Predictions", f"supplied, not made by fairness-eval: {files} of person masks or "
                        "probability maps; no model ran"),
        ("Folder", model.path or DASH),
        ("SHA-256", f"{model.sha256 or DASH} (of the folder: each PNG's name and content)"),
    ]


def spec_rows(model: ModelRecord) -> list[tuple[str, str]]:
    """Rows for a model run here: the runtime used and the effective spec (none recorded:
    no rows, as in documents written before specs existed)."""
    rows: list[tuple[str, str]] = []
    if model.runtime:
        rows.append(("Runtime", _runtime(model.runtime)))
    spec = model.spec
    if not isinstance(spec, Mapping):
        return rows
    if spec.get("spec_file"):
        rows.append(("Model spec", str(spec["spec_file"])))
    inputs = spec.get("input") if isinstance(spec.get("input"), Mapping) else {}
    outputs = spec.get("output") if isinstance(spec.get("output"), Mapping) else {}
    if inputs:
        rows.append(("Input feeding", input_feeding(inputs)))
    if outputs:
        rows.append(("Output reading", output_reading(outputs)))
    return rows


def _runtime(name: str) -> str:
    described = RUNTIMES.get(name)
    return f"{name} ({described})" if described else name


def input_feeding(inputs: Mapping[str, Any]) -> str:
    """'NHWC, RGB, bilinear resize; x = (pixel / 255 − mean) / std, mean [0.5, ...] ...'."""
    mean, std = _numbers(inputs.get("mean")), _numbers(inputs.get("std"))
    if mean and std and all(v == 0 for v in mean) and all(v == 1 for v in std):
        scale = "x = pixel / 255"
    elif mean and std:
        scale = (f"x = (pixel / 255 − mean) / std, mean [{_listed(mean)}], "
                 f"std [{_listed(std)}]")
    else:
        scale = DASH
    parts = [str(inputs.get("layout") or DASH), str(inputs.get("channels") or DASH),
             f"{inputs.get('resize') or DASH} resize"]
    text = ", ".join(parts) + "; " + scale
    if inputs.get("prior") == "previous":
        text += "; 4th channel: the previous frame's person probability (zeros on stills)"
    return text


def output_reading(outputs: Mapping[str, Any]) -> str:
    kind = outputs.get("kind")
    template = OUTPUT_KINDS.get(str(kind))
    person = outputs.get("person")
    return template.format(person=DASH if person is None else person) if template else (
        str(kind) if kind else DASH)


def _numbers(value: Any) -> list[float] | None:
    if isinstance(value, Sequence) and not isinstance(value, str) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return [float(v) for v in value]
    return None


def _listed(values: Sequence[float]) -> str:
    return ", ".join(f"{v:.6g}" for v in values)


__all__ = ["input_feeding", "output_reading", "spec_rows", "supplied_rows"]
