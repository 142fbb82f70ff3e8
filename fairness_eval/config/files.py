"""The configuration file: finding it, reading it, checking its keys and value types.

This module checks a file's keys and the types of its values; their ranges are the
settings records' (`settings.py`), whose errors it reports with the file and the key.
`merge.py` lays command-line values over the file's.

The file's layout (keys are the long CLI option names; `min_group_size` and
`min-group-size` are the same key):

    # options of `fairness-eval run`
    dataset = "../shared/datasets/voc2012_person"
    attribute = ["region", "skin_tone"]
    threshold = 0.5          # the mask threshold; `mask-threshold` is the same key
    gate = true
    # model = "selfie"       # a registered name or a .tflite / .onnx file, or instead:
    # model-spec = "specs/sinet.toml", or a [model] table (a model spec, models/spec.py),
    # or predictions = "masks/" (supplied predictions: no model runs)

    [check]                  # options of `fairness-eval check` (fall back to the run's)
    strict = true
    gate-on = "statistical"

    [compare]                # options of `fairness-eval compare`
    max-drop = 0.01

    [attributes.region]      # per attribute
    gate = ["a", "b"]        # criteria gated for this attribute ([] : reported, not gated)
    min-group-size = 40
    intersect = ["skin_tone"]  # also evaluate region x skin_tone

    [conditions]             # capture conditions evaluated, with their severities
    dark = [0.5, 0.25, 0.1]  # (--conditions chooses among them, defaults for the rest)
    blur = [0.02]

A top-level `conditions = ["dark", "blur"]` instead chooses conditions at their default
severities.

Relative paths in a file are relative to the file's folder.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .settings import FIELD_RULES, CheckOptions, CompareOptions, Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG_FILE_NAME = "fairness-eval.toml"
PYPROJECT_TABLE = "fairness-eval"

# Key kinds: how a TOML value's type is checked and converted.
_BOOL, _INT, _FLOAT, _STR, _PATH, _MODEL = "bool", "int", "float", "str", "path", "model"
_STR_LIST, _INTERSECT = "str_list", "intersect"

# key (long CLI option name) -> (settings field, kind)
RUN_KEYS: dict[str, tuple[str, str]] = {
    "dataset": ("dataset", _PATH),
    "model": ("model", _MODEL),
    "model-spec": ("model_spec", _PATH),
    "predictions": ("predictions", _PATH),
    "out": ("out", _PATH),
    "overwrite": ("overwrite", _BOOL),
    "resume": ("resume", _BOOL),
    "attribute": ("attributes", _STR_LIST),
    "intersect": ("intersect", _INTERSECT),
    "skip-invalid": ("skip_invalid", _BOOL),
    "threshold": ("mask_threshold", _FLOAT),
    "mask-threshold": ("mask_threshold", _FLOAT),
    "threads": ("threads", _INT),
    "workers": ("workers", _INT),
    "executor": ("executor", _STR),
    "scheduler": ("scheduler", _STR),
    "save-masks": ("save_masks", _BOOL),
    "max-pixels": ("max_pixels", _INT),
    "exif": ("exif", _STR),
    "boundary-ratio": ("boundary_ratio", _FLOAT),
    "metric": ("metric", _STR),
    "conditions": ("conditions", _STR_LIST),  # read by _conditions (a list or a table)
    "save-conditions": ("save_conditions", _PATH),
    "derive": ("derive", _STR_LIST),
    "adjust-for": ("adjust_for", _STR),
    "gate-on-conditions": ("gate_on_conditions", _BOOL),
    "bootstrap": ("bootstrap", _INT),
    "confidence": ("confidence", _FLOAT),
    "ci-method": ("ci_method", _STR),
    "seed": ("seed", _INT),
    "statistic": ("statistic", _STR),
    "reference": ("reference", _STR),
    "min-group-size": ("min_group_size", _INT),
    "sd-factor": ("sd_factor", _FLOAT),
    "sd-ddof": ("sd_ddof", _INT),
    "inter-annotator-iou": ("inter_annotator_iou", _FLOAT),  # fraction or percentage
    "format": ("formats", _STR_LIST),
    "card": ("card", _PATH),
    "examples": ("examples", _INT),
    "gate": ("gate", _BOOL),
    "strict": ("strict", _BOOL),
    "gate-on": ("gate_on", _STR),
}
CHECK_KEYS: dict[str, tuple[str, str]] = {
    "strict": ("strict", _BOOL),
    "gate-on": ("gate_on", _STR),
}
COMPARE_KEYS: dict[str, tuple[str, str]] = {
    "max-drop": ("max_drop", _FLOAT),
    "out": ("out", _PATH),
    "gate-on": ("gate_on", _STR),
}
ATTRIBUTE_KEYS: dict[str, tuple[str, str]] = {
    "gate": ("gate", _STR_LIST),
    "min-group-size": ("min_group_size", _INT),
    "intersect": ("intersect", _STR_LIST),
}
_TABLES = ("check", "compare", "attributes", "conditions")


@dataclass
class FileConfig:
    """A configuration file, checked and converted; empty when there is no file."""

    source: Path | None = None
    label: str | None = None  # how results.json names the source
    run: dict[str, Any] = field(default_factory=dict)  # settings field -> value (+ "dataset")
    check: dict[str, Any] = field(default_factory=dict)
    compare: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    # settings field -> the key the file used for it ("attributes.region.gate", "threshold")
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def dataset(self) -> Path | None:
        return self.run.get("dataset")


def find_config_file(cwd: Path | None = None) -> Path | None:
    """`fairness-eval.toml` in `cwd`, else its pyproject.toml if that has our table."""
    folder = Path.cwd() if cwd is None else Path(cwd)
    own = folder / CONFIG_FILE_NAME
    if own.is_file():
        return own
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            # A broken pyproject.toml is not ours to judge unless it is asked for.
            return None
        if PYPROJECT_TABLE in data.get("tool", {}):
            return pyproject
    return None


def load_config(path: Path | str | None = None, cwd: Path | None = None) -> FileConfig:
    """Read `path` (an explicit `--config`), else the file `find_config_file` finds.

    A pyproject.toml contributes its `[tool.fairness-eval]` table; any other file is the
    configuration as a whole. Unknown keys and values of the wrong type or range raise
    UsageError naming the key and the file.
    """
    if path is None:
        path = find_config_file(cwd)
        if path is None:
            return FileConfig()
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"--config: {path}: no such file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot be read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from exc
    label = path.name
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        if PYPROJECT_TABLE not in tool:
            raise UsageError(f"{path}: has no [tool.{PYPROJECT_TABLE}] table")
        data = tool[PYPROJECT_TABLE]
        label = f"pyproject.toml [tool.{PYPROJECT_TABLE}]"
        if not isinstance(data, dict):
            raise UsageError(f"{path}: tool.{PYPROJECT_TABLE} must be a table")
    return parse_config(data, path, label)


def parse_config(data: Mapping[str, Any], path: Path, label: str | None = None) -> FileConfig:
    """Check and convert a parsed TOML document (see the module docstring for its layout)."""
    config = FileConfig(source=path, label=label or path.name)
    base = path.parent
    run_part = {k: v for k, v in data.items() if _canonical(k) not in _TABLES}
    model_table = _model_table(run_part, path, config.keys)
    config.run = _convert_table(run_part, RUN_KEYS, "", path, base, config.keys)
    config.run.update(model_table)
    _one_model_source(config, path)
    config.run.update(_conditions(data, path, config.keys))
    for table_name, keys in (("check", CHECK_KEYS), ("compare", COMPARE_KEYS)):
        table = _get_table(data, table_name, path)
        setattr(config, table_name,
                _convert_table(table, keys, f"{table_name}.", path, base, config.keys))
    for name, table in _get_table(data, "attributes", path).items():
        if not isinstance(table, dict):
            raise UsageError(
                f"{path}: key 'attributes.{name}' must be a table such as "
                f"[attributes.{name}], got {_describe(table)}"
            )
        config.attributes[name] = _convert_table(
            table, ATTRIBUTE_KEYS, f"attributes.{name}.", path, base, config.keys
        )
    _check_values(config, path)
    return config


def _model_table(run_part: dict[str, Any], path: Path, used: dict[str, str]) -> dict[str, Any]:
    """A `[model]` table (a model spec, models/spec.py) taken out of `run_part`: the
    settings' `model_spec`. `model = "selfie"` (a name or a file) stays a plain key."""
    if not isinstance(run_part.get("model"), dict):
        return {}
    from ..models.spec import model_spec_from_table

    used["model_spec"] = "model"
    return {"model_spec": model_spec_from_table(run_part.pop("model"), path)}


def _one_model_source(config: FileConfig, path: Path) -> None:
    """At most one of `model`, `model-spec` (or a [model] table) and `predictions`."""
    given = [config.keys.get(name, name) for name in ("model", "model_spec", "predictions")
             if name in config.run]
    if len(given) > 1:
        raise UsageError(f"{path}: keys '{given[0]}' and '{given[1]}': give only one (a model "
                         "name or file, a model spec, or a folder of predictions)")


def _conditions(data: Mapping[str, Any], path: Path, used: dict[str, str]) -> dict[str, Any]:
    """`conditions = ["dark"]` (chosen, default severities) or a [conditions] table of
    severity lists (each condition listed is chosen); their values are the settings'."""
    from ..conditions.perturb import CONDITIONS

    found = [k for k in data if _canonical(k) == "conditions"]
    if not found:
        return {}
    value = data[found[0]]
    used["conditions"] = found[0]
    if not isinstance(value, dict):
        return {"conditions": _convert(value, _STR_LIST, found[0], path, path.parent)}
    for name, levels in value.items():
        key = f"{found[0]}.{name}"
        if name not in CONDITIONS:
            raise UsageError(f"{path}: unknown key '{key}' (known: {', '.join(CONDITIONS)})")
        items = levels if isinstance(levels, list) else [levels]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
            raise UsageError(f"{path}: key '{key}' must be a list of numbers (severities), "
                             f"got {_describe(levels)}")
    used["condition_severities"] = found[0]
    return {"conditions": tuple(value),
            "condition_severities": {name: tuple(levels if isinstance(levels, list)
                                                 else [levels])
                                     for name, levels in value.items()}}


def _canonical(key: str) -> str:
    return key.replace("_", "-")


def _get_table(data: Mapping[str, Any], name: str, path: Path) -> dict[str, Any]:
    found = [k for k in data if _canonical(k) == name]
    if not found:
        return {}
    value = data[found[0]]
    if not isinstance(value, dict):
        raise UsageError(f"{path}: key '{name}' must be a table [{name}], got {_describe(value)}")
    return value


def _convert_table(
    table: Mapping[str, Any],
    keys: Mapping[str, tuple[str, str]],
    prefix: str,
    path: Path,
    base: Path,
    used: dict[str, str],
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    seen: dict[str, str] = {}  # field -> the key that set it (`threshold`, `mask-threshold`)
    for raw_key, value in table.items():
        key = _canonical(raw_key)
        if key not in keys:
            known = ", ".join(sorted(keys))
            raise UsageError(f"{path}: unknown key '{prefix}{raw_key}' (known: {known})")
        field_name, kind = keys[key]
        if field_name in seen:
            earlier = seen[field_name]
            raise UsageError(
                f"{path}: key '{prefix}{raw_key}' given twice (also as '{prefix}{earlier}')"
            )
        seen[field_name] = raw_key
        used[prefix + field_name] = prefix + raw_key
        out[field_name] = _convert(value, kind, f"{prefix}{raw_key}", path, base)
    return out


def _convert(value: Any, kind: str, key: str, path: Path, base: Path) -> Any:
    def wrong(expected: str) -> UsageError:
        return UsageError(f"{path}: key '{key}' must be {expected}, got {_describe(value)}")

    if kind == _BOOL:
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if kind == _INT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("an integer")
        return value
    if kind == _FLOAT:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong("a number")
        if not math.isfinite(value):
            raise wrong("a finite number")
        return float(value)
    if kind == _STR:
        if not isinstance(value, str):
            raise wrong("a string")
        return value
    if kind == _PATH:
        if not isinstance(value, str) or not value:
            raise wrong("a path (a non-empty string)")
        return _resolve(value, base)
    if kind == _MODEL:
        if not isinstance(value, str) or not value:
            raise wrong("a model name, a path to a .tflite or .onnx file, or a [model] table")
        # A registry name stays a name; a path is made relative to the file's folder.
        looks_like_path = (value.endswith((".tflite", ".onnx", ".toml")) or "/" in value
                           or os.sep in value)
        return str(_resolve(value, base)) if looks_like_path else value
    if kind == _STR_LIST:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise wrong("a list of strings")
        return tuple(value)
    if kind == _INTERSECT:
        # Accepted: "a,b" | ["a,b", "c,d"] | [["a", "b"], ["c", "d"]]; the crossings
        # themselves are checked by the settings' rule.
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(
            isinstance(item, str) or (isinstance(item, list)
                                      and all(isinstance(v, str) for v in item))
            for item in items
        ):
            raise wrong('a list such as ["region,skin_tone"] or [["region", "skin_tone"]]')
        return tuple(item if isinstance(item, str) else tuple(item) for item in items)
    raise AssertionError(f"unknown key kind {kind}")  # pragma: no cover


def _resolve(value: str, base: Path) -> Path:
    candidate = Path(value).expanduser()
    return candidate if candidate.is_absolute() else base / candidate


def _describe(value: Any) -> str:
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "table"}.get(type(value), type(value).__name__)
    return f"{kind} {value!r}" if kind != "table" else "a table"


def _check_values(config: FileConfig, path: Path) -> None:
    """Check the file's own values by the settings' rules, so an error names file and key."""
    run_fields = {k: v for k, v in config.run.items() if k != "dataset"}
    sections = (
        ("", lambda: Settings(**run_fields, per_attribute=per_attribute_settings(config))),
        ("check.", lambda: CheckOptions(**config.check)),
        ("compare.", lambda: CompareOptions(**config.compare)),
    )
    for prefix, construct in sections:
        try:
            construct()
        except UsageError as exc:
            raise _in_file(exc, path, prefix, config.keys) from exc


_FIELD_OF_OPTION = {option: name for name, (option, _) in FIELD_RULES.items()}


def _in_file(exc: UsageError, path: Path, prefix: str, keys: Mapping[str, str]) -> UsageError:
    """Turn "--option: value reason" into "FILE: key 'section.key': value reason"."""
    option, _, rest = str(exc).partition(": ")
    field_name = _FIELD_OF_OPTION.get(option)
    if field_name is not None:
        key = keys.get(prefix + field_name, prefix + option.lstrip("-"))
    else:  # a per-attribute key, named in full already
        key = option
    return UsageError(f"{path}: key '{key}': {rest}")


def per_attribute_settings(config: FileConfig) -> dict[str, dict[str, Any]]:
    """The file's [attributes.NAME] tables as Settings.per_attribute (crossings apart)."""
    return {
        name: {k: v for k, v in table.items() if k != "intersect"}
        for name, table in config.attributes.items()
    }


__all__ = [
    "CONFIG_FILE_NAME", "FileConfig", "find_config_file", "load_config", "parse_config",
    "per_attribute_settings",
]
