"""How a run's settings are recorded in results.json, and the hash of its configuration.

Every setting that can change a number is recorded (`Settings.as_dict`, by the names
below), together with the SHA-256 of the effective configuration (`effective_config`,
`config_sha256`, `config_entry`). The records keep the names results.json has always used:
the mask probability cut is the field `mask_threshold` but is recorded as `threshold`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..results import settings_record as results_settings
from .options import RUN_OPTIONS

if TYPE_CHECKING:
    from .files import FileConfig
    from .settings import Settings

# Each run option's catalogue entry (options.py) says how it is recorded; these are the
# sets of names it gives, as the records and the resume key read them.

# Field names that results.json (and the resume key) record under another name.
RECORDED_NAMES = {option.name: option.recorded_as for option in RUN_OPTIONS
                  if option.recorded_as is not None}

# Settings whose change may change a per-image number: the resume key covers these.
# (XNNPack's thread count can reorder float sums, so it is kept to be safe.)
PER_IMAGE_SETTINGS = tuple(option.name for option in RUN_OPTIONS if option.per_image)

# Settings that say where and how fast a run goes, never what it computes (results are
# identical whatever --workers): left out of the configuration hash so that the same
# file gives the same hash on every machine and output folder.
UNHASHED_SETTINGS = tuple(option.name for option in RUN_OPTIONS if not option.hashed)

# Settings recorded in results.json only when set (not at their default), so that the
# records and configuration hashes of runs made without them stay as they were; the
# severities of a file's [conditions] table, which no option sets, among them.
RECORDED_WHEN_SET = (*(option.name for option in RUN_OPTIONS if option.recorded_when_set),
                     "condition_severities")

def json_ready(value: Any) -> Any:
    """A settings value as results.json records it: paths as strings, tuples as lists."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def gated_criteria(settings: Mapping[str, Any], attribute: str) -> tuple[str, ...]:
    """Criteria gated for `attribute` given a settings mapping as recorded in results.json."""
    return results_settings.gated_criteria(settings.get("per_attribute"), attribute)


def effective_config(settings: Settings) -> dict[str, Any]:
    """The configuration a run's numbers depend on, JSON-ready (see UNHASHED_SETTINGS)."""
    return {k: v for k, v in settings.as_dict().items() if k not in UNHASHED_SETTINGS}


def config_sha256(effective: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an effective configuration (sorted keys, compact)."""
    canonical = json.dumps(effective, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def config_entry(config: FileConfig, settings: Settings) -> dict[str, Any]:
    """results.json's `config`: {source, sha256, effective}."""
    effective = effective_config(settings)
    return {"source": config.label, "sha256": config_sha256(effective), "effective": effective}


__all__ = [
    "PER_IMAGE_SETTINGS", "RECORDED_NAMES", "RECORDED_WHEN_SET", "UNHASHED_SETTINGS",
    "config_entry", "config_sha256", "effective_config", "gated_criteria", "json_ready",
]
