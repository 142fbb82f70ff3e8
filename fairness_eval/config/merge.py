"""The effective settings of a command: command-line values over the file's over defaults.

Precedence is CLI flags > `fairness-eval.toml` / `[tool.fairness-eval]` (`files.py`) >
the defaults of the settings records (`settings.py`, `command_options.py`), which check
the merged values.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import UsageError
from . import rules
from .command_options import CheckOptions, CompareOptions
from .field_rules import option_name
from .file_keys import CHECK_KEYS, COMPARE_KEYS, RUN_KEYS
from .files import FileConfig, per_attribute_settings
from .settings import Settings


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


# The settings that say what predicts a run's masks; at most one may be given.
MODEL_SOURCES = ("model", "model_spec", "predictions")


def merge_run_settings(config: FileConfig, cli_values: Mapping[str, Any]) -> Settings:
    """Effective run Settings: explicit CLI values over the file's over the defaults.

    `cli_values` holds only the options the user gave on the command line, keyed by
    Settings field name (`attributes`, `formats`, `mask_threshold`) or option name
    (`attribute`, `format`, `threshold`, `min_group_size`), as typed values or as the
    command line's text ("2000", "html,md", "region,skin_tone"). Per-attribute `intersect`
    lists add crossings unless `--intersect` was given. Settings checks the result.
    """
    cli = _from_cli(cli_values, RUN_KEYS, "run")
    cli.pop("dataset", None)
    values = {k: v for k, v in config.run.items() if k != "dataset"}
    if "intersect" not in cli:
        crossings = list(rules.crossings(values.get("intersect", ())))
        for name, table in config.attributes.items():
            for other in table.get("intersect", ()):
                pair = (name, other)
                if pair not in crossings and pair[::-1] not in crossings:
                    crossings.append(pair)
        if crossings:
            values["intersect"] = tuple(crossings)
    typed = [name for name in MODEL_SOURCES if name in cli]
    if len(typed) > 1:
        first, second = (option_name(name) for name in typed[:2])
        raise UsageError(f"{first} and {second}: give only one (a model name or file, a "
                         "model spec, or a folder of predictions)")
    if typed:
        # What predicts is one choice: one given on the command line replaces the file's.
        values = {k: v for k, v in values.items() if k not in MODEL_SOURCES}
    values.update(cli)
    return Settings(**values, per_attribute=per_attribute_settings(config))


# What `validate` reads from a configuration file: the dataset's rows as `run` loads them.
VALIDATE_FIELDS = ("attributes", "max_pixels", "exif", "mask_person_value", "limit", "sample",
                   "seed", "attribute_votes", "votes_image_key")


def merge_validate_options(config: FileConfig, cli_values: Mapping[str, Any]) -> dict[str, Any]:
    """`validate`'s keyword arguments: CLI values over the file's over `validate`'s defaults
    (checked by their rules there)."""
    values = {k: v for k, v in config.run.items() if k in VALIDATE_FIELDS}
    values.update(_from_cli(cli_values, RUN_KEYS, "validate"))
    if config.attributes:  # their tables make them evaluated by default, as in `run`
        values["configured"] = tuple(config.attributes)
        values["per_attribute"] = per_attribute_settings(config)  # votes, vocabulary, bins
    return values


def resolve_dataset(config: FileConfig, cli_dataset: str | Path | None) -> Path:
    """The dataset path: `--dataset`, else the file's `dataset` key; UsageError if neither."""
    if cli_dataset is not None:
        return Path(cli_dataset)
    if config.dataset is not None:
        return config.dataset
    raise UsageError("--dataset: missing (give --dataset PATH or `dataset` in fairness-eval.toml)")


def merge_check_options(config: FileConfig, cli_values: Mapping[str, Any]) -> CheckOptions:
    """`check` options: CLI > [check] > the file's top-level `strict` / `gate-on` /
    `allow-empty-gate` > defaults.

    Per-attribute `gate` lists in the file replace what the run recorded; with none, the
    gate uses the run's recorded settings.
    """
    values: dict[str, Any] = {}
    for name in ("strict", "gate_on", "allow_empty_gate"):
        if name in config.run:
            values[name] = config.run[name]
    values.update(config.check)
    values.update(_from_cli(cli_values, CHECK_KEYS, "check"))
    gated = {
        name: tuple(table["gate"]) for name, table in config.attributes.items() if "gate" in table
    }
    return CheckOptions(**values, gated=gated or None)


def merge_compare_options(config: FileConfig, cli_values: Mapping[str, Any]) -> CompareOptions:
    """`compare` options: CLI > [compare] > the file's top-level `gate-on` > defaults."""
    values: dict[str, Any] = {}
    if "gate_on" in config.run:
        values["gate_on"] = config.run["gate_on"]
    values.update(config.compare)
    values.update(_from_cli(cli_values, COMPARE_KEYS, "compare"))
    return CompareOptions(**values)


__all__ = [
    "merge_check_options", "merge_compare_options", "merge_run_settings",
    "merge_validate_options", "resolve_dataset",
]
