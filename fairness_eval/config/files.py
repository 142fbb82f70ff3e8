"""The configuration file: finding it, reading it, and checking it into a `FileConfig`.

`load_config` reads `fairness-eval.toml` (or pyproject.toml's `[tool.fairness-eval]`);
`parse_config` checks each key and its value's type by the key tables (`file_keys.py`,
which also shows the file's layout) and the values by the settings records' rules,
reporting their errors with the file and the key. `merge.py` lays command-line values over
the file's.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .command_options import CheckOptions, CompareOptions
from .field_rules import FIELD_RULES
from .file_keys import (
    ATTRIBUTE_KEYS,
    CHECK_KEYS,
    COMPARE_KEYS,
    RUN_KEYS,
    STR_LIST,
    TABLES,
    canonical_key,
    convert_value,
    describe_value,
)
from .settings import Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG_FILE_NAME = "fairness-eval.toml"
PYPROJECT_TABLE = "fairness-eval"


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
        # A broken pyproject.toml may hold [tool.fairness-eval]: going on without it would
        # run the gate on the defaults, so it stops the command as a broken
        # fairness-eval.toml does; --config names a file and skips this search.
        data = _read_toml(pyproject, " (fix it, or name the configuration with --config)")
        tool = data.get("tool", {})
        if isinstance(tool, dict) and PYPROJECT_TABLE in tool:
            return pyproject
    return None


def _read_toml(path: Path, hint: str = "") -> dict[str, Any]:
    """A TOML file's document; UsageError (one line naming the file) when it cannot be."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot be read: {exc}{hint}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}{hint}") from None
    except RecursionError:
        raise UsageError(f"{path}: not valid TOML: nested too deeply{hint}") from None


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
    data = _read_toml(path)
    label = path.name
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        if not isinstance(tool, dict) or PYPROJECT_TABLE not in tool:
            raise UsageError(f"{path}: has no [tool.{PYPROJECT_TABLE}] table")
        data = tool[PYPROJECT_TABLE]
        label = f"pyproject.toml [tool.{PYPROJECT_TABLE}]"
        if not isinstance(data, dict):
            raise UsageError(f"{path}: tool.{PYPROJECT_TABLE} must be a table")
    return parse_config(data, path, label)


def parse_config(data: Mapping[str, Any], path: Path, label: str | None = None) -> FileConfig:
    """Check and convert a parsed TOML document (its layout: `file_keys.py`)."""
    config = FileConfig(source=path, label=label or path.name)
    base = path.parent
    run_part = {k: v for k, v in data.items() if canonical_key(k) not in TABLES}
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
                f"[attributes.{name}], got {describe_value(table)}"
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

    found = [k for k in data if canonical_key(k) == "conditions"]
    if not found:
        return {}
    value = data[found[0]]
    used["conditions"] = found[0]
    if not isinstance(value, dict):
        return {"conditions": convert_value(value, STR_LIST, found[0], path, path.parent)}
    for name, levels in value.items():
        key = f"{found[0]}.{name}"
        if name not in CONDITIONS:
            raise UsageError(f"{path}: unknown key '{key}' (known: {', '.join(CONDITIONS)})")
        items = levels if isinstance(levels, list) else [levels]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
            raise UsageError(f"{path}: key '{key}' must be a list of numbers (severities), "
                             f"got {describe_value(levels)}")
    used["condition_severities"] = found[0]
    return {"conditions": tuple(value),
            "condition_severities": {name: tuple(levels if isinstance(levels, list)
                                                 else [levels])
                                     for name, levels in value.items()}}


def _get_table(data: Mapping[str, Any], name: str, path: Path) -> dict[str, Any]:
    found = [k for k in data if canonical_key(k) == name]
    if not found:
        return {}
    value = data[found[0]]
    if not isinstance(value, dict):
        raise UsageError(f"{path}: key '{name}' must be a table [{name}], "
                         f"got {describe_value(value)}")
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
        key = canonical_key(raw_key)
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
        out[field_name] = convert_value(value, kind, f"{prefix}{raw_key}", path, base)
    return out


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
