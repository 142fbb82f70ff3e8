"""A run over a video dataset: clips -> frames -> per-frame and per-clip tables -> statistics.

The video branch of `run.run_evaluation`. The clips are evaluated in workers and stored
(evaluation/clip_rows.py), then judged by the statistics stage stills use
(fairness/stage.py), fed the per-clip table as its "images": a clip's figure is the mean
over its scored frames, a group's figure the mean over its clips, and the intervals
resample clips within each group (a cluster bootstrap, stats/clusters.py), so
results.json's n counts clips.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from ..config.settings import Settings
from ..data.video import VideoClip, VideoDataset
from ..errors import UsageError
from ..evaluation.clip_rows import Log, ProgressCallback, evaluate_video
from ..evaluation.clips import STATUS_SCORED, STATUS_SKIPPED, STATUS_UNANNOTATED
from ..evaluation.predictor import ModelFacts, prepare_predictor
from ..evaluation.run_dir import default_run_dir, record_hashes
from ..fairness.stage import compute_statistics
from ..results import document as results_module
from ..results.names import RESULTS_FILE
from ..results.video_tables import (
    CLIP_COLUMNS,
    PER_CLIP_FILE,
    PER_FRAME_FILE,
    per_frame_table,
    write_video_tables,
)
from ..stats.clusters import CLIP_METRICS, per_clip_table
from .outcomes import RunOutcome

# The columns of the per-clip table that only the statistics stage reads (not per_clip.csv).
_STATISTICS_COLUMNS = ("row", "image", "status", "reason", "intersection", "union",
                       "both_empty", "content_sha256")


def run_video_evaluation(dataset: VideoDataset, settings: Settings, *, started: datetime,
                         command: str = "", log: Log = lambda _: None,
                         progress: ProgressCallback | None = None,
                         config: dict[str, Any] | None = None) -> RunOutcome:
    """Evaluate every clip, write per_frame.csv, per_clip.csv and results.json.

    Returns the run's RunOutcome; its `per_image` is the per-clip table the statistics
    read, its `failed_rows` one entry per frame or clip that broke.
    """
    if settings.examples:
        raise UsageError("--examples: not available for video datasets yet (the card shows "
                         "a timeline per clip instead)")
    if settings.predictions is not None:
        raise UsageError(f"--predictions: not available for video datasets ({dataset.source}): "
                         "a clip's model runs its frames in order")
    if settings.exif == "rotate":  # frames are scored as stored; the card must not say else
        raise UsageError(f"--exif rotate: not available for video datasets ({dataset.source}): "
                         "frames and their masks are read as stored")
    # The model is opened once here: refused now if it cannot run, not in every worker.
    predictor = prepare_predictor(settings, log)
    run_dir = (Path(settings.out) if settings.out
               else default_run_dir(dataset.name, started, predictor.facts.folder_name))
    results, lock = evaluate_video(dataset, settings, predictor, run_dir, log=log,
                                   progress=progress)
    try:
        outcome = _write_results(run_dir, dataset, results, settings, predictor.facts,
                                 started, command, config)
    except BaseException:
        lock.release()
        raise
    return RunOutcome(run_dir, *outcome, lock)


def _write_results(run_dir: Path, dataset: VideoDataset, results: list[dict[str, Any]],
                   settings: Settings, model: ModelFacts, started: datetime, command: str,
                   config: dict[str, Any] | None) -> tuple[Any, ...]:
    """The tables, the statistics over clips and results.json; the outcome's middle part."""
    clips = dataset.clips_to_run()
    order = {c.name: c.row for c in dataset.clips.values()}
    per_frame = per_frame_table([f for r in results for f in r["frames"]], order)
    table = clip_statistics_table(per_frame, clips, results, dataset)
    judged = _judged(table, settings.metric, dataset)
    statistics = compute_statistics(judged, dataset.attributes, settings)
    # The stratified bootstrap resampled the rows it was given, clips: a cluster bootstrap.
    statistics["bootstrap"]["unit"] = "clip"
    document = results_module.build_document(
        per_image=judged, statistics=statistics, dataset=dataset, model=model, spec=model,
        settings=settings, command=command, started=started,
        finished=datetime.now(timezone.utc), config=config)
    (run_dir / RESULTS_FILE).unlink(missing_ok=True)  # never beside tables it does not describe
    write_video_tables(run_dir, per_frame, per_clip_csv(table, dataset.attribute_columns))
    results_module.write_run(run_dir, document, None)
    record_hashes(run_dir, (PER_FRAME_FILE, PER_CLIP_FILE, RESULTS_FILE))
    return document, table, _failures(per_frame, results, order), dataset


def clip_statistics_table(per_frame: pd.DataFrame, clips: list[VideoClip],
                          results: list[dict[str, Any]], dataset: VideoDataset) -> pd.DataFrame:
    """One row per clip, evaluated or skipped, in clip order: what the statistics read.

    Columns: per_clip.csv's, the attributes, and those the statistics and the results
    document read of an "image" (row, image = the clip, status, reason, intersection and
    union summed over the scored frames for the pooled statistic, both_empty,
    content_sha256).
    """
    by_clip = {r["image"]: r for r in results}
    scored = per_frame[per_frame["status"] == STATUS_SCORED]
    means = per_clip_table(per_frame, CLIP_METRICS).set_index("clip")
    rows = []
    for clip in clips:
        result = by_clip[clip.name]
        mine = scored[scored["clip"] == clip.name]
        row = {"row": clip.row, "image": clip.name, "clip": clip.name,
               **means.loc[clip.name, ["frames", "scored_frames", *CLIP_METRICS]].to_dict(),
               **clip.attributes,
               "status": result["status"], "reason": result["reason"],
               "intersection": int(mine["intersection"].sum()),
               "union": int(mine["union"].sum()),
               "both_empty": bool(len(mine)) and bool((mine["union"] == 0).all()),
               "content_sha256": result["content_sha256"]}
        rows.append(row)
    rows += _invalid_clips(dataset)
    table = pd.DataFrame(rows)
    for column in (*CLIP_COLUMNS, *dataset.attribute_columns, *_STATISTICS_COLUMNS):
        if column not in table:
            table[column] = None
    table = table.sort_values("row", kind="stable", na_position="last").reset_index(drop=True)
    for column in ("row", "frames", "scored_frames", "intersection", "union"):
        table[column] = pd.to_numeric(table[column]).astype("Int64")
    return table


def per_clip_csv(table: pd.DataFrame, attribute_columns: list[str]) -> pd.DataFrame:
    """per_clip.csv: clip, frames, scored_frames, the three means, attributes, status, reason."""
    return table[[*CLIP_COLUMNS, *attribute_columns, "status", "reason"]]


# --------------------------------------------------------------------------- helpers


def _judged(table: pd.DataFrame, metric: str, dataset: VideoDataset) -> pd.DataFrame:
    """The clips the statistics judge: a clip without a value of `metric` (flicker needs
    two scored frames with a person) is left out of the statistics, with a note."""
    evaluated = table["status"] == STATUS_SCORED
    missing = evaluated & table[metric].isna()
    if missing.any():
        names = ", ".join(table.loc[missing, "clip"])
        dataset.notes.append(f"no {metric} for clip(s) {names} (too few scored frames with a "
                             "person): left out of the statistics")
        table = table.copy()
        table.loc[missing, "status"] = STATUS_UNANNOTATED
        table.loc[missing, "reason"] = (f"no {metric} (too few scored frames with a person): "
                                        "left out of the statistics")
    return table


def _invalid_clips(dataset: VideoDataset) -> list[dict[str, Any]]:
    """A skipped row per clip that failed validation, its first problem as the reason."""
    found: dict[str, list[str]] = {}
    rows: dict[str, int | None] = {}
    for problem in dataset.problems:
        name = problem.image or problem.file
        found.setdefault(name, []).append(str(problem))
        rows[name] = problem.row
    return [{"row": rows[name], "image": name, "clip": name, "frames": 0, "scored_frames": 0,
             "status": STATUS_SKIPPED,
             "reason": reasons[0] + (f" (and {len(reasons) - 1} more)" if len(reasons) > 1
                                     else "")}
            for name, reasons in found.items()]


def _failures(per_frame: pd.DataFrame, results: list[dict[str, Any]], order: dict[str, int]
              ) -> list[dict[str, Any]]:
    """A failed row per frame that could not be read or segmented, and per unscored clip."""
    failed = [{"row": order[f.clip], "image": f"{f.clip} frame {f.frame}",
               "status": STATUS_SKIPPED, "reason": f.reason}
              for f in per_frame[per_frame["status"] == STATUS_SKIPPED].itertuples()]
    failed += [{"row": r["row"], "image": r["image"], "status": STATUS_SKIPPED,
                "reason": r["reason"]}
               for r in results if r["status"] == STATUS_SKIPPED]
    return failed
