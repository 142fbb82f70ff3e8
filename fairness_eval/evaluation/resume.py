"""Resuming an interrupted run: the key that must match, and the rows that can be kept.

The key holds the model's hash, the dataset's source hash and every setting that changes
a per-image number, so a resumed run is identical to an uninterrupted one. A kept row
must still be the same image with the same content; a row that failed is tried again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config.settings import Settings
from ..data.samples import Dataset
from ..errors import UsageError
from ..models.registry import ModelFile
from ..results.names import SCHEMA_VERSION, STATUS_OK
from ..results.versions import versions
from .images import content_sha256
from .under_conditions import ImagePlan


def resume_key(model: ModelFile, dataset: Dataset, settings: Settings) -> dict[str, Any]:
    """What an interrupted run and its resumption must agree on."""
    key = {"model_sha256": model.sha256, "dataset": str(Path(dataset.source).resolve()),
           "dataset_source_sha256": dataset.source_sha256,
           "schema_version": SCHEMA_VERSION,
           "save_masks": settings.save_masks}
    key.update(settings.per_image_key())
    # Conditions and derived attributes add numbers and labels to every row.
    plan = ImagePlan.from_settings(settings)
    if plan is not None:
        key.update(plan.resume_key())
    # Another release of fairness-eval, LiteRT, OpenCV or numpy may change a per-image number.
    found = versions()
    key.update({f"{name}_version": found[name]
                for name in ("fairness_eval", "litert", "opencv", "numpy")})
    return key


def reusable_rows(done: dict[int, dict[str, Any]], dataset: Dataset, masks_dir: Path | None
                  ) -> dict[int, dict[str, Any]]:
    """The stored rows to keep, by row number; refuses a dataset changed since the run."""
    # Rows that failed (an unreadable file) are tried again: the failure may have passed.
    kept = {row: data for row, data in done.items() if data["status"] == STATUS_OK}
    by_row = {s.row: s for s in dataset.samples}
    for row, data in list(kept.items()):
        sample = by_row.get(row)
        if sample is None and getattr(dataset, "subset", None) is not None:
            raise UsageError(f"--resume: row {row} ({data['image']}) of the interrupted run is "
                             f"not among the rows {_subset_text(dataset.subset)} takes; resume "
                             "with the interrupted run's --limit, or --sample and --seed, or "
                             "start a new --out")
        if sample is None or sample.image_id != data["image"]:
            raise UsageError(f"--resume: row {row} ({data['image']}) of the interrupted run is "
                             "not in the dataset any more; start a new --out")
        if data.get("content_sha256") and content_sha256(sample) != data["content_sha256"]:
            raise UsageError(f"--resume: {sample.image_id} changed since the interrupted run "
                             "(image or mask content differs); start a new --out")
        if masks_dir and not (masks_dir / f"{sample.image_id}.png").exists():
            del kept[row]  # its saved mask is gone: evaluate it again
    return kept


def _subset_text(subset: Any) -> str:
    if subset.method == "sample":
        return f"--sample {subset.requested} --seed {subset.seed}"
    return f"--limit {subset.requested}"


def interrupted_note(stored: int, total: int, where: Path, unit: str = "rows") -> str:
    """The line a stopped run leaves: what is kept, and how to go on from it."""
    return (f"interrupted: {stored} of {total} {unit} are kept in {where}; run the same "
            "command with --resume to continue")
