"""Frames to clips: the per-clip table that the cluster bootstrap resamples.

Frames of one clip are not independent (the same person, light and background), so the
unit of a video evaluation is the clip: a clip's figure is the mean over its scored
frames, a group's figure the mean over its clips, and intervals resample clips within
each group. That is the existing stratified bootstrap (`bootstrap.stratified_bootstrap`
with the "mean" statistic) applied to the per-clip values this module computes, so n
counts clips. Resampling frames instead would treat 80 near-identical frames as 80
observations and give intervals far too narrow.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .choices import CLIP_METRICS  # defined there, importable without pandas


def per_clip_table(
    per_frame: pd.DataFrame,
    metrics: Sequence[str] = CLIP_METRICS,
    attributes: Sequence[str] = (),
    clip: str = "clip",
) -> pd.DataFrame:
    """One row per clip: clip, frames, scored_frames, each metric's mean, attributes.

    A frame is scored when its status is "ok" (every frame when there is no status
    column); a metric's mean skips missing values (flicker is empty on a clip's first
    scored frame) and is NaN when a clip has none. Attribute columns must hold one value
    per clip (they describe clips); a clip with several is refused by name.
    """
    missing = [c for c in (clip, *metrics, *attributes) if c not in per_frame.columns]
    if missing:
        raise ValueError(f"the per-frame table has no column(s) {missing}")
    scored = (per_frame["status"] == "ok") if "status" in per_frame.columns else \
        pd.Series(True, index=per_frame.index)
    rows = []
    for name, frames in per_frame.groupby(clip, sort=False):
        ok = frames[scored.loc[frames.index].to_numpy()]
        row: dict[str, object] = {clip: name, "frames": len(frames), "scored_frames": len(ok)}
        for metric in metrics:
            values = pd.to_numeric(ok[metric], errors="coerce").to_numpy(dtype=float)
            values = values[np.isfinite(values)]
            row[metric] = float(values.mean()) if values.size else np.nan
        for attribute in attributes:
            distinct = frames[attribute].drop_duplicates()
            if len(distinct) > 1:
                raise ValueError(f"clip {name!r} has several values of {attribute!r}: "
                                 f"{sorted(map(str, distinct))}")
            row[attribute] = distinct.iloc[0]
        rows.append(row)
    return pd.DataFrame(rows, columns=[clip, "frames", "scored_frames", *metrics, *attributes])
