"""The tables of a video run: per_frame.csv (one row per frame) and per_clip.csv (per clip).

per_frame.csv: clip, frame, status, reason, intersection, union, iou, boundary_iou, dice,
flicker, gt_area, pred_area (the metrics: the catalogue's clip metrics, in its order,
metrics/catalogue.py). status is "ok" (scored), "unannotated" (run, no mask) or
"skipped" (could not be read or segmented; reason says why); flicker is empty on a clip's
first scored frame and wherever neither frame of the pair has a person.

per_clip.csv: clip, frames, scored_frames, iou, boundary_iou, dice, flicker (each the mean
over the clip's scored frames), the clip's attributes, status and reason. A clip is the
unit of the statistics: results.json's n counts clips.

Text cells (clip names, attribute values, reasons) that a spreadsheet would run as
formulas are written with a leading apostrophe and read back without it, as in
per_image.csv (csvtext.py).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..atomicwrite import write_atomically
from ..errors import UsageError
from .csvtext import plain_header, read_back_text, spreadsheet_safe
from .names import (
    CLIP_METRIC_COLUMNS,
    PER_CLIP_COLUMNS,
    PER_CLIP_FILE,
    PER_FRAME_COLUMNS,
    PER_FRAME_FILE,
)

FRAME_COLUMNS = PER_FRAME_COLUMNS
CLIP_COLUMNS = PER_CLIP_COLUMNS
_FRAME_COUNTS = ("frame", "intersection", "union", "gt_area", "pred_area")
_FRAME_NUMBERS = (*_FRAME_COUNTS, *CLIP_METRIC_COLUMNS)
_CLIP_NUMBERS = ("frames", "scored_frames", *CLIP_METRIC_COLUMNS)


def per_frame_table(records: list[dict], clip_order: dict[str, int]) -> pd.DataFrame:
    """Frame records as per_frame.csv's table, in clip order, then frame order."""
    frame = pd.DataFrame(records, columns=list(FRAME_COLUMNS))
    frame["_clip_row"] = frame["clip"].map(clip_order)
    frame = frame.sort_values(["_clip_row", "frame"], kind="stable").drop(columns="_clip_row")
    for column in _FRAME_COUNTS:
        frame[column] = pd.to_numeric(frame[column]).astype("Int64")
    for column in CLIP_METRIC_COLUMNS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["reason"] = frame["reason"].fillna("")
    return frame.reset_index(drop=True)


def write_video_tables(run_dir: Path, per_frame: pd.DataFrame, per_clip: pd.DataFrame) -> None:
    """Write per_frame.csv and per_clip.csv atomically into the run folder."""
    for name, table in ((PER_FRAME_FILE, per_frame), (PER_CLIP_FILE, per_clip)):
        write_atomically(run_dir / name, spreadsheet_safe(table).to_csv(index=False).encode())


def read_per_frame(run_dir: Path | str) -> pd.DataFrame:
    """per_frame.csv of a video run, numbers as numbers ("" as missing)."""
    return _read(Path(run_dir) / PER_FRAME_FILE, _FRAME_NUMBERS)


def read_per_clip(run_dir: Path | str) -> pd.DataFrame:
    """per_clip.csv of a video run; attribute values stay text ("" = not annotated)."""
    return _read(Path(run_dir) / PER_CLIP_FILE, _CLIP_NUMBERS)


def is_video_run(run_dir: Path | str) -> bool:
    """Whether a run folder holds a video run's tables."""
    return (Path(run_dir) / PER_FRAME_FILE).is_file()


def _read(path: Path, numeric: tuple[str, ...]) -> pd.DataFrame:
    if not path.exists():
        raise UsageError(f"{path}: not found (is this a video run folder?)")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    plain_header(table)
    read_back_text(table, [c for c in table.columns if c not in numeric])
    for column in (c for c in numeric if c in table.columns):
        values = pd.to_numeric(table[column].replace("", None), errors="coerce")
        bad = values.isna() & (table[column] != "")
        if bad.any():
            line = int(bad.to_numpy().nonzero()[0][0]) + 2  # the header is line 1
            raise UsageError(f"{path}, line {line}: column {column!r} holds "
                             f"{table[column].iloc[line - 2]!r}, not a number")
        table[column] = values
    return table
