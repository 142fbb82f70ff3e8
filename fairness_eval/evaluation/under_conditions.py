"""One image under every capture condition, scored in memory; attributes derived from it.

The per-image job (per_image.py) decodes an image once and scores it clean; with an
`ImagePlan` it then, in the same task, applies each condition at each severity in memory
(conditions/perturb.py), predicts every degraded copy and scores it against its own ground
truth (only the occluder changes it), and labels the image with the attributes derived
from its clean ground truth (data/derived.py). Nothing is written unless the plan has a
`save_dir` (--save-conditions DIR).

The degraded copies' counts travel in the image's row under CONDITION_ROWS, so the
progress store keeps them with it: a resumed run has all of an image's evaluations or
none, and the resume key (`ImagePlan.resume_key`) refuses a run made under other
conditions. The pipeline splits them off into conditions.csv (`split_condition_rows`).
The seeded conditions draw from the run's seed and the image id, so a row is the same
whichever worker evaluates it, and in whatever order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from ..atomicwrite import make_folders, write_atomically
from ..conditions.perturb import apply_condition
from ..data.derived import derive_attributes
from ..data.samples import Sample
from ..errors import UsageError
from ..metrics.masks import mask_counts
from ..results.names import CONDITION_COLUMNS
from .per_image import DecodedSample, decode_sample, evaluate_decoded, first_line
from .tasks import MAX_BATCH, Row, Task, WorkerContext

if TYPE_CHECKING:
    import pandas as pd

# The key of a row's degraded evaluations (a list of records), popped by the pipeline.
CONDITION_ROWS = "condition_rows"
# Conditions whose result depends on the seed (the others are deterministic functions).
SEEDED_CONDITIONS = ("noise", "occluder")

Predict = Callable[[np.ndarray], np.ndarray]  # RGB image -> boolean person mask


@dataclass(frozen=True)
class ImagePlan:
    """What the per-image job does beyond scoring the clean image."""

    conditions: tuple[tuple[str, tuple[float, ...]], ...] = ()  # (condition, severities)
    derive: tuple[str, ...] = ()  # derived attributes (data/derived.py DERIVED)
    seed: int = 0  # the run's seed: with the image id, seeds noise and the occluder
    save_dir: Path | None = None  # --save-conditions: write the degraded images here

    @classmethod
    def from_settings(cls, settings: Any) -> ImagePlan | None:
        """The plan of a run's `Settings`; None when it asks for neither."""
        if not settings.conditions and not settings.derive:
            return None
        return cls(tuple(settings.severities().items()), tuple(settings.derive),
                   int(settings.seed), settings.save_conditions)

    @property
    def evaluations(self) -> int:
        """Model runs per image: the clean image and one per condition and severity."""
        return 1 + sum(len(levels) for _, levels in self.conditions)

    def describe(self, images: int) -> str:
        """The line that says how conditions multiply the work."""
        if not self.conditions:
            return f"{images} images"
        names = ", ".join(f"{c} x {len(levels)}" for c, levels in self.conditions)
        return (f"{images} images x {self.evaluations} evaluations (clean, {names}): "
                f"{images * self.evaluations} model runs")

    def resume_key(self) -> dict[str, Any]:
        """What an interrupted run and its resumption must agree on (empty plan: nothing)."""
        key: dict[str, Any] = {}
        if self.conditions:
            key["conditions"] = {c: [float(s) for s in levels] for c, levels in self.conditions}
            if any(c in SEEDED_CONDITIONS for c, _ in self.conditions):
                key["conditions_seed"] = self.seed
        if self.derive:
            key["derive"] = list(self.derive)
        return key

    def saved_folder(self, condition: str, severity: float) -> Path:
        """The folder dataset of one condition and severity under `save_dir`."""
        if self.save_dir is None:
            raise ValueError("the plan saves nothing")
        return Path(self.save_dir) / f"{condition}-{severity:g}"

    def saved_names(self, samples: Sequence[Sample]) -> tuple[list[str], list[str]]:
        """(files, folders) that saving writes under `save_dir`, relative to it: the run
        ledger of that folder records them before they are written."""
        folders, files = [], []
        kinds = ("images", "masks", "ignore")
        for condition, levels in self.conditions:
            for severity in levels:
                name = f"{condition}-{severity:g}"
                folders += [name, *(f"{name}/{kind}" for kind in kinds)]
                files += [f"{name}/{kind}/{s.image_id}.png" for s in samples for kind in kinds]
        return files, folders

    def saved_images(self, image_id: str) -> list[Path]:
        """The degraded images `save_dir` holds for one image (empty without `save_dir`)."""
        if self.save_dir is None:
            return []
        return [self.saved_folder(c, s) / "images" / f"{image_id}.png"
                for c, levels in self.conditions for s in levels]


def evaluate_plan(plan: ImagePlan, image: np.ndarray, truth: np.ndarray,
                  ignore: np.ndarray | None, image_id: str, predict: Predict) -> dict[str, Any]:
    """A row's extra entries: each derived attribute's label and, with conditions, the
    degraded evaluations under CONDITION_ROWS (condition, severity, intersection, union,
    iou), in the plan's order."""
    extra: dict[str, Any] = dict(derive_attributes(truth, image, plan.derive)) \
        if plan.derive else {}
    records = []
    for condition, levels in plan.conditions:
        for severity in levels:
            degraded, hidden = apply_condition(condition, severity, image, truth,
                                               seed=plan.seed, image_id=image_id)
            counts = mask_counts(predict(degraded), hidden, ignore)
            records.append({"condition": condition, "severity": float(severity),
                            "intersection": counts.intersection, "union": counts.union,
                            "iou": counts.iou})
            if plan.save_dir is not None:
                _save(Path(plan.save_dir), plan.saved_folder(condition, severity), image_id,
                      degraded, hidden, ignore)
    if plan.conditions:
        extra[CONDITION_ROWS] = records
    return extra


def _save(root: Path, folder: Path, image_id: str, image: np.ndarray, truth: np.ndarray,
          ignore: np.ndarray | None) -> None:
    """One degraded image as a row of a folder dataset: images/, masks/, ignore/ (PNG, so
    evaluating the folder again sees exactly the pixels the run scored). Written below
    `root` (--save-conditions DIR) without following a link there."""
    pictures = {"images": cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image,
                "masks": truth.astype(np.uint8) * 255}
    if ignore is not None:
        pictures["ignore"] = ignore.astype(np.uint8) * 255
    for kind, picture in pictures.items():
        target = folder / kind / f"{image_id}.png"
        encoded, data = cv2.imencode(".png", picture)
        if not encoded:
            raise UsageError(f"--save-conditions: cannot write {target}")
        try:
            make_folders(target.parent, root)
            write_atomically(target, data.tobytes(), root=root)
        except UsageError as error:
            raise UsageError(f"--save-conditions: {error}") from None


def check_plan(settings: Any, dataset: Any) -> None:
    """Refuse, before any image is evaluated, conditions without a model to run (supplied
    --predictions) or on video, a derived attribute that a dataset column already names,
    and an --adjust-for that names no attribute of the run."""
    from ..data.video import VideoDataset

    if (settings.conditions or settings.derive) and isinstance(dataset, VideoDataset):
        raise UsageError(f"--conditions and --derive: not available for video datasets yet "
                         f"({dataset.source})")
    if settings.conditions and getattr(settings, "predictions", None) is not None:
        raise UsageError("--conditions: the degraded images need the model to run; supplied "
                         "--predictions cover only the clean images")
    clashing = [name for name in settings.derive if name in dataset.attribute_columns]
    if clashing:
        raise UsageError(f"--derive {','.join(settings.derive)}: {dataset.source} already has "
                         f"a column {clashing[0]!r}; rename it or leave it out of --derive")
    # any attribute column can stratify, evaluated or not (per_image.csv holds them all)
    known = [*dataset.attribute_columns, *settings.derive]
    if settings.adjust_for is not None and settings.adjust_for not in known:
        hint = ", ".join(known) or "none"
        raise UsageError(f"--adjust-for: {settings.adjust_for!r} is not an attribute of this "
                         f"run (attribute columns: {hint}; derived ones need --derive)")


def keep_saved(done: dict[int, dict[str, Any]], plan: ImagePlan | None
               ) -> dict[int, dict[str, Any]]:
    """The stored rows whose degraded images are all still in --save-conditions DIR (the
    others are evaluated again, which writes them)."""
    if plan is None or plan.save_dir is None:
        return done
    return {row: data for row, data in done.items()
            if all(path.exists() for path in plan.saved_images(data["image"]))}


# --------------------------------------------------------------------------- tasks


def evaluate_planned_batch(context: WorkerContext,
                           payload: tuple[ImagePlan, Sequence[Sample]]) -> list[Row]:
    """The task of a run with a plan: each sample decoded once, scored clean (as
    per_image.py scores every image) and then under the plan."""
    plan, samples = payload
    return [_evaluate_planned(sample, plan, context) for sample in samples]


def _evaluate_planned(sample: Sample, plan: ImagePlan, context: WorkerContext) -> Row:
    decoded = decode_sample(sample)
    if not isinstance(decoded, DecodedSample):
        return decoded
    row = evaluate_decoded(decoded, context.segmenter, context.mask_threshold,
                           context.masks_dir, context.boundary_ratio)
    if row.get("status") != "ok":  # not segmented: nothing to perturb either
        return row
    threshold = context.mask_threshold
    try:
        row.update(evaluate_plan(plan, decoded.image, decoded.truth, decoded.ignore,
                                 sample.image_id,
                                 lambda picture: context.segmenter.predict(picture) > threshold))
    except (cv2.error, ValueError, MemoryError) as error:
        return {**decoded.row, "status": "skipped",
                "reason": f"{sample.image}: could not be evaluated under the conditions "
                          f"({first_line(error)})"}
    return row


def planned_tasks(samples: Sequence[Sample], workers: int, plan: ImagePlan) -> list[Task]:
    """The samples cut into tasks of about MAX_BATCH model runs (an image under 16
    evaluations is a task of its own), at least eight tasks per worker where possible."""
    per_task = max(1, min(MAX_BATCH // plan.evaluations,
                          len(samples) // (max(1, workers) * 8)))
    return [Task(evaluate_planned_batch, (plan, tuple(samples[start:start + per_task])),
                 len(samples[start:start + per_task]))
            for start in range(0, len(samples), per_task)]


# --------------------------------------------------------------------------- the table


def split_condition_rows(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Pop every row's degraded evaluations; conditions.csv's table (CONDITION_COLUMNS),
    by dataset row, then in the plan's order of conditions and severities."""
    import pandas as pd  # here: workers and the run's start-up need no pandas

    records = []
    for row in sorted(rows, key=lambda r: (r.get("row") is None, r.get("row") or 0)):
        for record in row.pop(CONDITION_ROWS, None) or ():
            records.append({"image": row["image"], **record})
    table = pd.DataFrame(records, columns=list(CONDITION_COLUMNS))
    for column in ("intersection", "union"):
        table[column] = table[column].astype("int64")
    table["severity"] = table["severity"].astype(float)
    table["iou"] = table["iou"].astype(float)
    return table


__all__ = ["CONDITION_ROWS", "ImagePlan", "SEEDED_CONDITIONS", "check_plan", "evaluate_plan",
           "evaluate_planned_batch", "keep_saved", "planned_tasks", "split_condition_rows"]
