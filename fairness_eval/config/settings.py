"""Settings of a run, and the configuration file that supplies them.

Precedence is CLI flags > `fairness-eval.toml` / `[tool.fairness-eval]` > these defaults.
Every setting that can change a number is recorded in results.json, together with the
effective configuration's SHA-256 (`config_entry`).

The file's layout (keys are the long CLI option names; `min_group_size` and
`min-group-size` are the same key):

    # options of `fairness-eval run`
    dataset = "../shared/datasets/voc2012_person"
    attribute = ["region", "skin_tone"]
    threshold = 0.5
    gate = true

    [check]                  # options of `fairness-eval check` (fall back to the run's)
    strict = true
    gate-on = "statistical"

    [compare]                # options of `fairness-eval compare`
    max-drop = 0.01

    [attributes.region]      # per attribute
    gate = ["a", "b"]        # criteria gated for this attribute ([] : reported, not gated)
    min-group-size = 40
    intersect = ["skin_tone"]  # also evaluate region x skin_tone

Relative paths in a file are relative to the file's folder.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..stats.bootstrap import CI_METHODS, REFERENCES, STATISTICS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

GATE_ON = ("statistical", "point")
REPORT_FORMATS = ("html", "pdf", "md", "json")
CRITERIA = ("a", "b")

CONFIG_FILE_NAME = "fairness-eval.toml"
PYPROJECT_TABLE = "fairness-eval"


def cpu_count() -> int:
    """The cores this process may run on (the default number of workers)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


@dataclass
class Settings:
    """Everything `fairness-eval run` needs besides the dataset path."""

    model: str = "selfie"
    out: Path | None = None
    overwrite: bool = False
    resume: bool = False
    attributes: tuple[str, ...] = ()  # empty: every attribute column
    intersect: tuple[tuple[str, ...], ...] = ()
    skip_invalid: bool = False
    threshold: float = 0.5
    threads: int = 1
    workers: int = field(default_factory=lambda: cpu_count())
    save_masks: bool = False
    # statistics
    bootstrap: int = 10_000
    confidence: float = 0.95
    ci_method: str = "bca"
    seed: int = 0
    statistic: str = "mean"
    reference: str = "overall"
    min_group_size: int = 30
    sd_factor: float = 3.0
    sd_ddof: int = 0
    inter_annotator_iou: float | None = None
    # reports and gate
    formats: tuple[str, ...] = ("html", "pdf")
    card: Path | None = None
    examples: int = 0
    gate: bool = False
    strict: bool = False
    gate_on: str = "statistical"
    # per attribute: {"region": {"gate": ["a", "b"], "min_group_size": 40}}; only from a file
    per_attribute: dict[str, dict[str, Any]] = field(default_factory=dict)

    def validate(self) -> Settings:
        """Raise UsageError naming the first option whose value is out of range."""
        _check(0.0 < self.threshold < 1.0, "--threshold", self.threshold, "must lie in (0, 1)")
        _check(self.threads >= 1, "--threads", self.threads, "must be at least 1")
        _check(self.workers >= 1, "--workers", self.workers, "must be at least 1")
        _check(self.bootstrap >= 100, "--bootstrap", self.bootstrap, "must be at least 100")
        _check(0.5 < self.confidence < 1.0, "--confidence", self.confidence, "must lie in (0.5, 1)")
        _check_choice("--ci-method", self.ci_method, CI_METHODS)
        _check_choice("--statistic", self.statistic, STATISTICS)
        _check_choice("--reference", self.reference, REFERENCES)
        _check(self.min_group_size >= 1, "--min-group-size", self.min_group_size, "must be >= 1")
        _check(self.sd_factor > 0, "--sd-factor", self.sd_factor, "must be positive")
        _check(self.sd_ddof in (0, 1), "--sd-ddof", self.sd_ddof, "must be 0 or 1")
        _check(self.examples >= 0, "--examples", self.examples, "must be >= 0")
        _check(self.gate_on in GATE_ON, "--gate-on", self.gate_on, f"is one of {GATE_ON}")
        for fmt in self.formats:
            _check(fmt in REPORT_FORMATS, "--format", fmt, f"is one of {REPORT_FORMATS}")
        if self.inter_annotator_iou is not None:
            _check(
                0.0 < self.inter_annotator_iou <= 1.0,
                "--inter-annotator-iou",
                self.inter_annotator_iou,
                "must be a fraction in (0, 1] or a percentage in (1, 100]",
            )
        for name, table in self.per_attribute.items():
            size = table.get("min_group_size")
            if size is not None:
                _check(size >= 1, f"attributes.{name}.min-group-size", size, "must be >= 1")
        return self

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view (paths as strings, tuples as lists)."""
        return _jsonable(asdict(self))

    def min_group_size_for(self, attribute: str) -> int:
        """The minimum group size of one attribute: its own table's, else the global one."""
        size = self.per_attribute.get(attribute, {}).get("min_group_size")
        return self.min_group_size if size is None else int(size)

    def gated_criteria_for(self, attribute: str) -> tuple[str, ...]:
        """The criteria the gate checks for one attribute (default: all of them)."""
        return gated_criteria({"per_attribute": self.per_attribute}, attribute)


# Settings whose change may change a per-image number: the resume key covers these.
# (XNNPack's thread count can reorder float sums, so it is kept to be safe.)
PER_IMAGE_SETTINGS = ("threshold", "threads", "model")

# Settings that say where and how fast a run goes, never what it computes (results are
# identical whatever --workers): left out of the configuration hash so that the same
# file gives the same hash on every machine and output folder.
UNHASHED_SETTINGS = ("out", "overwrite", "resume", "workers")


def gated_criteria(settings: Mapping[str, Any], attribute: str) -> tuple[str, ...]:
    """Criteria gated for `attribute` given a settings mapping as recorded in results.json."""
    table = (settings.get("per_attribute") or {}).get(attribute) or {}
    gate = table.get("gate")
    return CRITERIA if gate is None else tuple(gate)


def _check(ok: bool, option: str, value: object, rule: str) -> None:
    if not ok:
        raise UsageError(f"{option}: {value!r} {rule}")


def _check_choice(option: str, value: object, choices: tuple[str, ...]) -> None:
    _check(value in choices, option, value, f"is one of {choices}")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


# --------------------------------------------------------------------------- the file

# Key kinds: how a TOML value is checked and converted.
_BOOL, _INT, _FLOAT, _STR, _PATH, _MODEL = "bool", "int", "float", "str", "path", "model"
_STR_LIST, _INTERSECT, _FRACTION, _CRITERIA = "str_list", "intersect", "fraction", "criteria"

# key (long CLI option name) -> (Settings field, kind)
RUN_KEYS: dict[str, tuple[str, str]] = {
    "dataset": ("dataset", _PATH),
    "model": ("model", _MODEL),
    "out": ("out", _PATH),
    "overwrite": ("overwrite", _BOOL),
    "resume": ("resume", _BOOL),
    "attribute": ("attributes", _STR_LIST),
    "intersect": ("intersect", _INTERSECT),
    "skip-invalid": ("skip_invalid", _BOOL),
    "threshold": ("threshold", _FLOAT),
    "threads": ("threads", _INT),
    "workers": ("workers", _INT),
    "save-masks": ("save_masks", _BOOL),
    "bootstrap": ("bootstrap", _INT),
    "confidence": ("confidence", _FLOAT),
    "ci-method": ("ci_method", _STR),
    "seed": ("seed", _INT),
    "statistic": ("statistic", _STR),
    "reference": ("reference", _STR),
    "min-group-size": ("min_group_size", _INT),
    "sd-factor": ("sd_factor", _FLOAT),
    "sd-ddof": ("sd_ddof", _INT),
    "inter-annotator-iou": ("inter_annotator_iou", _FRACTION),
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
    "gate": ("gate", _CRITERIA),
    "min-group-size": ("min_group_size", _INT),
    "intersect": ("intersect", _STR_LIST),
}
_TABLES = ("check", "compare", "attributes")


@dataclass
class CheckOptions:
    """Options of `fairness-eval check` (and of the gate after `run --gate`)."""

    strict: bool = False
    gate_on: str = "statistical"
    # attribute -> gated criteria; None: use what the run recorded in results.json
    gated: dict[str, tuple[str, ...]] | None = None


@dataclass
class CompareOptions:
    """Options of `fairness-eval compare`."""

    max_drop: float | None = None  # None: drops are reported, not gated
    out: Path | None = None  # None: the candidate run directory
    gate_on: str = "statistical"


@dataclass
class FileConfig:
    """A configuration file, checked and converted; empty when there is no file."""

    source: Path | None = None
    label: str | None = None  # how results.json names the source
    run: dict[str, Any] = field(default_factory=dict)  # Settings field -> value (+ "dataset")
    check: dict[str, Any] = field(default_factory=dict)
    compare: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)

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
    configuration as a whole. Unknown keys and values of the wrong type raise UsageError
    naming the key and the file.
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
    config.run = _convert_table(run_part, RUN_KEYS, "", path, base)
    for table_name, keys in (("check", CHECK_KEYS), ("compare", COMPARE_KEYS)):
        table = _get_table(data, table_name, path)
        setattr(config, table_name, _convert_table(table, keys, f"{table_name}.", path, base))
    for name, table in _get_table(data, "attributes", path).items():
        if not isinstance(table, dict):
            raise UsageError(
                f"{path}: key 'attributes.{name}' must be a table such as "
                f"[attributes.{name}], got {_describe(table)}"
            )
        config.attributes[name] = _convert_table(
            table, ATTRIBUTE_KEYS, f"attributes.{name}.", path, base
        )
    _validate_ranges(config, path)
    return config


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
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for raw_key, value in table.items():
        key = _canonical(raw_key)
        if key not in keys:
            known = ", ".join(sorted(keys))
            raise UsageError(f"{path}: unknown key '{prefix}{raw_key}' (known: {known})")
        if key in seen:
            raise UsageError(
                f"{path}: key '{prefix}{raw_key}' given twice (also as '{prefix}{seen[key]}')"
            )
        seen[key] = raw_key
        field_name, kind = keys[key]
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
    if kind in (_FLOAT, _FRACTION):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong("a number")
        if not math.isfinite(value):
            raise wrong("a finite number")
        value = float(value)
        # A fraction may be written as a percentage (0.9874 or 98.74), as on the CLI.
        return value / 100.0 if kind == _FRACTION and 1.0 < value <= 100.0 else value
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
            raise wrong("a model name or a path to a .tflite file")
        # A registry name stays a name; a path is made relative to the file's folder.
        looks_like_path = value.endswith(".tflite") or "/" in value or os.sep in value
        return str(_resolve(value, base)) if looks_like_path else value
    if kind in (_STR_LIST, _CRITERIA):
        if isinstance(value, str) and kind == _STR_LIST:
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise wrong("a list of strings")
        if kind == _CRITERIA:
            bad = [v for v in value if v not in CRITERIA]
            if bad:
                raise UsageError(
                    f"{path}: key '{key}' lists {bad[0]!r}; criteria are {list(CRITERIA)}"
                )
        return tuple(value)
    if kind == _INTERSECT:
        return _convert_intersect(value, wrong)
    raise AssertionError(f"unknown key kind {kind}")  # pragma: no cover


def _convert_intersect(value: Any, wrong: Any) -> tuple[tuple[str, ...], ...]:
    # Accepted: "a,b" | ["a,b", "c,d"] | [["a", "b"], ["c", "d"]]
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise wrong('a list such as ["region,skin_tone"] or [["region", "skin_tone"]]')
    crossed = []
    for item in items:
        if isinstance(item, str):
            names = tuple(part.strip() for part in item.split(",") if part.strip())
        elif isinstance(item, list) and all(isinstance(v, str) for v in item):
            names = tuple(item)
        else:
            raise wrong('a list such as ["region,skin_tone"] or [["region", "skin_tone"]]')
        if len(names) < 2:
            raise wrong("a list of crossings of at least two attributes each")
        crossed.append(names)
    return tuple(crossed)


def _resolve(value: str, base: Path) -> Path:
    candidate = Path(value).expanduser()
    return candidate if candidate.is_absolute() else base / candidate


def _describe(value: Any) -> str:
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "table"}.get(type(value), type(value).__name__)
    return f"{kind} {value!r}" if kind != "table" else "a table"


def _validate_ranges(config: FileConfig, path: Path) -> None:
    """Range-check the file's own values so that an error names the file and the key."""
    run_fields = {k: v for k, v in config.run.items() if k != "dataset"}
    try:
        replace(Settings(), **run_fields, per_attribute=_per_attribute(config)).validate()
    except UsageError as exc:
        raise _in_file(exc, path, "") from exc
    for section, table in (("check", config.check), ("compare", config.compare)):
        try:
            if "gate_on" in table:
                _check_choice("--gate-on", table["gate_on"], GATE_ON)
            if table.get("max_drop") is not None:
                _check(table["max_drop"] >= 0, "--max-drop", table["max_drop"], "must be >= 0")
        except UsageError as exc:
            raise _in_file(exc, path, f"{section}.") from exc


def _in_file(exc: UsageError, path: Path, prefix: str) -> UsageError:
    """Turn "--option: value rule" into "FILE: key 'section.option': value rule"."""
    option, _, rest = str(exc).partition(": ")
    return UsageError(f"{path}: key '{prefix}{option.lstrip('-')}': {rest}")


def _per_attribute(config: FileConfig) -> dict[str, dict[str, Any]]:
    return {
        name: {k: (list(v) if isinstance(v, tuple) else v) for k, v in table.items()
               if k != "intersect"}
        for name, table in config.attributes.items()
    }


# --------------------------------------------------------------------------- merging

def _aliases(keys: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """CLI-dict key -> field: the field name, the option name, and its snake_case form."""
    out: dict[str, str] = {}
    for key, (field_name, _) in keys.items():
        out[field_name] = field_name
        out[key] = field_name
        out[key.replace("-", "_")] = field_name
    return out


def _from_cli(cli_values: Mapping[str, Any], keys: Mapping[str, tuple[str, str]],
              command: str) -> dict[str, Any]:
    aliases = _aliases(keys)
    out = {}
    for name, value in cli_values.items():
        if name not in aliases:
            raise ValueError(f"{command}: no option {name!r} (known: {sorted(aliases)})")
        out[aliases[name]] = value
    return out


def merge_run_settings(config: FileConfig, cli_values: Mapping[str, Any]) -> Settings:
    """Effective run Settings: explicit CLI values over the file's over the defaults.

    `cli_values` holds only the options the user gave on the command line, keyed by
    Settings field name (`attributes`, `formats`) or option name (`attribute`, `format`,
    `min_group_size`). Per-attribute `intersect` lists add crossings unless `--intersect`
    was given. The result is validated.
    """
    cli = _from_cli(cli_values, RUN_KEYS, "run")
    cli.pop("dataset", None)
    values = {k: v for k, v in config.run.items() if k != "dataset"}
    if "intersect" not in cli:
        crossings = list(values.get("intersect", ()))
        for name, table in config.attributes.items():
            for other in table.get("intersect", ()):
                pair = (name, other)
                if pair not in crossings and pair[::-1] not in crossings:
                    crossings.append(pair)
        if crossings:
            values["intersect"] = tuple(crossings)
    values.update(cli)
    for name in ("attributes", "formats"):
        if name in values:
            values[name] = tuple(values[name])
    if "intersect" in values:
        values["intersect"] = tuple(tuple(c) for c in values["intersect"])
    for name in ("out", "card"):
        if values.get(name) is not None:
            values[name] = Path(values[name])
    return replace(Settings(), **values, per_attribute=_per_attribute(config)).validate()


def resolve_dataset(config: FileConfig, cli_dataset: str | Path | None) -> Path:
    """The dataset path: `--dataset`, else the file's `dataset` key; UsageError if neither."""
    if cli_dataset is not None:
        return Path(cli_dataset)
    if config.dataset is not None:
        return config.dataset
    raise UsageError("--dataset: missing (give --dataset PATH or `dataset` in fairness-eval.toml)")


def merge_check_options(config: FileConfig, cli_values: Mapping[str, Any]) -> CheckOptions:
    """`check` options: CLI > [check] > the file's top-level `strict` / `gate-on` > defaults.

    Per-attribute `gate` lists in the file replace what the run recorded; with none, the
    gate uses the run's recorded settings.
    """
    values: dict[str, Any] = {}
    for name in ("strict", "gate_on"):
        if name in config.run:
            values[name] = config.run[name]
    values.update(config.check)
    values.update(_from_cli(cli_values, CHECK_KEYS, "check"))
    gated = {
        name: tuple(table["gate"]) for name, table in config.attributes.items() if "gate" in table
    }
    options = CheckOptions(**values, gated=gated or None)
    _check(options.gate_on in GATE_ON, "--gate-on", options.gate_on, f"is one of {GATE_ON}")
    return options


def merge_compare_options(config: FileConfig, cli_values: Mapping[str, Any]) -> CompareOptions:
    """`compare` options: CLI > [compare] > the file's top-level `gate-on` > defaults."""
    values: dict[str, Any] = {}
    if "gate_on" in config.run:
        values["gate_on"] = config.run["gate_on"]
    values.update(config.compare)
    values.update(_from_cli(cli_values, COMPARE_KEYS, "compare"))
    if values.get("out") is not None:
        values["out"] = Path(values["out"])
    options = CompareOptions(**values)
    _check(options.gate_on in GATE_ON, "--gate-on", options.gate_on, f"is one of {GATE_ON}")
    _check(
        options.max_drop is None or options.max_drop >= 0, "--max-drop", options.max_drop,
        "must be >= 0",
    )
    return options


# --------------------------------------------------------------------------- recording

def effective_config(settings: Settings) -> dict[str, Any]:
    """The configuration a run's numbers depend on, JSON-ready (see UNHASHED_SETTINGS)."""
    values = settings.as_dict()
    return {k: v for k, v in values.items() if k not in UNHASHED_SETTINGS}


def config_sha256(effective: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an effective configuration (sorted keys, compact)."""
    canonical = json.dumps(effective, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def config_entry(config: FileConfig, settings: Settings) -> dict[str, Any]:
    """results.json's `config`: {source, sha256, effective}."""
    effective = effective_config(settings)
    return {"source": config.label, "sha256": config_sha256(effective), "effective": effective}


__all__ = [
    "CRITERIA", "CheckOptions", "CompareOptions", "FileConfig", "Settings", "config_entry",
    "config_sha256", "effective_config", "find_config_file", "gated_criteria", "load_config",
    "merge_check_options", "merge_compare_options", "merge_run_settings", "parse_config",
    "resolve_dataset",
]
