"""A video run's clips evaluated in workers and stored: rows of numbers out, nothing judged.

Clips run whole, each in one worker (clips.py: its frames in order, one task), and are
stored in the progress store as they finish (store.py), so --resume keeps every finished
clip (`reusable_clips`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config.settings import Settings
from ..data.video import VideoClip, VideoDataset
from ..errors import UsageError
from ..models.spec import ModelSpec
from ..results.names import PROGRESS_FILE, RESULTS_FILE
from ..results.video_tables import PER_CLIP_FILE, PER_FRAME_FILE
from .clips import STATUS_SKIPPED, ClipOptions, clip_content_sha256, clip_tasks, saved_mask_path
from .executors import open_executor
from .predictor import Predictor
from .resume import interrupted_note, resume_key
from .run_dir import SAVED_MASKS_DIR, RunFolderLock, open_progress_store, prepare_run_dir
from .store import ProgressStore
from .tasks import WorkerSetup

Log = Callable[[str], None]
ProgressCallback = Callable[..., None]
# What a video run writes besides reports and saved masks (SQLite adds -wal and -shm).
VIDEO_RUN_FILES = (RESULTS_FILE, PER_FRAME_FILE, PER_CLIP_FILE, PROGRESS_FILE,
                   PROGRESS_FILE + "-wal", PROGRESS_FILE + "-shm")


def evaluate_video(dataset: VideoDataset, settings: Settings, predictor: Predictor,
                   run_dir: Path, *, log: Log, progress: ProgressCallback | None
                   ) -> tuple[list[dict[str, Any]], RunFolderLock]:
    """Every clip of `dataset` evaluated (or kept from the interrupted run with --resume)
    and stored in `run_dir`, whose folder is prepared first: each clip's result, and the
    run folder's lock, which the caller releases after its last output."""
    masks, folders = saved_masks(dataset) if settings.save_masks else ([], [])
    lock = prepare_run_dir(run_dir, settings.overwrite, settings.resume, dataset=dataset,
                           save_masks=False, writes=[*VIDEO_RUN_FILES, *masks],
                           folders=folders)
    try:
        masks_dir = run_dir / SAVED_MASKS_DIR if settings.save_masks else None
        key = {**resume_key(predictor.facts, dataset, settings), "unit": "clip",
               "predictor": predictor.facts.key()}
        store = open_progress_store(run_dir, key, settings.resume)
        options = ClipOptions(settings.mask_threshold, settings.boundary_ratio, masks_dir,
                              settings.mask_person_value)
        try:
            results = evaluate_clips(dataset, store, predictor.source, settings, options,
                                     log, progress)
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the workers stop as this unwinds
            log(interrupted_note(store.count(), len(dataset.clips_to_run()), store.path,
                                 "clips"))
            raise
        finally:
            store.close()
    except BaseException:
        lock.release()
        raise
    return results, lock


def saved_masks(dataset: VideoDataset) -> tuple[list[str], list[str]]:
    """(files, folders) of --save-masks: masks/<clip>/NNNNN.png, recorded in the run
    ledger before they are written."""
    clips = dataset.clips_to_run()
    return ([f"{SAVED_MASKS_DIR}/{c.name}/{f.index:05d}.png" for c in clips for f in c.frames],
            [SAVED_MASKS_DIR, *(f"{SAVED_MASKS_DIR}/{c.name}" for c in clips)])


def evaluate_clips(dataset: VideoDataset, store: ProgressStore, spec: ModelSpec,
                         settings: Settings, options: ClipOptions, log: Log,
                         progress: ProgressCallback | None) -> list[dict[str, Any]]:
    clips = dataset.clips_to_run()
    done = reusable_clips(store.done(), clips, options.masks_dir)
    todo = [c for c in clips if c.row not in done]
    if done:
        log(f"resuming: {len(done)} of {len(clips)} clips already evaluated, "
            f"{len(todo)} to go")
    results = list(done.values())
    total = sum(len(c.frames) for c in clips)
    report = _progress_reporter(progress, total, len(clips))
    frames_done = sum(len(r["frames"]) for r in results)
    report(frames_done, len(results))
    if not todo:
        return results
    setup = WorkerSetup(spec, settings.threads, options.mask_threshold,
                        str(options.masks_dir) if options.masks_dir else None,
                        options.boundary_ratio, options.mask_person_value)
    with open_executor(settings.executor, setup, workers=min(settings.workers, len(todo)),
                       scheduler=settings.scheduler, log=log) as executor:
        # A clip is stored as soon as it completes, whichever worker ran it.
        for rows in executor.run(clip_tasks(todo)):
            for result in rows:
                store.add(result)
                results.append(result)
                frames_done += len(result["frames"])
            report(frames_done, len(results))
    return results


def reusable_clips(done: dict[int, dict[str, Any]], clips: list[VideoClip],
                   masks_dir: Path | None) -> dict[int, dict[str, Any]]:
    """Stored clips to keep, by row: finished without a skipped frame, same content, and
    (with --save-masks) every saved mask still there. Refuses a clip list changed since."""
    by_row = {c.row: c for c in clips}
    kept = {}
    for row, result in done.items():
        clip = by_row.get(row)
        if clip is None or clip.name != result["image"]:
            raise UsageError(f"--resume: clip {row} ({result['image']}) of the interrupted "
                             "run is not in the dataset any more; start a new --out")
        if any(f["status"] == STATUS_SKIPPED for f in result["frames"]):
            continue  # a frame failed: the clip is run again (the failure may have passed)
        if clip_content_sha256(clip) != result["content_sha256"]:
            raise UsageError(f"--resume: clip {clip.name} changed since the interrupted run "
                             "(a frame, mask or video differs); start a new --out")
        if masks_dir and not all(saved_mask_path(masks_dir, clip.name, f["frame"]).exists()
                                 for f in result["frames"]):
            continue  # a saved mask is gone: evaluate the clip again
        kept[row] = result
    return kept


def _progress_reporter(progress: ProgressCallback | None, total_frames: int, total_clips: int
                       ) -> Callable[[int, int], None]:
    """progress(frames done, frames) with frames/s and clips done where the callback can
    show them (terminal.Progress takes `unit` and `detail`), else plain (done, total)."""
    if progress is None:
        return lambda frames, clips: None
    try:
        parameters = inspect.signature(progress).parameters
    except (TypeError, ValueError):
        parameters = {}
    if "unit" in parameters and "detail" in parameters:
        return lambda frames, clips: progress(frames, total_frames, unit="frames",
                                              detail=f"{clips}/{total_clips} clips")
    return lambda frames, clips: progress(frames, total_frames)
