"""One clip's job: run its frames in order through one model, score the annotated ones.

`evaluate_clip` is a plain function (a clip in, one record per frame out), so that any
executor can run it; a clip is one task and is never split, because a stateful model
(spec `prior = "previous"`) takes the previous frame's person probability as its 4th
input channel (zeros on the clip's first frame) and so must see the frames in order in
one process. A stateless model gets no prior. `clip_tasks` makes each clip one task for
any executor (executors.py: local processes or Dask); `evaluate_clips` is the one-call
form over local processes.

Per frame: every frame is run; a frame with a mask is scored (every per-image metric of
metrics/catalogue.py, and flicker against the previous scored frame); a frame without one
has status "unannotated"; a frame that cannot be read or segmented, or is not the size of
the clip's first frame, is "skipped" with its reason and leaves the prior as it was (a
frame whose mask cannot be read is run, then skipped). Only a failure to write a saved
mask stops the run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..atomicwrite import make_folders
from ..data.samples import IMAGE_EXTENSIONS
from ..data.video import VideoClip, VideoFrame
from ..metrics.boundary import DEFAULT_RATIO
from ..metrics.scores import score_masks
from ..metrics.temporal import flicker
from ..models.segmenter import Segmenter
from ..models.spec import ModelSpec
from .images import RowFailure, read_mask, read_rgb
from .per_image import save_mask
from .tasks import Task, WorkerContext, WorkerSetup
from .workers import LocalExecutor

STATUS_SCORED, STATUS_UNANNOTATED, STATUS_SKIPPED = "ok", "unannotated", "skipped"
_VIDEO_READ_BLOCK = 1 << 20


@dataclass(frozen=True)
class ClipOptions:
    """What scoring a clip depends on besides the model (all in the resume key)."""

    mask_threshold: float = 0.5  # a pixel is person where the probability exceeds it
    boundary_ratio: float = DEFAULT_RATIO
    masks_dir: Path | None = None  # --save-masks: masks/<clip>/NNNNN.png
    # --mask-person-value: frame masks are label indices, person where value == N
    mask_person_value: int | None = None


def saved_mask_path(masks_dir: Path, clip: str, index: int) -> Path:
    """Where --save-masks writes a frame's predicted mask."""
    return masks_dir / clip / f"{index:05d}.png"


def uses_prior(segmenter: Segmenter) -> bool:
    """Whether the model takes the previous frame's probability (spec prior = "previous")."""
    return segmenter.model_spec.input.prior == "previous"


def evaluate_clip(clip: VideoClip, segmenter: Segmenter, options: ClipOptions = ClipOptions(),
                  digest: Any | None = None) -> list[dict[str, Any]]:
    """Every frame of `clip` in order: one record per frame (per_frame.csv's columns).

    `digest` (a hashlib object), when given, is fed every byte the clip reads, in
    `clip.files()` order: the clip's content key for --resume.
    """
    if options.masks_dir is not None:
        make_folders(options.masks_dir / clip.name, options.masks_dir.parent)
    stateful = uses_prior(segmenter)
    prior: np.ndarray | None = None
    previous: tuple[np.ndarray, np.ndarray] | None = None  # last scored (prediction, truth)
    records = []
    seen: set[int] = set()
    size: tuple[int, ...] | None = None  # (height, width) of the clip's first decoded frame
    for frame, image, failure in _frames(clip, digest):
        seen.add(frame.index)
        record: dict[str, Any] = {"clip": clip.name, "frame": frame.index}
        if failure is None and size is not None and image.shape[:2] != size:
            # Validation refuses such clips; a file changed since, or a video stream that
            # changes size, must not reach the prior or flicker at another shape.
            failure = (f"{_where(clip, frame)}: frame is {image.shape[1]}x{image.shape[0]} "
                       f"but the clip's first frame is {size[1]}x{size[0]}")
        if failure is None:
            size = image.shape[:2]
            try:
                prediction = segmenter.segment(image, prior if stateful else None)
            except (cv2.error, ValueError, MemoryError) as error:
                first = (str(error).strip().splitlines() or [type(error).__name__])[0]
                failure = f"{_where(clip, frame)}: could not be segmented ({first})"
        if failure is not None:  # the model did not see this frame: the prior stays
            _hash_unread(frame.mask, digest)
            records.append({**record, "status": STATUS_SKIPPED, "reason": failure})
            continue
        prior = prediction.model_probability
        predicted = prediction.probability > options.mask_threshold
        if options.masks_dir is not None:
            save_mask(predicted, saved_mask_path(options.masks_dir, clip.name, frame.index),
                      options.masks_dir.parent)
        if frame.mask is None:
            records.append({**record, "status": STATUS_UNANNOTATED, "reason": ""})
            continue
        try:
            truth = read_mask(frame.mask, image.shape[:2], "mask", _read(frame.mask, digest),
                              options.mask_person_value)
        except (RowFailure, OSError) as error:
            records.append({**record, "status": STATUS_SKIPPED, "reason": str(error)})
            continue
        records.append({**record, "status": STATUS_SCORED, "reason": "",
                        **score_frame(predicted, truth, previous, options.boundary_ratio)})
        previous = (predicted, truth)
    # A video whose header promised more frames than it decodes: its masks past the end.
    for missing in (f for f in clip.frames if f.index not in seen):
        _hash_unread(missing.mask, digest)
        records.append({"clip": clip.name, "frame": missing.index, "status": STATUS_SKIPPED,
                        "reason": f"{clip.video}: frame {missing.index} could not be decoded "
                                  f"(the video ends after {len(seen)} frames)"})
    return records


def score_frame(predicted: np.ndarray, truth: np.ndarray,
                previous: tuple[np.ndarray, np.ndarray] | None,
                boundary_ratio: float = DEFAULT_RATIO) -> dict[str, Any]:
    """A scored frame's numbers; flicker against the previous scored frame (None if none)."""
    pixels, scores = score_masks(predicted, truth, None, boundary_ratio)
    counts = pixels.masks
    return {
        "intersection": counts.intersection,
        "union": counts.union,
        **scores,  # every per-image metric of the catalogue (metrics/catalogue.py)
        "flicker": None if previous is None else flicker(previous[0], predicted,
                                                          previous[1], truth),
        "gt_area": counts.gt_area,
        "pred_area": counts.pred_area,
    }


def clip_content_sha256(clip: VideoClip) -> str:
    """The clip's content key, as `evaluate_clip` computes it from the bytes it reads."""
    digest = hashlib.sha256()
    for path in clip.files():
        _read(path, digest)
    return digest.hexdigest()


def _frames(clip: VideoClip, digest: Any | None
            ) -> Iterator[tuple[VideoFrame, np.ndarray | None, str | None]]:
    """(frame, RGB image, failure) in order; the image is None where failure says why."""
    if clip.video is None:
        for frame in clip.frames:
            try:
                yield frame, read_rgb(frame.image, _read(frame.image, digest)), None
            except (RowFailure, OSError) as error:
                yield frame, None, str(error)
        return
    if digest is not None:
        _read(clip.video, digest)
    capture = cv2.VideoCapture(str(clip.video))
    try:
        for frame in clip.frames:
            ok, bgr = capture.read()
            if not ok:
                return
            yield frame, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), None
    finally:
        capture.release()


def _read(path: Path, digest: Any | None) -> bytes | None:
    """An image's bytes, fed to `digest` with its name; a video is hashed, not returned."""
    is_image = path.suffix.lower() in IMAGE_EXTENSIONS
    if digest is None:
        return path.read_bytes() if is_image else None
    digest.update(path.name.encode() + b"\0")
    if is_image:
        content = path.read_bytes()
        digest.update(content)
        return content
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_VIDEO_READ_BLOCK), b""):
            digest.update(block)
    return None


def _hash_unread(mask: Path | None, digest: Any | None) -> None:
    """Keep the content key whole for a frame whose mask was not read."""
    if mask is not None and digest is not None:
        try:
            _read(mask, digest)
        except OSError:
            digest.update(b"unreadable")


def _where(clip: VideoClip, frame: VideoFrame) -> str:
    return str(frame.image) if frame.image is not None else f"{clip.video} frame {frame.index}"


# --------------------------------------------------------------------------- tasks


def clip_result(clip: VideoClip, frames: list[dict[str, Any]], content_sha256: str
                ) -> dict[str, Any]:
    """A clip's entry in the progress store: its row, name, content key and frames."""
    scored = any(f["status"] == STATUS_SCORED for f in frames)
    return {"row": clip.row, "image": clip.name, "content_sha256": content_sha256,
            "status": STATUS_SCORED if scored else STATUS_SKIPPED,
            "reason": "" if scored else f"clip {clip.name}: no frame could be scored",
            "frames": frames}


def evaluate_clip_task(context: WorkerContext, clip: VideoClip) -> list[dict[str, Any]]:
    """The video run's task (tasks.py): one clip, whole, in the worker's model; its one
    row is the clip's `clip_result`."""
    options = ClipOptions(context.mask_threshold, context.boundary_ratio, context.masks_dir,
                          context.mask_person_value)
    digest = hashlib.sha256()
    frames = evaluate_clip(clip, context.segmenter, options, digest)
    return [clip_result(clip, frames, digest.hexdigest())]


def clip_tasks(clips: list[VideoClip]) -> list[Task]:
    """One task per clip, longest first, so that no worker is left with a long tail."""
    return [Task(evaluate_clip_task, clip, len(clip.frames))
            for clip in sorted(clips, key=lambda c: (-len(c.frames), c.row))]


def evaluate_clips(clips: list[VideoClip], model: ModelSpec | Path | str, *,
                   options: ClipOptions = ClipOptions(), workers: int = 1, threads: int = 1
                   ) -> Iterator[dict[str, Any]]:
    """Yield one `clip_result` per clip, in completion order, using `workers` local
    processes (the one-call form; a run goes through its executor)."""
    setup = WorkerSetup(model if not isinstance(model, Path) else str(model), threads,
                        options.mask_threshold,
                        str(options.masks_dir) if options.masks_dir else None,
                        options.boundary_ratio, options.mask_person_value)
    with LocalExecutor(setup, min(workers, max(1, len(clips)))) as executor:
        for rows in executor.run(clip_tasks(clips)):
            yield from rows
