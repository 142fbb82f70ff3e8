"""Units of work for the executors: a task is one function applied to one payload in a worker.

A worker loads the model once (a `WorkerContext`, built from a small picklable
`WorkerSetup`) and then runs any number of tasks. A task is a module-level function and
its payload: `evaluate_batch` over a few samples is the image run's task; a clip whose
frames must be evaluated in order, or one image's perturbed versions, is another function
with its own payload. Every task returns per-image rows (dicts with the dataset `row`);
the client writes them to the durable store as they arrive, whatever the executor
(workers.py: local processes; dask_executor.py: a Dask cluster).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2

from ..data.samples import Sample
from ..metrics.catalogue import BOUNDARY_RATIO
from ..models.spec import ModelSpec
from .per_image import evaluate_samples
from .predictions import SuppliedPredictions
from .predictor import open_predictor

Row = dict[str, Any]

# Samples per task: enough to spread a task's fixed cost (a pickle, a message, a Dask
# scheduler decision of about a millisecond) over images of 5-15 ms, few enough that every
# worker has work to the end and a lost worker costs little to redo.
MAX_BATCH = 8


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker needs to load once: what predicts, and the per-image settings.

    `model` is the run's resolved ModelSpec (pickled to each worker), a folder of supplied
    predictions (predictions.py), or a model file path (its default spec).
    """

    model: ModelSpec | SuppliedPredictions | str
    threads: int = 1  # LiteRT (XNNPack) threads per interpreter
    mask_threshold: float = 0.5
    masks_dir: str | None = None  # --save-masks folder, readable and writable by workers
    boundary_ratio: float = BOUNDARY_RATIO  # Boundary IoU's band, a share of the diagonal
    # --mask-person-value of a video run's frame masks (an image's Sample carries its own)
    mask_person_value: int | None = None


class WorkerContext:
    """A worker's loaded state: one interpreter (LiteRT's is not thread-safe) and settings."""

    def __init__(self, setup: WorkerSetup) -> None:
        # One OpenCV thread per worker: `workers` processes then use `workers` cores.
        cv2.setNumThreads(1)
        self.setup = setup
        self.segmenter = open_predictor(setup.model, threads=setup.threads)
        self.mask_threshold = setup.mask_threshold
        self.masks_dir = Path(setup.masks_dir) if setup.masks_dir else None
        self.boundary_ratio = setup.boundary_ratio
        self.mask_person_value = setup.mask_person_value


TaskFunction = Callable[[WorkerContext, Any], list[Row]]


@dataclass(frozen=True)
class Task:
    """`function(context, payload)` in a worker; `function` must be importable by name."""

    function: TaskFunction
    payload: Any
    rows: int = 1  # rows the task yields, for sizing and progress; not enforced

    def run(self, context: WorkerContext) -> list[Row]:
        return self.function(context, self.payload)


def evaluate_batch(context: WorkerContext, samples: Sequence[Sample]) -> list[Row]:
    """The image run's task: one per-image row for each sample, in order."""
    return evaluate_samples(samples, context.segmenter, context.mask_threshold,
                            context.masks_dir, boundary_ratio=context.boundary_ratio)


def batch_size(samples: int, workers: int) -> int:
    """Samples per task: about eight tasks per worker on small sets, MAX_BATCH on large."""
    return max(1, min(MAX_BATCH, samples // (max(1, workers) * 8)))


def sample_tasks(samples: Sequence[Sample], workers: int, size: int | None = None
                 ) -> list[Task]:
    """The samples cut into `evaluate_batch` tasks of `size` (default `batch_size`)."""
    size = size or batch_size(len(samples), workers)
    return [Task(evaluate_batch, tuple(samples[start:start + size]),
                 len(samples[start:start + size]))
            for start in range(0, len(samples), size)]


__all__ = ["MAX_BATCH", "Row", "Task", "TaskFunction", "WorkerContext", "WorkerSetup",
           "batch_size", "evaluate_batch", "sample_tasks"]
