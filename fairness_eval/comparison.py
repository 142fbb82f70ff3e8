"""Model-to-model comparison of two runs over the same images: paired change in IoU per group.

`fairness-eval compare BASELINE CANDIDATE` matches the two runs' per-image tables by image
id and refuses runs that are not over the same images (UsageError listing what differs).
For the overall set and every group of every attribute, the change in the statistic
(candidate - baseline) gets a paired bootstrap interval: the images of the group are
resampled with the same indices for both runs, so the interval reflects the change on the
same photographs, not two independent samples. Random streams, BCa and percentile
intervals come from `fairness_eval.stats.bootstrap`, with the baseline's bootstrap settings.

Gate: exit 1 when a gated group's drop exceeds `--max-drop` with confidence (the whole
interval of the change lies below -max_drop), or when the candidate violates a gated
criterion the baseline did not; every change of any fairness verdict is listed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .ci.gate import NOT_ANNOTATED, evaluate_gate
from .config.settings import CompareOptions
from .errors import UsageError
from .fairness.assess import group_labels
from .results import document as results_module
from .stats import bootstrap as stats

OVERALL = "(overall)"
COMPARISON_JSON = "comparison.json"
COMPARISON_MD = "comparison.md"
SCHEMA_VERSION = "1.0"
_SHOWN = 5  # differences listed per kind in a refusal
# Settings whose difference does not make two runs differ in what they compute.
_IGNORED_SETTINGS = ("out", "overwrite", "resume", "workers", "threads", "formats", "card",
                     "examples", "gate", "strict", "gate_on", "save_masks")


@dataclass
class Run:
    """One run directory: its results document and its evaluated rows, indexed by image."""

    path: Path
    results: dict[str, Any]
    table: pd.DataFrame  # every row of per_image.csv, indexed by image id


def load_run(run_dir: Path | str) -> Run:
    """results.json and per_image.csv of a run folder (UsageError if either is unusable)."""
    path = Path(run_dir)
    if not path.is_dir():
        raise UsageError(f"{path}: not a run folder")
    results = results_module.read_results(path)
    table = results_module.read_per_image(path)
    missing = [c for c in ("image", "status", "iou", "intersection", "union") if c not in table]
    if missing:
        raise UsageError(f"{path / results_module.PER_IMAGE_NAME}: no column(s) {missing}")
    duplicated = table["image"][table["image"].duplicated()].tolist()
    if duplicated:
        raise UsageError(
            f"{path / results_module.PER_IMAGE_NAME}: image id(s) {_listed(duplicated)} appear "
            "more than once; runs are matched by image id"
        )
    return Run(path, results, table.set_index("image", drop=False))


def check_same_images(baseline: Run, candidate: Run) -> list[str]:
    """The evaluated image ids both runs share, in baseline order.

    Raises UsageError listing every kind of difference: a different dataset, images in one
    run only, images evaluated in one run only, different image or mask content, different
    ground truth areas, different attribute values.
    """
    problems = []
    b_sha = baseline.results.get("dataset", {}).get("sha256")
    c_sha = candidate.results.get("dataset", {}).get("sha256")
    if b_sha and c_sha and b_sha != c_sha:
        problems.append(f"dataset hash differs ({b_sha[:12]} vs {c_sha[:12]})")
    b_ids, c_ids = list(baseline.table.index), list(candidate.table.index)
    c_set, b_set = set(c_ids), set(b_ids)
    only_b = [i for i in b_ids if i not in c_set]
    only_c = [i for i in c_ids if i not in b_set]
    if only_b:
        problems.append(f"{len(only_b)} image(s) only in the baseline: {_listed(only_b)}")
    if only_c:
        problems.append(f"{len(only_c)} image(s) only in the candidate: {_listed(only_c)}")
    shared = [i for i in b_ids if i in c_set]
    b, c = baseline.table.loc[shared], candidate.table.loc[shared]
    status_differs = [i for i in shared if b.at[i, "status"] != c.at[i, "status"]]
    if status_differs:
        problems.append(
            f"{len(status_differs)} image(s) evaluated in one run only: {_listed(status_differs)}"
        )
    both_ok = [i for i in shared if b.at[i, "status"] == "ok" and c.at[i, "status"] == "ok"]
    for column, what in (("content_sha256", "image or mask content"),
                         ("gt_area", "ground-truth person area")):
        if column in b and column in c:
            bv, cv = b.loc[both_ok, column], c.loc[both_ok, column]
            recorded = bv.notna() & cv.notna() & (bv.astype(str) != "") & (cv.astype(str) != "")
            differs = [i for i, d in zip(both_ok, recorded & (bv != cv), strict=True) if d]
            if differs:
                problems.append(f"{what} differs for {len(differs)} image(s): {_listed(differs)}")
    for column in _attribute_columns(baseline.results):
        if column in b and column in c:
            differs = [i for i in both_ok if b.at[i, column] != c.at[i, column]]
            if differs:
                problems.append(
                    f"attribute {column!r} differs for {len(differs)} image(s): {_listed(differs)}"
                )
    if problems:
        raise UsageError(
            f"{baseline.path} and {candidate.path} are not runs over the same images: "
            + "; ".join(problems)
        )
    if not both_ok:
        raise UsageError(f"{baseline.path} and {candidate.path}: no image evaluated in both")
    return both_ok


def _listed(ids: list[Any]) -> str:
    shown = ", ".join(str(i) for i in ids[:_SHOWN])
    return shown + (f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else "")


def _attribute_columns(results: Mapping[str, Any]) -> list[str]:
    columns: list[str] = []
    for name, block in (results.get("attributes") or {}).items():
        for column in block.get("columns") or [name]:
            if column not in columns:
                columns.append(column)
    return columns


# --------------------------------------------------------------------------- the interval

@dataclass(frozen=True)
class PairedChange:
    """Change of a statistic between two runs over the same images, with its interval."""

    n: int
    baseline: float
    candidate: float
    change: float
    ci: tuple[float, float]
    note: str | None = None


def paired_change(
    baseline: stats.Sample,
    candidate: stats.Sample,
    key: tuple[str, ...],
    *,
    seed: int = 0,
    resamples: int = 10_000,
    confidence: float = 0.95,
    method: str = "bca",
) -> PairedChange:
    """Paired bootstrap interval of candidate - baseline for one group's images.

    Both samples hold the same images in the same order; each resample draws one set of
    image indices and applies it to both, from the stream of `key` (stats.stream).
    """
    if method not in stats.CI_METHODS:
        raise ValueError(f"method must be one of {stats.CI_METHODS}, not {method!r}")
    n = baseline.n
    if candidate.n != n or n == 0:
        raise ValueError("paired samples need the same, non-zero number of images")
    b_value, c_value = baseline.value, candidate.value
    change = c_value - b_value
    base_num, base_den, cand_num, cand_den = stats.resampled_sums(
        [baseline.numerator, baseline.denominator, candidate.numerator, candidate.denominator],
        stats.stream(seed, key), resamples)
    theta_b = stats.ratio(cand_num, cand_den) - stats.ratio(base_num, base_den)
    notes = []
    if method == "percentile" or n < 2:
        intervals = stats.percentile_interval(theta_b[None, :], confidence)
    else:
        jackknife = (
            stats.ratio(candidate.numerator.sum() - candidate.numerator,
                        candidate.denominator.sum() - candidate.denominator)
            - stats.ratio(baseline.numerator.sum() - baseline.numerator,
                          baseline.denominator.sum() - baseline.denominator)
        )
        acceleration = stats.jackknife_acceleration([jackknife[None, :]])
        intervals = stats.bca_interval(np.array([change]), theta_b[None, :], acceleration,
                                       confidence)
        if intervals.bca_fallback[0]:
            notes.append("BCa undefined: percentile interval used")
    if n == 1:
        notes.insert(0, "n = 1: the interval is the single change")
    elif theta_b.min() == theta_b.max():
        notes.insert(0, "every resample gives the same change: zero-width interval")
    return PairedChange(
        n=n, baseline=float(b_value), candidate=float(c_value), change=float(change),
        ci=(float(intervals.low[0]), float(intervals.high[0])), note="; ".join(notes) or None,
    )


# --------------------------------------------------------------------------- the comparison

@dataclass
class Comparison:
    """The comparison document and the gate's outcome."""

    document: dict[str, Any]
    failures: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    def closing_lines(self) -> list[str]:
        doc = self.document
        lines = [f"verdict change: {_describe_change(v)}" for v in doc["verdict_changes"]]
        lines += [f"FAIL {line}" for line in self.failures]
        changes = _all_groups(doc)
        worse = sum(g["direction"] == "worse" for g in changes)
        better = sum(g["direction"] == "better" for g in changes)
        tolerance = "not gated (no --max-drop)" if doc["max_drop"] is None else (
            f"max drop {doc['max_drop']:.4f}")
        summary = (f"{len(changes)} groups over {doc['images']} images: {worse} worse, "
                   f"{better} better with {doc['bootstrap']['confidence']:.0%} confidence; "
                   f"{tolerance}; {len(doc['verdict_changes'])} verdict change(s)")
        status = "FAILED" if self.failures else "passed"
        lines.append(f"comparison gate: {status} ({summary})")
        return lines


def _all_groups(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    groups = [doc["overall"]]
    for block in doc["attributes"].values():
        groups.extend(block["groups"].values())
    return groups


def _describe_change(v: Mapping[str, Any]) -> str:
    where = v["attribute"] + (f" / {v['group']}" if v.get("group") is not None else "")
    what = f"criterion ({v['criterion']}) {v['kind']}" if v.get("criterion") else "verdict"
    return f"{where}: {what} {v['baseline']} -> {v['candidate']}"


def compare_runs(
    baseline_dir: Path | str, candidate_dir: Path | str, options: CompareOptions | None = None
) -> Comparison:
    """Compare two runs over the same images (see the module docstring)."""
    options = CompareOptions() if options is None else options
    baseline, candidate = load_run(baseline_dir), load_run(candidate_dir)
    images = check_same_images(baseline, candidate)
    b_table, c_table = baseline.table.loc[images], candidate.table.loc[images]
    boot = _bootstrap_settings(baseline.results)

    def change_of(mask: np.ndarray, key: tuple[str, ...]) -> PairedChange:
        return paired_change(
            _sample(b_table[mask], boot["statistic"]), _sample(c_table[mask], boot["statistic"]),
            key, seed=boot["seed"], resamples=boot["resamples"],
            confidence=boot["confidence"], method=boot["method"],
        )

    everyone = np.ones(len(images), dtype=bool)
    overall = _group_entry(OVERALL, OVERALL, change_of(everyone, ("compare", OVERALL)),
                           gated=True, max_drop=options.max_drop)
    attributes: dict[str, Any] = {}
    c_attributes = candidate.results.get("attributes") or {}
    for name, block in (baseline.results.get("attributes") or {}).items():
        if name not in c_attributes:
            continue
        labels = _group_labels(b_table, name, block)
        groups: dict[str, Any] = {}
        for group in _ordered_groups(labels, block):
            recorded = (block.get("groups") or {}).get(group) or {}
            gated = bool(recorded.get("gated", group != NOT_ANNOTATED))
            mask = (labels == group).to_numpy()
            groups[group] = _group_entry(
                name, group, change_of(mask, ("compare", name, group)),
                gated=gated and group != NOT_ANNOTATED, max_drop=options.max_drop,
            )
        attributes[name] = {"kind": block.get("kind", "attribute"), "groups": groups}

    verdict_changes = _verdict_changes(baseline.results, candidate.results)
    failures = [
        f"{_where(g)}: IoU dropped by {-g['change']:.4f} "
        f"[{boot['confidence']:.0%} CI of the change {g['change_ci'][0]:+.4f}, "
        f"{g['change_ci'][1]:+.4f}], beyond the tolerated {options.max_drop:.4f} "
        f"(baseline {g['baseline']:.4f}, candidate {g['candidate']:.4f}, n {g['n']})"
        for g in [overall] + [g for a in attributes.values() for g in a["groups"].values()]
        if g["drop_beyond_tolerance"] and g["gated"]
    ]
    failures += _new_violations(baseline.results, candidate.results, options.gate_on)
    document = {
        "schema_version": SCHEMA_VERSION,
        "kind": "comparison",
        "baseline": _run_summary(baseline),
        "candidate": _run_summary(candidate),
        "images": len(images),
        "bootstrap": boot,
        "max_drop": options.max_drop,
        "gate_on": options.gate_on,
        "settings_changed": _settings_changed(baseline.results, candidate.results),
        "attributes_only_in_baseline": sorted(set(baseline.results.get("attributes") or {})
                                              - set(c_attributes)),
        "attributes_only_in_candidate": sorted(set(c_attributes)
                                               - set(baseline.results.get("attributes") or {})),
        "overall": overall,
        "attributes": attributes,
        "verdict_changes": verdict_changes,
        "failures": failures,
        "exit_code": 1 if failures else 0,
    }
    return Comparison(document=results_module.to_jsonable(document), failures=failures)


def _where(entry: Mapping[str, Any]) -> str:
    if entry["attribute"] == OVERALL:
        return "overall"
    return f"{entry['attribute']} / {entry['group']}"


def _bootstrap_settings(results: Mapping[str, Any]) -> dict[str, Any]:
    recorded = results.get("bootstrap") or {}
    settings = results.get("settings") or {}
    return {
        "method": recorded.get("method", settings.get("ci_method", "bca")),
        "resamples": int(recorded.get("resamples", settings.get("bootstrap", 10_000))),
        "confidence": float(recorded.get("confidence", settings.get("confidence", 0.95))),
        "seed": int(recorded.get("seed", settings.get("seed", 0))),
        "statistic": recorded.get("statistic", settings.get("statistic", "mean")),
    }


def _sample(table: pd.DataFrame, statistic: str) -> stats.Sample:
    if statistic == "pooled":
        return stats.make_sample("pooled", intersection=table["intersection"].to_numpy(float),
                                 union=table["union"].to_numpy(float))
    return stats.make_sample("mean", iou=table["iou"].to_numpy(float))


def _group_labels(table: pd.DataFrame, name: str, block: Mapping[str, Any]) -> pd.Series:
    """Each image's group in one attribute (or intersection), named as results.json names it."""
    columns = list(block.get("columns") or [name])
    missing = [c for c in columns if c not in table]
    if missing:
        raise UsageError(f"per_image.csv has no column(s) {missing} for attribute {name!r}")
    return pd.Series(group_labels(table, columns), index=table.index)


def _ordered_groups(labels: pd.Series, block: Mapping[str, Any]) -> list[str]:
    present = set(labels)
    recorded = [g for g in (block.get("groups") or {}) if g in present]
    rest = sorted(present - set(recorded), key=lambda g: (g == NOT_ANNOTATED, g))
    return recorded + rest


def _group_entry(attribute: str, group: str, change: PairedChange, *, gated: bool,
                 max_drop: float | None) -> dict[str, Any]:
    low, high = change.ci
    beyond = max_drop is not None and high < -max_drop
    direction = "worse" if high < 0 else "better" if low > 0 else "no clear change"
    return {
        "attribute": attribute, "group": group, "n": change.n,
        "baseline": change.baseline, "candidate": change.candidate,
        "change": change.change, "change_ci": [low, high],
        "direction": direction, "gated": gated, "drop_beyond_tolerance": beyond,
        "note": change.note,
    }


def _verdict_changes(b: Mapping[str, Any], c: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every difference in an attribute verdict or a group's point / statistical verdict."""
    changes = []
    c_attributes = c.get("attributes") or {}
    for name, b_block in (b.get("attributes") or {}).items():
        c_block = c_attributes.get(name)
        if c_block is None:
            continue
        if b_block.get("verdict") != c_block.get("verdict"):
            changes.append({"attribute": name, "group": None, "criterion": None,
                            "kind": "attribute", "baseline": b_block.get("verdict"),
                            "candidate": c_block.get("verdict")})
        c_groups = c_block.get("groups") or {}
        for group, b_group in (b_block.get("groups") or {}).items():
            c_group = c_groups.get(group) or {}
            for criterion in ("a", "b"):
                b_v = (b_group.get("verdicts") or {}).get(criterion) or {}
                c_v = (c_group.get("verdicts") or {}).get(criterion) or {}
                for kind in ("statistical", "point"):
                    if b_v.get(kind) != c_v.get(kind):
                        changes.append({"attribute": name, "group": group,
                                        "criterion": criterion, "kind": kind,
                                        "baseline": b_v.get(kind), "candidate": c_v.get(kind)})
    return changes


def _new_violations(b: Mapping[str, Any], c: Mapping[str, Any], gate_on: str) -> list[str]:
    """Gated checks the candidate fails and the baseline did not (inconclusive never fails)."""
    before = {(x.attribute, x.group, x.criterion)
              for x in evaluate_gate(b, gate_on=gate_on).failures}
    after = evaluate_gate(c, gate_on=gate_on)
    return [
        f"new violation: {x.describe(after.confidence, gate_on)}"
        for x in after.failures if (x.attribute, x.group, x.criterion) not in before
    ]


def _run_summary(run: Run) -> dict[str, Any]:
    model = run.results.get("model") or {}
    return {
        "run_dir": str(run.path),
        "model": {"name": model.get("name"), "sha256": model.get("sha256")},
        "dataset": (run.results.get("dataset") or {}).get("name"),
        "threshold": (run.results.get("settings") or {}).get("threshold"),
        "started": run.results.get("started"),
    }


def _settings_changed(b: Mapping[str, Any], c: Mapping[str, Any]) -> dict[str, list[Any]]:
    b_settings, c_settings = b.get("settings") or {}, c.get("settings") or {}
    changed = {
        key: [b_settings.get(key), c_settings.get(key)]
        for key in sorted(set(b_settings) | set(c_settings))
        if key not in _IGNORED_SETTINGS and b_settings.get(key) != c_settings.get(key)
    }
    b_model, c_model = (b.get("model") or {}).get("sha256"), (c.get("model") or {}).get("sha256")
    if b_model != c_model:
        changed["model_sha256"] = [b_model, c_model]
    return changed


# --------------------------------------------------------------------------- output

def comparison_markdown(document: Mapping[str, Any]) -> str:
    """comparison.md: settings that changed, per-group change with intervals, verdict changes."""
    doc = document
    confidence = doc["bootstrap"]["confidence"]
    statistic = "mean IoU" if doc["bootstrap"]["statistic"] == "mean" else "pooled IoU"
    lines = [
        "# Model comparison",
        "",
        f"Baseline `{doc['baseline']['run_dir']}` vs candidate `{doc['candidate']['run_dir']}`, "
        f"{doc['images']} images matched by id. Change = candidate - baseline in {statistic}, "
        f"with its paired {confidence:.0%} bootstrap interval ({doc['bootstrap']['method']}, "
        f"{doc['bootstrap']['resamples']} resamples, seed {doc['bootstrap']['seed']}).",
        "",
    ]
    if doc["settings_changed"]:
        lines.append("Changed between the runs: " + "; ".join(
            f"{k} {_short(v[0])} -> {_short(v[1])}" for k, v in doc["settings_changed"].items()
        ) + ".")
        lines.append("")
    if doc["max_drop"] is not None:
        lines.append(f"Tolerated drop: {doc['max_drop']:.4f}; a gated group fails when the "
                     "whole interval of its change lies below minus that.")
        lines.append("")
    header = ["| group | n | baseline | candidate | change | "
              f"{confidence:.0%} CI | |", "|---|---|---|---|---|---|---|"]
    sections = [("Overall", {OVERALL: doc["overall"]})] + [
        (name, block["groups"]) for name, block in doc["attributes"].items()
    ]
    for title, groups in sections:
        lines += [f"## {title}", "", *header]
        for group, g in groups.items():
            flag = g["direction"]
            if g["drop_beyond_tolerance"]:
                flag = "**drop beyond tolerance**" + ("" if g["gated"] else " (not gated)")
            lines.append(
                f"| {group.replace('|', '/')} | {g['n']} | {g['baseline']:.4f} | "
                f"{g['candidate']:.4f} | {g['change']:+.4f} | "
                f"[{g['change_ci'][0]:+.4f}, {g['change_ci'][1]:+.4f}] | {flag} |"
            )
        lines.append("")
    lines += ["## Fairness verdict changes", ""]
    if doc["verdict_changes"]:
        lines += [f"- {_describe_change(v)}" for v in doc["verdict_changes"]]
    else:
        lines.append("No fairness verdict changed.")
    lines.append("")
    lines += ["## Gate", ""]
    lines += [f"- FAIL {f}" for f in doc["failures"]] or ["Passed."]
    return "\n".join(lines) + "\n"


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= 24 else text[:12] + "..."


def write_comparison(comparison: Comparison, out_dir: Path | str) -> tuple[Path, Path]:
    """Write comparison.json and comparison.md into `out_dir` (created if needed)."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        json_path, md_path = out_dir / COMPARISON_JSON, out_dir / COMPARISON_MD
        json_path.write_text(json.dumps(comparison.document, indent=2, ensure_ascii=False,
                                        allow_nan=False) + "\n", encoding="utf-8")
        md_path.write_text(comparison_markdown(comparison.document), encoding="utf-8")
    except OSError as error:
        raise UsageError(f"--out: cannot write to {out_dir} ({error.strerror or error})") from None
    return json_path, md_path


def run_compare(
    baseline_dir: Path | str,
    candidate_dir: Path | str,
    options: CompareOptions | None = None,
    *,
    echo: Callable[[str], None] = print,
) -> int:
    """Everything `fairness-eval compare` does; returns the exit code (0 or 1)."""
    options = CompareOptions() if options is None else options
    comparison = compare_runs(baseline_dir, candidate_dir, options)
    out_dir = options.out if options.out is not None else Path(candidate_dir)
    json_path, md_path = write_comparison(comparison, out_dir)
    echo(f"wrote {md_path} and {json_path}")
    for line in comparison.closing_lines():
        echo(line)
    return comparison.exit_code
