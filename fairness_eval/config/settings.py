"""The settings of `fairness-eval run` as a typed record, checked once, when constructed.

`Settings` is everything `run` needs besides the dataset path; `StatisticsSettings` is
the slice the statistics stage reads (`Settings.statistics`). Every field passes through
the rule of its name (`field_rules.py`) on construction, also by `dataclasses.replace`:
values are converted there (text from the command line, a percentage to a fraction) and a
bad one is refused with the same one-line message whoever gave it. A record that exists is
valid, so no stage downstream checks a setting again.

`Settings.as_dict` is what results.json records, by the names and rules of `recording.py`.
The records of the other commands are in `command_options.py`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..metrics.catalogue import BOUNDARY_RATIO
from ..results.names import CRITERIA
from . import rules
from .field_rules import apply_rules, min_group_size_rule, per_attribute_tables
from .recording import (
    PER_IMAGE_SETTINGS,
    RECORDED_NAMES,
    RECORDED_WHEN_SET,
    gated_criteria,
    json_ready,
)

if TYPE_CHECKING:
    from ..models.spec import ModelSpec


def cpu_count() -> int:
    """The cores this process may run on (the default number of workers)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


def _recorded_default(name: str) -> Any:
    """A Settings field's default as results.json would record it."""
    item = next(f for f in fields(Settings) if f.name == name)
    default = item.default_factory() if item.default is MISSING else item.default
    return json_ready(default)


def _check_one_model(model: str, model_spec: Any, predictions: Path | None) -> None:
    """One source of predictions: --model, --model-spec (or [model]) or --predictions."""
    default_model = next(f.default for f in fields(Settings) if f.name == "model")
    given = [option for option, value in (("--model", model != default_model),
                                          ("--model-spec", model_spec is not None),
                                          ("--predictions", predictions is not None)) if value]
    if len(given) > 1:
        raise UsageError(f"{given[0]} and {given[1]}: give only one "
                         "(a model name or file, a model spec, or a folder of predictions)")


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
    familywise: str = "holm"
    inter_annotator_iou: float | None = None  # None: from the per-image table, if any
    intersect: tuple[tuple[str, ...], ...] = ()
    # attribute or crossing name ("region×skin_tone") -> its own minimum group size
    min_group_sizes: Mapping[str, int] = field(default_factory=dict, hash=False)
    # attribute or crossing name -> the criteria the gate checks (default: both); the
    # family-wise control counts only the checks the gate will read
    gated_criteria: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        apply_rules(self)
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

    def gated_criteria_for(self, name: str) -> tuple[str, ...]:
        """The criteria the gate checks for one attribute or crossing (default: all)."""
        return tuple(self.gated_criteria.get(name, CRITERIA))


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
    # evaluate a part of the dataset: its first N rows, or N rows drawn with --seed
    # (data/subset.py); None: every row
    limit: int | None = None
    sample: int | None = None
    mask_threshold: float = 0.5  # person probability above which a pixel is person
    # masks (and supplied predictions) are label indices, person where value == N; None:
    # 8-bit masks, >= 128 is person (data/maskfile.py)
    mask_person_value: int | None = None
    threads: int = 1
    workers: int = field(default_factory=cpu_count)
    executor: str = "local"  # local processes, or dask (evaluation/executors.py)
    scheduler: str | None = None  # a Dask scheduler's address; None: a local cluster
    save_masks: bool = False
    max_pixels: int = rules.DEFAULT_MAX_PIXELS  # larger images are a validation problem
    exif: str = "ignore"  # EXIF orientation: score stored pixels, or rotate for display
    boundary_ratio: float = BOUNDARY_RATIO  # Boundary IoU's band: a share of the diagonal
    # capture conditions: names, severity lists overriding the defaults (from a
    # configuration file's [conditions] table), and where to save the degraded images
    conditions: tuple[str, ...] = ()
    condition_severities: Mapping[str, tuple[float, ...]] = field(default_factory=dict,
                                                                 hash=False)
    save_conditions: Path | None = None
    derive: tuple[str, ...] = ()  # attributes derived from the ground truth (data/derived.py)
    # attributes labelled from annotators' votes (data/vote_labels.py): the votes' file, the
    # Label Studio task key naming the image, and how votes become one label
    attribute_votes: Path | None = None
    votes_image_key: str = "image"
    labels: str = "majority"
    # statistics
    bootstrap: int = 10_000
    confidence: float = 0.95
    ci_method: str = "bca"
    seed: int = 0
    statistic: str = "mean"
    metric: str = "iou"  # what the criteria judge: a name of metrics/catalogue.py
    reference: str = "overall"
    min_group_size: int = 30
    sd_factor: float = 3.0
    sd_ddof: int = 0
    familywise: str = "holm"
    inter_annotator_iou: float | None = None
    # reports and gate
    formats: tuple[str, ...] = ("html", "pdf")
    card: Path | None = None
    examples: int = 0
    # published reports name files relative to the dataset or by name, never by an
    # absolute path (report/redaction.py); results.json keeps the full paths
    redact_paths: bool = True
    gate: bool = False
    strict: bool = False
    gate_on: str = "statistical"
    allow_empty_gate: bool = False  # a gate with no gated check passes instead of exiting 2
    gate_on_conditions: bool = False  # the gate also judges disparate degradation
    adjust_for: str | None = None  # a categorical attribute to standardise the groups on
    # per attribute: {"region": {"gate": ("a", "b"), "min_group_size": 40}}; only from a file
    per_attribute: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        apply_rules(self)
        _check_one_model(self.model, self.model_spec, self.predictions)
        if self.predictions is not None and self.conditions:
            raise UsageError("--conditions: needs a model to segment the degraded images "
                             "(--predictions supplies masks of the originals only)")
        if self.save_conditions is not None and not self.conditions:
            raise UsageError(f"--save-conditions {self.save_conditions}: needs --conditions "
                             "(it writes the images degraded under them)")
        object.__setattr__(self, "per_attribute", per_attribute_tables(self.per_attribute))
        self.statistics  # noqa: B018 - refuse a bad combination now, not after inference
        if self.limit is not None and self.sample is not None:
            raise UsageError(f"--limit {self.limit} and --sample {self.sample}: give only one "
                             "(the first N rows, or N rows drawn with --seed)")
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
            sd_ddof=self.sd_ddof, familywise=self.familywise,
            inter_annotator_iou=self.inter_annotator_iou,
            intersect=self.intersect,
            min_group_sizes={name: table["min_group_size"]
                             for name, table in self.per_attribute.items()
                             if "min_group_size" in table},
            gated_criteria={name: tuple(table["gate"])
                            for name, table in self.per_attribute.items() if "gate" in table},
        )

    def per_image_key(self) -> dict[str, Any]:
        """The settings a per-image number depends on, by their recorded names."""
        return {RECORDED_NAMES.get(name, name): getattr(self, name)
                for name in PER_IMAGE_SETTINGS}

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view by recorded names (paths as strings, tuples as lists)."""
        recorded = {RECORDED_NAMES.get(name, name): value
                    for name, value in json_ready(asdict(self)).items()
                    if name not in RECORDED_WHEN_SET or value != _recorded_default(name)}
        if self.attribute_votes is not None or any(
                table.get("votes") == "counts" for table in self.per_attribute.values()):
            recorded["labels"] = self.labels  # the policy matters, default or not
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


__all__ = ["Settings", "StatisticsSettings", "cpu_count"]
