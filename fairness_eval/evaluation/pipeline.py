"""Stage orchestration: dataset -> inference -> metrics -> per-image table -> statistics.

`evaluate_sample` is the whole per-image job (read, predict, score). `run_evaluation` runs
it over a dataset in worker processes, streams each row into the durable progress store,
and assembles the results document. Nothing but a row of numbers is kept per image, so
memory does not grow with the size of the dataset beyond that table.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from ..config.settings import PER_IMAGE_SETTINGS, Settings
from ..data.dataset import Dataset, InvalidDataset, Problem, Sample, load_dataset
from ..errors import UsageError
from ..fairness.assess import evaluate
from ..metrics.masks import annotator_ious, mask_counts, to_binary
from ..models.registry import ModelFile, resolve_model
from ..models.segmenter import Segmenter
from ..results import document as results_module
from .store import ProgressStore

Log = Callable[[str], None]
ProgressCallback = Callable[[int, int], None]


class RowFailure(Exception):
    """A row that passed validation but could not be evaluated (e.g. corrupt pixel data)."""


# --- one image -----------------------------------------------------------------------


def content_sha256(sample: Sample, contents: dict[Path, bytes] | None = None) -> str:
    """Hash of every file a row reads: the row's part of the resume key.

    `contents` holds the files' bytes when the caller has read them already.
    """
    digest = hashlib.sha256()
    for path in sample.files():
        digest.update(path.name.encode() + b"\0")
        digest.update(contents[path] if contents is not None else Path(path).read_bytes())
    return digest.hexdigest()


def read_rgb(path: Path, content: bytes | None = None) -> np.ndarray:
    # Masks carry no EXIF orientation, so images are read in stored pixel order too.
    data = np.frombuffer(Path(path).read_bytes() if content is None else content, np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if image is None:
        raise RowFailure(f"{path}: image could not be decoded")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_mask(path: Path, shape: tuple[int, int], role: str, content: bytes | None = None
              ) -> np.ndarray:
    data = np.frombuffer(Path(path).read_bytes() if content is None else content, np.uint8)
    mask = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if mask is None:
        raise RowFailure(f"{path}: {role} could not be decoded")
    if mask.ndim != 2 or mask.dtype != np.uint8:
        raise RowFailure(f"{path}: {role} is not a single-channel 8-bit mask")
    if mask.shape != shape:
        raise RowFailure(f"{path}: {role} is {mask.shape[1]}x{mask.shape[0]} but the image is "
                         f"{shape[1]}x{shape[0]}")
    return to_binary(mask)


def evaluate_sample(sample: Sample, segmenter: Segmenter, threshold: float,
                    masks_dir: Path | None = None) -> dict[str, Any]:
    """Predict one image and score it against its ground truth: one per-image row."""
    row: dict[str, Any] = {"row": sample.row, "image": sample.image_id}
    try:
        # Each file is read once: the bytes that are hashed are the bytes decoded.
        contents = {path: Path(path).read_bytes() for path in sample.files()}
        row["content_sha256"] = content_sha256(sample, contents)
        image = read_rgb(sample.image, contents[sample.image])
        shape = image.shape[:2]
        truth = read_mask(sample.mask, shape, "mask", contents[sample.mask])
        ignore = (read_mask(sample.ignore, shape, "ignore mask", contents[sample.ignore])
                  if sample.ignore else None)
        others = {name: read_mask(path, shape, f"mask of annotator {name}", contents[path])
                  for name, path in sample.annotators.items()}
    except (RowFailure, OSError) as error:
        return {**row, "status": "skipped", "reason": str(error)}
    try:
        # MediaPipe's own examples draw the person where probability > threshold.
        predicted = segmenter.predict(image) > threshold
    except (cv2.error, ValueError, MemoryError) as error:  # e.g. an image too large to warp
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return {**row, "status": "skipped",
                "reason": f"{sample.image}: could not be segmented ({first})"}
    counts = mask_counts(predicted, truth, ignore)
    row.update(
        status="ok",
        reason="",
        intersection=counts.intersection,
        union=counts.union,
        iou=counts.iou,
        gt_area=counts.gt_area,
        pred_area=counts.pred_area,
        ignored_pixels=counts.ignored_pixels,
        both_empty=counts.both_empty,
    )
    if others:
        row.update(annotator_ious(truth, others, ignore))
    if masks_dir is not None:
        target = masks_dir / f"{sample.image_id}.png"
        # cv2.imwrite reports a failure (a full disk) by returning False, not by raising.
        if not cv2.imwrite(str(target), predicted.astype(np.uint8) * 255):
            raise UsageError(f"--save-masks: cannot write {target}")
    return row


# --- worker processes ----------------------------------------------------------------

_worker_state: dict[str, Any] = {}


def _init_worker(model_path: str, threads: int, threshold: float, masks_dir: str | None) -> None:
    # Each process owns its interpreter; one LiteRT interpreter is not thread-safe.
    cv2.setNumThreads(1)
    _worker_state.update(
        segmenter=Segmenter(model_path, threads=threads),
        threshold=threshold,
        masks_dir=Path(masks_dir) if masks_dir else None,
    )


def _work(sample: Sample) -> dict[str, Any]:
    return evaluate_sample(sample, _worker_state["segmenter"], _worker_state["threshold"],
                           _worker_state["masks_dir"])


def evaluate_samples(samples: list[Sample], model_path: Path, *, threshold: float = 0.5,
                     workers: int = 1, threads: int = 1, masks_dir: Path | None = None
                     ) -> Iterator[dict[str, Any]]:
    """Yield one row per sample, in completion order, using `workers` processes."""
    initargs = (str(model_path), threads, threshold, str(masks_dir) if masks_dir else None)
    if workers <= 1 or len(samples) <= 1:
        _init_worker(*initargs)
        for sample in samples:
            yield _work(sample)
        return
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    context = multiprocessing.get_context(method)
    chunksize = max(1, min(8, len(samples) // (workers * 8)))
    with context.Pool(workers, initializer=_init_worker, initargs=initargs) as pool:
        yield from pool.imap_unordered(_work, samples, chunksize=chunksize)


# --- a whole run ---------------------------------------------------------------------


@dataclass
class RunOutcome:
    """What a run produced and where."""

    run_dir: Path
    document: dict[str, Any]
    per_image: pd.DataFrame
    failed_rows: list[dict[str, Any]] = field(default_factory=list)  # broke during inference


def default_run_dir(dataset: Dataset, now: datetime) -> Path:
    return Path("reports") / f"{dataset.name}-{now.strftime('%Y%m%dT%H%M%SZ')}"


# What a run (and the commands reading it) write into a run folder; --overwrite removes
# these and nothing else, so no stale mask or report outlives the run that replaced it.
RUN_OUTPUTS = ("results.json", "per_image.csv", "progress.sqlite", "progress.sqlite-wal",
               "progress.sqlite-shm", "junit.xml", "summary.md", "model_card.html",
               "model_card.pdf", "model_card.json", "comparison.json", "comparison.md",
               ".fairness-eval-reports.json")


def prepare_run_dir(run_dir: Path, overwrite: bool, resume: bool,
                    resume_hint: bool = True) -> None:
    """Create the run folder; refuse to write into a non-empty one unless asked."""
    if run_dir.exists() and not run_dir.is_dir():
        raise UsageError(f"--out: {run_dir} exists and is not a folder")
    if run_dir.exists() and any(run_dir.iterdir()) and not (overwrite or resume):
        hint = " or --resume to continue an interrupted run" if resume_hint else ""
        raise UsageError(f"--out: {run_dir} is not empty; pass --overwrite to replace its "
                         f"results{hint}")
    if run_dir.exists() and overwrite and not resume:
        _remove_outputs(run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise UsageError(f"--out: cannot write to {run_dir} ({error.strerror or error})"
                         ) from None


def _remove_outputs(run_dir: Path) -> None:
    try:
        for name in RUN_OUTPUTS:
            (run_dir / name).unlink(missing_ok=True)
        masks = run_dir / "masks"
        if masks.is_dir():
            for mask in masks.glob("*.png"):
                mask.unlink()
            if not any(masks.iterdir()):
                masks.rmdir()
    except OSError as error:
        raise UsageError(f"--overwrite: cannot remove the earlier results in {run_dir} "
                         f"({error.strerror or error})") from None


def resume_key(model: ModelFile, dataset: Dataset, settings: Settings) -> dict[str, Any]:
    key = {"model_sha256": model.sha256, "dataset": str(Path(dataset.source).resolve()),
           "dataset_source_sha256": dataset.source_sha256,
           "schema_version": results_module.SCHEMA_VERSION,
           "save_masks": settings.save_masks}
    key.update({name: getattr(settings, name) for name in PER_IMAGE_SETTINGS})
    # Another release of fairness-eval, LiteRT, OpenCV or numpy may change a per-image number.
    found = results_module.versions()
    key.update({f"{name}_version": found[name]
                for name in ("fairness_eval", "litert", "opencv", "numpy")})
    return key


def run_evaluation(dataset_path: Path | str, settings: Settings, *, command: str = "",
                   log: Log = lambda _: None, progress: ProgressCallback | None = None,
                   config: dict[str, Any] | None = None) -> RunOutcome:
    """Validate, predict, score and summarise a dataset; write the run folder.

    Raises UsageError (exit 2) for invalid input unless `settings.skip_invalid`, in which
    case invalid rows are recorded as skipped with their reason.
    """
    settings.validate()
    started = datetime.now(timezone.utc)
    dataset = load_dataset(dataset_path, settings.attributes)
    for note in dataset.notes:
        log(f"note: {note}")
    if dataset.problems and not settings.skip_invalid:
        raise InvalidDataset(dataset.problems)
    if not dataset.samples:
        raise UsageError(f"{dataset.source}: no valid rows to evaluate "
                         f"({len(dataset.problems)} problem(s))")
    _check_intersections(settings, dataset)
    model = resolve_model(settings.model, log=log)
    spec = Segmenter(model.path, threads=1).spec  # refuses models whose tensors do not fit

    run_dir = Path(settings.out) if settings.out else default_run_dir(dataset, started)
    prepare_run_dir(run_dir, settings.overwrite, settings.resume)
    masks_dir = run_dir / "masks" if settings.save_masks else None
    if masks_dir:
        masks_dir.mkdir(exist_ok=True)
    key = resume_key(model, dataset, settings)
    if settings.resume and (run_dir / "progress.sqlite").exists():
        store = ProgressStore.reopen(run_dir, key)
    elif settings.resume and any(p.name != "masks" for p in run_dir.iterdir()):
        raise UsageError(f"--resume: {run_dir} holds no progress.sqlite of an earlier run "
                         "(nothing to resume); pass --overwrite to replace its contents")
    else:
        store = ProgressStore.create(run_dir, key)
    try:
        rows = _evaluate_with_store(dataset, store, model, settings, masks_dir, log, progress)
    finally:
        store.close()

    skipped_rows = [_skipped_row(p) for p in dataset.problems]
    per_image = results_module.per_image_table(rows + skipped_rows, dataset)
    failed = [r for r in rows if r["status"] == "skipped"]
    statistics = compute_statistics(per_image, dataset, settings)
    document = results_module.build_document(
        per_image=per_image, statistics=statistics, dataset=dataset, model=model, spec=spec,
        settings=settings, command=command, started=started,
        finished=datetime.now(timezone.utc), config=config,
    )
    results_module.write_run(run_dir, document, per_image)
    return RunOutcome(run_dir, document, per_image, failed)


def compute_statistics(per_image: pd.DataFrame, dataset: Dataset, settings: Settings
                       ) -> dict[str, Any]:
    """The statistics stage over the evaluated rows: intervals, criteria, verdicts."""
    return evaluate(
        per_image[per_image["status"] == "ok"],
        attributes=list(dataset.attributes),
        intersections=[tuple(c) for c in settings.intersect],
        resamples=settings.bootstrap,
        confidence=settings.confidence,
        ci_method=settings.ci_method,
        seed=settings.seed,
        statistic=settings.statistic,
        reference=settings.reference,
        min_group_size=settings.min_group_size,
        sd_factor=settings.sd_factor,
        sd_ddof=settings.sd_ddof,
        inter_annotator_iou=settings.inter_annotator_iou,
        min_group_sizes={name: table["min_group_size"]
                         for name, table in settings.per_attribute.items()
                         if table.get("min_group_size") is not None},
    )


def _check_intersections(settings: Settings, dataset: Dataset) -> None:
    for columns in settings.intersect:
        absent = [c for c in columns if c not in dataset.attribute_columns]
        if absent:
            raise UsageError(f"--intersect {','.join(columns)}: no column "
                             f"{', '.join(repr(c) for c in absent)} in {dataset.source}")


def _evaluate_with_store(dataset: Dataset, store: ProgressStore, model: ModelFile,
                         settings: Settings, masks_dir: Path | None, log: Log,
                         progress: ProgressCallback | None) -> list[dict[str, Any]]:
    # Rows that failed (an unreadable file) are tried again: the failure may have passed.
    done = {row: data for row, data in store.done().items() if data["status"] == "ok"}
    by_row = {s.row: s for s in dataset.samples}
    for row, data in list(done.items()):
        sample = by_row.get(row)
        if sample is None or sample.image_id != data["image"]:
            raise UsageError(f"--resume: row {row} ({data['image']}) of the interrupted run is "
                             "not in the dataset any more; start a new --out")
        if data.get("content_sha256") and content_sha256(sample) != data["content_sha256"]:
            raise UsageError(f"--resume: {sample.image_id} changed since the interrupted run "
                             "(image or mask content differs); start a new --out")
        if masks_dir and data["status"] == "ok" and not (masks_dir / f"{sample.image_id}.png"
                                                        ).exists():
            del done[row]  # its saved mask is gone: evaluate it again
    todo = [s for s in dataset.samples if s.row not in done]
    if done:
        log(f"resuming: {len(done)} of {len(dataset.samples)} rows already evaluated, "
            f"{len(todo)} to go")
    rows = list(done.values())
    total = len(dataset.samples)
    if progress:
        progress(len(rows), total)
    for row in evaluate_samples(todo, model.path, threshold=settings.threshold,
                                workers=min(settings.workers, max(1, len(todo))),
                                threads=settings.threads, masks_dir=masks_dir):
        store.add(row)
        rows.append(row)
        if progress:
            progress(len(rows), total)
    return rows


def _skipped_row(problem: Problem) -> dict[str, Any]:
    return {"row": problem.row, "image": problem.image, "status": "skipped",
            "reason": str(problem), "source_file": problem.file}
