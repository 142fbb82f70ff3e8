"""The settings of each command as typed records, checked once, when they are constructed.

`Settings` is everything `fairness-eval run` needs besides the dataset path;
`StatisticsSettings` is the slice the statistics stage reads (`Settings.statistics`);
`TableSettings` holds the options of `card --from-table`; `CheckOptions` and
`CompareOptions` those of `check` and `compare`. Every field passes through the rule of
its name in `rules.py` on construction (also by `dataclasses.replace`): values are
converted there (text from the command line, a percentage to a fraction) and a bad one is
refused with the same one-line message whoever gave it. A record that exists is valid, so
no stage downstream checks a setting again.

Every setting that can change a number is recorded in results.json (`Settings.as_dict`),
together with the SHA-256 of the effective configuration (`effective_config`). The
records keep the names results.json has always used: the mask probability cut is the
field `mask_threshold` but is recorded as `threshold`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..results import settings as results_settings
from . import condition_rules, rules
from .rules import (
    CI_METHODS,
    CRITERIA,
    GATE_ON,
    METRICS,
    REFERENCES,
    REPORT_FORMATS,
    STATISTICS,
    UNITS,
)

if TYPE_CHECKING:
    from ..models.spec import ModelSpec

# field -> (the option that sets it, its rule). One table for every record below: a field
# of the same name obeys the same rule in each.
FIELD_RULES: dict[str, tuple[str, rules.Rule]] = {
    "model": ("--model", rules.model),
    "model_spec": ("--model-spec", rules.model_spec),
    "predictions": ("--predictions", rules.folder),
    "out": ("--out", rules.path),
    "overwrite": ("--overwrite", rules.flag),
    "resume": ("--resume", rules.flag),
    "attributes": ("--attribute", rules.names),
    "intersect": ("--intersect", rules.crossings),
    "skip_invalid": ("--skip-invalid", rules.flag),
    "mask_threshold": ("--threshold", rules.mask_threshold),
    "threads": ("--threads", rules.at_least(1)),
    "workers": ("--workers", rules.at_least(1)),
    "executor": ("--executor", rules.one_of(rules.EXECUTORS)),
    "scheduler": ("--scheduler", rules.scheduler),
    "save_masks": ("--save-masks", rules.flag),
    "max_pixels": ("--max-pixels", rules.max_pixels),
    "exif": ("--exif", rules.one_of(rules.EXIF_CHOICES)),
    "conditions": ("--conditions", condition_rules.conditions),
    "condition_severities": ("conditions", condition_rules.condition_severities),
    "save_conditions": ("--save-conditions", rules.path),
    "derive": ("--derive", condition_rules.derived),
    "adjust_for": ("--adjust-for", condition_rules.optional_name),
    "gate_on_conditions": ("--gate-on-conditions", rules.flag),
    "bootstrap": ("--bootstrap", rules.bootstrap),
    "confidence": ("--confidence", rules.confidence),
    "ci_method": ("--ci-method", rules.one_of(CI_METHODS)),
    "seed": ("--seed", rules.at_least(0)),
    "statistic": ("--statistic", rules.one_of(STATISTICS)),
    "metric": ("--metric", rules.one_of(METRICS)),
    "boundary_ratio": ("--boundary-ratio", rules.boundary_ratio),
    "reference": ("--reference", rules.one_of(REFERENCES)),
    "min_group_size": ("--min-group-size", rules.at_least(1)),
    "sd_factor": ("--sd-factor", rules.sd_factor),
    "sd_ddof": ("--sd-ddof", rules.sd_ddof),
    "inter_annotator_iou": ("--inter-annotator-iou", rules.inter_annotator_iou),
    "formats": ("--format", rules.formats),
    "card": ("--card", rules.path),
    "examples": ("--examples", rules.at_least(0)),
    "gate": ("--gate", rules.flag),
    "strict": ("--strict", rules.flag),
    "gate_on": ("--gate-on", rules.one_of(GATE_ON)),
    "average": ("--average", rules.average),
    "units": ("--units", rules.one_of(UNITS)),
    "max_drop": ("--max-drop", rules.max_drop),
}

# Per-attribute settings (only from a configuration file's [attributes.NAME] tables).
PER_ATTRIBUTE_KEYS = ("gate", "min_group_size")

# Field names that results.json (and the resume key) record under another name.
RECORDED_NAMES = {"mask_threshold": "threshold"}

# Settings whose change may change a per-image number: the resume key covers these.
# (XNNPack's thread count can reorder float sums, so it is kept to be safe.)
PER_IMAGE_SETTINGS = ("mask_threshold", "threads", "model", "boundary_ratio", "exif")

# Settings that say where and how fast a run goes, never what it computes (results are
# identical whatever --workers): left out of the configuration hash so that the same
# file gives the same hash on every machine and output folder.
UNHASHED_SETTINGS = ("out", "overwrite", "resume", "workers", "save_conditions", "executor",
                     "scheduler")

# Settings recorded in results.json only when set (not at their default), so that the
# records and configuration hashes of runs made without them stay as they were.
RECORDED_WHEN_SET = ("conditions", "condition_severities", "save_conditions", "derive",
                     "adjust_for", "gate_on_conditions", "executor", "scheduler",
                     "model_spec", "predictions", "metric", "boundary_ratio", "max_pixels",
                     "exif")


def _recorded_default(name: str) -> Any:
    """A Settings field's default as results.json would record it."""
    item = next(f for f in fields(Settings) if f.name == name)
    default = item.default_factory() if item.default is MISSING else item.default
    return _jsonable(default)


def _check_one_model(model: str, model_spec: Any, predictions: Path | None) -> None:
    """One source of predictions: --model, --model-spec (or [model]) or --predictions."""
    default_model = next(f.default for f in fields(Settings) if f.name == "model")
    given = [option for option, value in (("--model", model != default_model),
                                          ("--model-spec", model_spec is not None),
                                          ("--predictions", predictions is not None)) if value]
    if len(given) > 1:
        raise UsageError(f"{given[0]} and {given[1]}: give only one "
                         "(a model name or file, a model spec, or a folder of predictions)")


def cpu_count() -> int:
    """The cores this process may run on (the default number of workers)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


def option_name(field_name: str) -> str:
    """The command-line option that sets a field ("--threshold" for mask_threshold)."""
    return FIELD_RULES[field_name][0]


def _apply_rules(record: Any) -> None:
    """Convert and check every field of a frozen record by its rule, in field order."""
    for item in fields(record):
        if item.name in FIELD_RULES and item.init:
            option, rule = FIELD_RULES[item.name]
            object.__setattr__(record, item.name, rule(getattr(record, item.name), option))


def min_group_size_rule(value: Any, option: str) -> int:
    """The rule of --min-group-size, also for an attribute's own minimum."""
    return FIELD_RULES["min_group_size"][1](value, option)


def _per_attribute(tables: Any) -> dict[str, dict[str, Any]]:
    """Per-attribute tables checked: {"region": {"gate": ("a",), "min_group_size": 40}}."""
    if not isinstance(tables, Mapping):
        raise rules.fail("attributes", tables, "is not a table of attribute tables")
    checked: dict[str, dict[str, Any]] = {}
    for name, table in tables.items():
        where = f"attributes.{name}"
        if not isinstance(table, Mapping):
            raise rules.fail(where, table, "is not a table")
        unknown = [key for key in table if key not in PER_ATTRIBUTE_KEYS]
        if unknown:
            raise UsageError(f"{where}: unknown key {unknown[0]!r} (known: gate, "
                             "min-group-size)")
        entry: dict[str, Any] = {}
        if "gate" in table:
            entry["gate"] = rules.criteria(table["gate"], f"{where}.gate")
        if table.get("min_group_size") is not None:
            entry["min_group_size"] = min_group_size_rule(
                table["min_group_size"], f"{where}.min-group-size")
        checked[str(name)] = entry
    return checked


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def gated_criteria(settings: Mapping[str, Any], attribute: str) -> tuple[str, ...]:
    """Criteria gated for `attribute` given a settings mapping as recorded in results.json."""
    return results_settings.gated_criteria(settings.get("per_attribute"), attribute)


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class StatisticsSettings:
    """What the statistics and fairness stage reads: intervals, references, criteria."""

    bootstrap: int = 10_000  # resamples
    confidence: float = 0.95
    ci_method: str = "bca"
    seed: int = 0
    statistic: str = "mean"
    metric: str = "iou"  # the per-image (per-clip) figure the criteria judge
    reference: str = "overall"
    min_group_size: int = 30
    sd_factor: float = 3.0
    sd_ddof: int = 0
    inter_annotator_iou: float | None = None  # None: from the per-image table, if any
    intersect: tuple[tuple[str, ...], ...] = ()
    # attribute or crossing name ("region×skin_tone") -> its own minimum group size
    min_group_sizes: Mapping[str, int] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        _apply_rules(self)
        if self.statistic == "pooled" and self.metric != "iou":
            raise UsageError(f"--statistic pooled: sum I / sum U is an IoU; it cannot judge "
                             f"--metric {self.metric} (use --statistic mean)")
        if not isinstance(self.min_group_sizes, Mapping):
            raise rules.fail("attributes", self.min_group_sizes,
                             "is not a table of minimum group sizes")
        object.__setattr__(self, "min_group_sizes", {
            str(name): min_group_size_rule(size, f"attributes.{name}.min-group-size")
            for name, size in self.min_group_sizes.items()
        })

    def min_group_size_for(self, name: str) -> int:
        """The minimum group size of one attribute or crossing: its own, else the global."""
        return self.min_group_sizes.get(name, self.min_group_size)


# --------------------------------------------------------------------------- run


@dataclass(frozen=True)
class Settings:
    """Everything `fairness-eval run` needs besides the dataset path, checked."""

    model: str = "selfie"
    # how to feed the model (--model-spec FILE or a [model] table); None: --model's defaults
    model_spec: ModelSpec | None = None
    predictions: Path | None = None  # supplied predictions (no model runs): --predictions
    out: Path | None = None
    overwrite: bool = False
    resume: bool = False
    attributes: tuple[str, ...] = ()  # empty: every attribute column
    intersect: tuple[tuple[str, ...], ...] = ()
    skip_invalid: bool = False
    mask_threshold: float = 0.5  # person probability above which a pixel is person
    threads: int = 1
    workers: int = field(default_factory=cpu_count)
    executor: str = "local"  # local processes, or dask (evaluation/executors.py)
    scheduler: str | None = None  # a Dask scheduler's address; None: a local cluster
    save_masks: bool = False
    max_pixels: int = rules.DEFAULT_MAX_PIXELS  # larger images are a validation problem
    exif: str = "ignore"  # EXIF orientation: score stored pixels, or rotate for display
    boundary_ratio: float = 0.02  # Boundary IoU's band: this share of the image diagonal
    # capture conditions (issue 13): names, severity lists overriding the defaults (from a
    # configuration file's [conditions] table), and where to save the degraded images
    conditions: tuple[str, ...] = ()
    condition_severities: Mapping[str, tuple[float, ...]] = field(default_factory=dict,
                                                                 hash=False)
    save_conditions: Path | None = None
    derive: tuple[str, ...] = ()  # attributes derived from the ground truth (data/derived.py)
    # statistics
    bootstrap: int = 10_000
    confidence: float = 0.95
    ci_method: str = "bca"
    seed: int = 0
    statistic: str = "mean"
    metric: str = "iou"  # iou | boundary_iou | flicker: what the criteria judge
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
    gate_on_conditions: bool = False  # the gate also judges disparate degradation
    adjust_for: str | None = None  # a categorical attribute to standardise the groups on
    # per attribute: {"region": {"gate": ("a", "b"), "min_group_size": 40}}; only from a file
    per_attribute: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        _apply_rules(self)
        _check_one_model(self.model, self.model_spec, self.predictions)
        if self.predictions is not None and self.conditions:
            raise UsageError("--conditions: needs a model to segment the degraded images "
                             "(--predictions supplies masks of the originals only)")
        object.__setattr__(self, "per_attribute", _per_attribute(self.per_attribute))
        self.statistics  # noqa: B018 - refuse a bad combination now, not after inference
        if self.scheduler is not None and self.executor != "dask":
            raise UsageError(f"--scheduler {self.scheduler}: needs --executor dask")

    @property
    def statistics(self) -> StatisticsSettings:
        """The slice the statistics stage reads."""
        return StatisticsSettings(
            bootstrap=self.bootstrap, confidence=self.confidence, ci_method=self.ci_method,
            seed=self.seed, statistic=self.statistic, metric=self.metric,
            reference=self.reference,
            min_group_size=self.min_group_size, sd_factor=self.sd_factor,
            sd_ddof=self.sd_ddof, inter_annotator_iou=self.inter_annotator_iou,
            intersect=self.intersect,
            min_group_sizes={name: table["min_group_size"]
                             for name, table in self.per_attribute.items()
                             if "min_group_size" in table},
        )

    def per_image_key(self) -> dict[str, Any]:
        """The settings a per-image number depends on, by their recorded names."""
        return {RECORDED_NAMES.get(name, name): getattr(self, name)
                for name in PER_IMAGE_SETTINGS}

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view by recorded names (paths as strings, tuples as lists)."""
        recorded = {RECORDED_NAMES.get(name, name): value
                    for name, value in _jsonable(asdict(self)).items()
                    if name not in RECORDED_WHEN_SET or value != _recorded_default(name)}
        if self.model_spec is not None:
            recorded["model_spec"] = self.model_spec.describe()
        if self.model_spec is not None or self.predictions is not None:
            recorded["model"] = None  # not the default name: that model did not run
        return recorded

    def severities(self) -> dict[str, tuple[float, ...]]:
        """Each chosen condition's severities, in the order chosen: the configuration's
        list where it gives one, else the condition's defaults (conditions/perturb.py)."""
        if not self.conditions:
            return {}
        from ..conditions.perturb import DEFAULT_SEVERITIES

        return {name: tuple(self.condition_severities.get(name, DEFAULT_SEVERITIES[name]))
                for name in self.conditions}

    def min_group_size_for(self, attribute: str) -> int:
        """The minimum group size of one attribute: its own table's, else the global one."""
        size = self.per_attribute.get(attribute, {}).get("min_group_size")
        return self.min_group_size if size is None else int(size)

    def gated_criteria_for(self, attribute: str) -> tuple[str, ...]:
        """The criteria the gate checks for one attribute (default: all of them)."""
        return gated_criteria({"per_attribute": self.per_attribute}, attribute)


def effective_config(settings: Settings) -> dict[str, Any]:
    """The configuration a run's numbers depend on, JSON-ready (see UNHASHED_SETTINGS)."""
    return {k: v for k, v in settings.as_dict().items() if k not in UNHASHED_SETTINGS}


def config_sha256(effective: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an effective configuration (sorted keys, compact)."""
    canonical = json.dumps(effective, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- card table


@dataclass(frozen=True)
class TableSettings:
    """Options of `card --from-table`: criteria applied to a published per-group table.

    `average` and `inter_annotator_iou` accept a fraction (0.9874), a percentage (98.74)
    or text ("98.74%") and hold the fraction; results.json records the fraction, as it
    records every IoU (the text typed is in the recorded command).
    `confidence` is the level of the table's own intervals (used for n_needed).
    """

    average: float | None = None  # None: each attribute's n- or share-weighted mean
    inter_annotator_iou: float | None = None  # None: criterion (b) is not evaluated
    units: str = "auto"
    reference: str = "overall"
    min_group_size: int = 30
    sd_factor: float = 3.0
    sd_ddof: int = 0
    confidence: float = 0.95

    def __post_init__(self) -> None:
        _apply_rules(self)

    def as_dict(self) -> dict[str, Any]:
        """The settings as results.json records them (fractions, like every IoU there)."""
        recorded = {
            "average": self.average,
            "inter_annotator_iou": self.inter_annotator_iou,
            "units": self.units, "reference": self.reference,
            "min_group_size": self.min_group_size, "sd_factor": self.sd_factor,
            "sd_ddof": self.sd_ddof,
        }
        if self.confidence != TableSettings.confidence:
            # Recorded only when changed, so that the records of earlier cards still match.
            recorded["confidence"] = self.confidence
        return _jsonable(recorded)


# --------------------------------------------------------------------------- check, compare


@dataclass(frozen=True)
class CheckOptions:
    """Options of `fairness-eval check` (and of the gate after `run --gate`)."""

    strict: bool = False
    gate_on: str = "statistical"
    # attribute -> gated criteria; None: use what the run recorded in results.json
    gated: Mapping[str, tuple[str, ...]] | None = field(default=None, hash=False)

    def __post_init__(self) -> None:
        _apply_rules(self)
        if self.gated is not None:
            object.__setattr__(self, "gated", {
                name: entry["gate"]
                for name, entry in _per_attribute(
                    {name: {"gate": gate} for name, gate in self.gated.items()}).items()
            })


@dataclass(frozen=True)
class CompareOptions:
    """Options of `fairness-eval compare`."""

    max_drop: float | None = None  # None: drops are reported, not gated
    out: Path | None = None  # None: the candidate run directory
    gate_on: str = "statistical"

    def __post_init__(self) -> None:
        _apply_rules(self)


__all__ = [
    "CI_METHODS", "CRITERIA", "CheckOptions", "CompareOptions", "FIELD_RULES", "GATE_ON",
    "METRICS", "PER_IMAGE_SETTINGS", "RECORDED_NAMES", "REFERENCES", "REPORT_FORMATS", "STATISTICS",
    "Settings", "StatisticsSettings", "TableSettings", "UNHASHED_SETTINGS", "UNITS",
    "config_sha256", "cpu_count", "effective_config", "gated_criteria", "option_name",
]
