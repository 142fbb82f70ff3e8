"""Model-to-model comparison: match two runs image by image and measure each group's change.

Two runs are compared only when they scored the same images (for video runs: the same
clips, matched by name in per_clip.csv) and judged the same metric: `check_same_images`
refuses anything else with a UsageError listing every kind of difference. For the overall
set and every group of every attribute, the change in the statistic of the judged metric
(candidate - baseline) gets a paired bootstrap interval (stats/paired.py) with the
baseline's bootstrap settings; clips resample whole, as in the runs. A gated group fails
when the whole interval of its change lies beyond the tolerated worsening: below -max_drop,
or, for a metric where lower is better (flicker), above +max_drop. Every change of a
fairness verdict is listed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import UsageError
from ..results import document as results_io
from ..results.assessment import AttributeAssessment
from ..results.comparison_record import (
    OVERALL,
    AttributeChanges,
    GroupChange,
    RunSummary,
    VerdictChange,
)
from ..results.labels import group_labels_and_missing
from ..results.names import (
    CRITERIA,
    IMAGE_COLUMN,
    LOWER_IS_BETTER_METRICS,
    METRIC_LABELS,
    PER_CLIP_FILE,
    STATUS_COLUMN,
    STATUS_OK,
)
from ..results.schema import BootstrapRecord, ResultsDocument
from ..results.video_tables import is_video_run, read_per_clip, read_per_frame
from ..stats.paired import PairedChange, paired_change
from .rows import sample_of

_SHOWN = 5  # differences listed per kind in a refusal
# Settings whose difference does not make two runs differ in what they compute.
IGNORED_SETTINGS = ("out", "overwrite", "resume", "workers", "threads", "formats", "card",
                    "examples", "gate", "strict", "gate_on", "save_masks", "executor",
                    "scheduler")
_TABLE_COLUMNS = (IMAGE_COLUMN, STATUS_COLUMN, "iou", "intersection", "union")
CLIP_COLUMN = "clip"  # per_clip.csv's key: a video run's "image" id


@dataclass(frozen=True)
class Run:
    """One run folder: its results document and its per-image rows, indexed by image id."""

    path: Path
    results: ResultsDocument
    table: pd.DataFrame  # per_image.csv, or per_clip.csv (clip also as image) for video

    @property
    def unit(self) -> str:
        """What the table's rows are: "image", or "clip" for a video run."""
        return self.results.unit

    def summary(self) -> RunSummary:
        model, dataset = self.results.model, self.results.dataset
        return RunSummary(run_dir=str(self.path), model_name=model.name if model else None,
                          model_sha256=model.sha256 if model else None,
                          dataset=dataset.name if dataset else None,
                          mask_threshold=self.results.settings.mask_threshold,
                          started=self.results.started)


def load_run(run_dir: Path | str) -> Run:
    """results.json and per_image.csv of a run folder, or per_clip.csv of a video run
    (UsageError if either is unusable)."""
    path = Path(run_dir)
    if not path.is_dir():
        raise UsageError(f"{path}: not a run folder")
    results = results_io.read_results(path)
    if results.unit == "clip" or is_video_run(path):
        table, csv = _clip_table(path), path / PER_CLIP_FILE
        needed: tuple[str, ...] = (IMAGE_COLUMN, STATUS_COLUMN)
    else:
        table, csv = results_io.read_per_image(path), path / results_io.PER_IMAGE_NAME
        needed = _TABLE_COLUMNS
    missing = [c for c in dict.fromkeys((*needed, results.metric)) if c not in table]
    if missing:
        raise UsageError(f"{csv}: no column(s) {missing}")
    duplicated = table[IMAGE_COLUMN][table[IMAGE_COLUMN].duplicated()].tolist()
    if duplicated:
        noun = "clip" if csv.name == PER_CLIP_FILE else "image id"
        raise UsageError(f"{csv}: {noun}(s) {_listed(duplicated)} appear more than once; "
                         f"runs are matched by {noun}")
    return Run(path, results, table.set_index(IMAGE_COLUMN, drop=False))


def _clip_table(path: Path) -> pd.DataFrame:
    """per_clip.csv keyed like per_image.csv (the clip as image id), with each clip's
    intersection and union summed over its scored frames (per_frame.csv) for the pooled
    statistic, as the run's own statistics took them."""
    table = read_per_clip(path)
    if CLIP_COLUMN not in table:
        raise UsageError(f"{path / PER_CLIP_FILE}: no column 'clip'")
    frames = read_per_frame(path)
    scored = frames[frames[STATUS_COLUMN] == STATUS_OK]
    sums = scored.groupby(CLIP_COLUMN)[["intersection", "union"]].sum()
    table[IMAGE_COLUMN] = table[CLIP_COLUMN]
    for column in ("intersection", "union"):
        table[column] = table[CLIP_COLUMN].map(sums[column]).fillna(0).astype(float)
    return table


def check_same_images(baseline: Run, candidate: Run) -> list[str]:
    """The evaluated image ids both runs share, in baseline order.

    Raises UsageError listing every kind of difference: a different judged metric or unit
    (images, clips), a different dataset, images in one run only, images evaluated in one
    run only, different image or mask content, different ground truth areas, different
    attribute values. Images (clips) without a value of the judged metric in either run
    (flicker needs two scored frames with a person) are left out, as the runs left them out.
    """
    b_doc, c_doc = baseline.results, candidate.results
    if (b_doc.metric, b_doc.unit) != (c_doc.metric, c_doc.unit):
        raise UsageError(
            f"{baseline.path} judged {b_doc.metric} per {b_doc.unit}, {candidate.path} "
            f"{c_doc.metric} per {c_doc.unit}: compare runs of the same kind judged by the "
            "same --metric")
    noun = f"{baseline.unit}(s)"
    problems = []
    b_sha = baseline.results.dataset.sha256 if baseline.results.dataset else None
    c_sha = candidate.results.dataset.sha256 if candidate.results.dataset else None
    if b_sha and c_sha and b_sha != c_sha:
        problems.append(f"dataset hash differs ({b_sha[:12]} vs {c_sha[:12]})")
    b_ids, c_ids = list(baseline.table.index), list(candidate.table.index)
    c_set, b_set = set(c_ids), set(b_ids)
    only_b = [i for i in b_ids if i not in c_set]
    only_c = [i for i in c_ids if i not in b_set]
    if only_b:
        problems.append(f"{len(only_b)} {noun} only in the baseline: {_listed(only_b)}")
    if only_c:
        problems.append(f"{len(only_c)} {noun} only in the candidate: {_listed(only_c)}")
    shared = [i for i in b_ids if i in c_set]
    b, c = baseline.table.loc[shared], candidate.table.loc[shared]
    status_differs = [i for i in shared if b.at[i, STATUS_COLUMN] != c.at[i, STATUS_COLUMN]]
    if status_differs:
        problems.append(
            f"{len(status_differs)} {noun} evaluated in one run only: {_listed(status_differs)}"
        )
    both_ok = [i for i in shared
               if b.at[i, STATUS_COLUMN] == STATUS_OK and c.at[i, STATUS_COLUMN] == STATUS_OK]
    for column, what in (("content_sha256", "image or mask content"),
                         ("gt_area", "ground-truth person area")):
        if column in b and column in c:
            bv, cv = b.loc[both_ok, column], c.loc[both_ok, column]
            recorded = bv.notna() & cv.notna() & (bv.astype(str) != "") & (cv.astype(str) != "")
            differs = [i for i, d in zip(both_ok, recorded & (bv != cv), strict=True) if d]
            if differs:
                problems.append(f"{what} differs for {len(differs)} {noun}: {_listed(differs)}")
    for column in _attribute_columns(baseline.results):
        if column in b and column in c:
            differs = [i for i in both_ok if b.at[i, column] != c.at[i, column]]
            if differs:
                problems.append(
                    f"attribute {column!r} differs for {len(differs)} {noun}: {_listed(differs)}"
                )
    if problems:
        raise UsageError(
            f"{baseline.path} and {candidate.path} are not runs over the same "
            f"{baseline.unit}s: " + "; ".join(problems)
        )
    metric = b_doc.metric
    judged = [i for i in both_ok
              if np.isfinite(pd.to_numeric(b.at[i, metric], errors="coerce"))
              and np.isfinite(pd.to_numeric(c.at[i, metric], errors="coerce"))]
    if not judged:
        raise UsageError(f"{baseline.path} and {candidate.path}: no {baseline.unit} "
                         f"evaluated in both{'' if metric == 'iou' else f' with a {metric}'}")
    return judged


def _listed(ids: list[Any]) -> str:
    shown = ", ".join(str(i) for i in ids[:_SHOWN])
    return shown + (f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else "")


def _attribute_columns(results: ResultsDocument) -> list[str]:
    columns: list[str] = []
    for block in results.attributes.values():
        for column in block.columns or (block.name,):
            if column not in columns:
                columns.append(column)
    return columns


def bootstrap_settings(results: ResultsDocument) -> BootstrapRecord:
    """The baseline's bootstrap (its recorded one, else its settings): every paired interval
    is drawn with it."""
    recorded = results.bootstrap or BootstrapRecord()
    settings = results.settings.values

    def pick(value: Any, key: str, default: Any) -> Any:
        return value if value is not None else settings.get(key, default)

    return BootstrapRecord(
        method=pick(recorded.method, "ci_method", "bca"),
        resamples=int(pick(recorded.resamples, "bootstrap", 10_000)),
        confidence=float(pick(recorded.confidence, "confidence", 0.95)),
        seed=int(pick(recorded.seed, "seed", 0)),
        statistic=pick(recorded.statistic, "statistic", "mean"),
        metric=results.metric,
        unit=results.unit,
    )


def group_changes(baseline: Run, candidate: Run, images: list[str], boot: BootstrapRecord,
                  max_drop: float | None) -> tuple[GroupChange, dict[str, AttributeChanges]]:
    """The overall change and, per attribute both runs assessed, each group's change, in
    the statistic of the judged metric (`boot.metric`)."""
    b_table, c_table = baseline.table.loc[images], candidate.table.loc[images]
    metric = boot.metric or "iou"
    lower_is_better = metric in LOWER_IS_BETTER_METRICS

    def change_of(mask: np.ndarray, key: tuple[str, ...]) -> PairedChange:
        return paired_change(
            sample_of(b_table[mask], boot.statistic, metric),
            sample_of(c_table[mask], boot.statistic, metric),
            key, seed=boot.seed, resamples=boot.resamples, confidence=boot.confidence,
            method=boot.method,
        )

    everyone = np.ones(len(images), dtype=bool)
    overall = _group_change(OVERALL, OVERALL, change_of(everyone, ("compare", OVERALL)),
                            gated=True, max_drop=max_drop, lower_is_better=lower_is_better)
    attributes: dict[str, AttributeChanges] = {}
    for name, block in baseline.results.attributes.items():
        if name not in candidate.results.attributes:
            continue
        labels, not_annotated = _labels(b_table, block)
        groups: dict[str, GroupChange] = {}
        for group in _ordered_groups(labels, block, not_annotated):
            recorded = block.groups.get(group)
            # the not-annotated group by the images' missing values and the recorded flag,
            # never by its name: a group in the data may be named "(not annotated)"
            gated = group != not_annotated and (
                recorded is None or (recorded.gated and not recorded.is_not_annotated))
            mask = (labels == group).to_numpy()
            groups[group] = _group_change(
                name, group, change_of(mask, ("compare", name, group)),
                gated=gated, max_drop=max_drop,
                lower_is_better=lower_is_better,
            )
        attributes[name] = AttributeChanges(kind=block.kind, groups=groups)
    return overall, attributes


def _labels(table: pd.DataFrame, block: AttributeAssessment) -> tuple[pd.Series, str | None]:
    """Each image's group in one attribute (or intersection), named as results.json names it,
    and the label of the images without a value (None when every image has one)."""
    columns = list(block.columns or (block.name,))
    absent = [c for c in columns if c not in table]
    if absent:
        raise UsageError(f"per_image.csv has no column(s) {absent} for attribute {block.name!r}")
    labels, missing = group_labels_and_missing(table, columns)
    if not missing.any():
        return pd.Series(labels, index=table.index), None
    # the images compared may be fewer than those assessed: keep results.json's name for
    # the not-annotated group unless one of these images' values takes it
    recorded = [g for g, result in block.groups.items() if result.is_not_annotated]
    fill = recorded[0] if recorded and recorded[0] not in set(labels[~missing]) \
        else str(labels[missing][0])
    labels[missing] = fill
    return pd.Series(labels, index=table.index), fill


def _ordered_groups(labels: pd.Series, block: AttributeAssessment,
                    not_annotated: str | None) -> list[str]:
    present = set(labels)
    recorded = [g for g in block.groups if g in present]
    rest = sorted(present - set(recorded), key=lambda g: (g == not_annotated, g))
    return recorded + rest


def _group_change(attribute: str, group: str, change: PairedChange, *, gated: bool,
                  max_drop: float | None, lower_is_better: bool = False) -> GroupChange:
    """The change with its reading: where lower is better (flicker), a rise is the worsening
    and the "drop" that --max-drop tolerates."""
    low, high = change.ci
    # The interval of the worsening: the change itself where lower is better, else its
    # negative (a drop in IoU).
    least, most = (low, high) if lower_is_better else (-high, -low)
    direction = "worse" if least > 0 else "better" if most < 0 else "no clear change"
    return GroupChange(
        attribute=attribute, group=group, n=int(change.n), baseline=change.baseline,
        candidate=change.candidate, change=change.change, change_ci=(low, high),
        direction=direction, gated=gated,
        drop_beyond_tolerance=max_drop is not None and least > max_drop, note=change.note,
    )


def drop_failures(changes: list[GroupChange], boot: BootstrapRecord, max_drop: float | None
                  ) -> list[str]:
    """A line per gated group whose whole interval of change lies beyond the tolerated
    worsening (below -max_drop; above +max_drop where lower is better). A person reads it:
    figures in %, changes in percentage points (comparison.json's numbers stay fractions)."""
    metric = boot.metric or "iou"
    label = METRIC_LABELS.get(metric, metric)
    rose = metric in LOWER_IS_BETTER_METRICS
    return [
        f"{g.where}: {label} {'rose' if rose else 'dropped'} by "
        f"{100 * (g.change if rose else -g.change):.2f} pt "
        f"[{boot.confidence:.0%} CI of the change {100 * g.change_ci[0]:+.2f}, "
        f"{100 * g.change_ci[1]:+.2f} pt], beyond the tolerated {100 * max_drop:.2f} pt "
        f"(baseline {100 * g.baseline:.2f} %, candidate {100 * g.candidate:.2f} %, n {g.n})"
        for g in changes if g.drop_beyond_tolerance and g.gated
    ]


def verdict_changes(b: ResultsDocument, c: ResultsDocument) -> list[VerdictChange]:
    """Every difference in an attribute verdict or a group's point / statistical verdict."""
    changes = []
    for name, b_block in b.attributes.items():
        c_block = c.attributes.get(name)
        if c_block is None:
            continue
        if b_block.verdict != c_block.verdict:
            changes.append(VerdictChange(name, None, None, "attribute", b_block.verdict,
                                         c_block.verdict))
        for group, b_group in b_block.groups.items():
            c_group = c_block.groups.get(group)
            for criterion in CRITERIA:
                b_v = b_group.verdict(criterion)
                c_v = c_group.verdict(criterion) if c_group is not None else None
                for kind in ("statistical", "point"):
                    before, after = b_v.form(kind), c_v.form(kind) if c_v else None
                    if before != after:
                        changes.append(VerdictChange(name, group, criterion, kind, before, after))
    return changes


def new_violations(b: ResultsDocument, c: ResultsDocument,
                   failures_of: Callable[[ResultsDocument], list[tuple[tuple[str, ...], str]]]
                   ) -> list[str]:
    """Gated checks the candidate fails and the baseline did not.

    `failures_of` lists a document's failing checks as ((attribute, group, criterion),
    description) under the comparison's gate policy (the gate lives downstream, in ci/).
    """
    before = {key for key, _ in failures_of(b)}
    return [f"new violation: {text}" for key, text in failures_of(c) if key not in before]


def settings_changed(b: ResultsDocument, c: ResultsDocument) -> dict[str, tuple[Any, Any]]:
    """Settings (and the model file) that differ between the runs, beyond where and how fast."""
    b_settings, c_settings = b.settings.values, c.settings.values
    changed = {
        key: (b_settings.get(key), c_settings.get(key))
        for key in sorted(set(b_settings) | set(c_settings))
        if key not in IGNORED_SETTINGS and b_settings.get(key) != c_settings.get(key)
    }
    b_model = b.model.sha256 if b.model else None
    c_model = c.model.sha256 if c.model else None
    if b_model != c_model:
        changed["model_sha256"] = (b_model, c_model)
    return changed
