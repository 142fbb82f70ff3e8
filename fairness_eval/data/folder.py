"""The folder layout: `images/`, `masks/` (same stem), optional `ignore/`, optional
`masks_<annotator>/` and an optional `attributes.csv` keyed by image stem in column `image`.

Rows are the files of `images/` in sorted order. Problems in attributes.csv stop the
whole dataset: its rows are not rows of the evaluation set, so they cannot be skipped.

Every file is accounted for (hidden files, such as .DS_Store, aside):
- a file in images/ of a format fairness-eval does not read (.gif, .heic) is a row with
  a problem, never silently left out; a folder inside images/ is named in a note;
- two masks for one image (a.png and a.bmp in one mask folder) are a problem of that
  row: which one is the ground truth is the user's call;
- a mask with no image (an orphan) is a warning: a note naming it, since it changes no
  number but often means an image went missing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from .attributes import read_attributes_csv
from .samples import (
    IMAGE_EXTENSIONS,
    MASK_EXTENSIONS,
    Dataset,
    InvalidDataset,
    Problem,
    Sample,
    unsupported_format,
)

# Suffixes a mask folder's files may have, in order of preference (.png first).
_MASK_PREFERENCE = {ext: rank for rank, ext in enumerate(dict.fromkeys(MASK_EXTENSIONS
                                                                       + IMAGE_EXTENSIONS))}
# How many file names a note shows before "and N more".
_SHOWN = 3


@dataclass
class MaskFolder:
    """One mask folder's files by image stem, and the files that belong to no stem."""

    folder: Path
    by_stem: dict[str, Path] = field(default_factory=dict)
    conflicts: dict[str, list[Path]] = field(default_factory=dict)  # stem -> 2+ masks
    unsupported: dict[str, list[Path]] = field(default_factory=dict)  # stem -> other files

    def orphans(self, stems: set[str]) -> list[Path]:
        """Masks (and other files) whose stem names no file of images/."""
        found = [p for stem, p in self.by_stem.items() if stem not in stems]
        found += [p for stem, paths in self.unsupported.items() if stem not in stems
                  for p in paths]
        return sorted(found)


def load_folder(root: Path) -> Dataset:
    """The samples of a folder dataset; rows without a usable mask become problems."""
    entries = sorted(p for p in (root / "images").iterdir() if not p.name.startswith("."))
    subfolders = [p for p in entries if p.is_dir()]
    files = [p for p in entries if not p.is_dir()]
    annotator_dirs = sorted(p for p in root.glob("masks_*") if p.is_dir())
    table, table_problems, table_bytes = read_attributes_csv(root / "attributes.csv")
    problems: list[Problem] = []
    samples: list[Sample] = []
    seen: dict[str, int] = {}
    attribute_columns = table.columns if table else []
    # One listing per folder, not a stat per candidate file name.
    masks = list_mask_folder(root / "masks")
    ignores = list_mask_folder(root / "ignore")
    annotators = {folder.name.removeprefix("masks_"): list_mask_folder(folder)
                  for folder in annotator_dirs}
    listed: set[str] = set()  # stems and names of every file in images/
    for row, image in enumerate(files, start=1):
        stem = image.stem
        listed.update((stem, image.name))
        if image.suffix.lower() not in IMAGE_EXTENSIONS:
            problems.append(Problem(str(image), _unsupported(image), row, stem))
            continue
        if stem in seen:
            problems.append(
                Problem(str(image), f"duplicate image stem (also row {seen[stem]})", row, stem)
            )
            continue
        seen[stem] = row
        conflict = _first_conflict(stem, [masks, ignores, *annotators.values()])
        if conflict is not None:
            problems.append(Problem(str(conflict[0]), _conflict_reason(conflict), row, stem))
            continue
        mask = masks.by_stem.get(stem)
        if mask is None:
            problems.append(Problem(str(root / "masks" / f"{stem}.png"),
                                    _missing_mask(masks, stem), row, stem))
            continue
        values = table.rows.get(stem, {}) if table else {}
        samples.append(
            Sample(row, stem, image, mask, ignores.by_stem.get(stem),
                   {name: found.by_stem[stem] for name, found in annotators.items()
                    if stem in found.by_stem},
                   {c: values.get(c) for c in attribute_columns})
        )
    if table:
        table_problems += [
            Problem(str(root / "attributes.csv"), "no such image in images/", None, stem, line)
            for stem, line in table.lines.items() if stem not in listed
        ]
    if table_problems:
        # Evaluating around a bad attributes row would attach the wrong attributes to images.
        raise InvalidDataset(table_problems, f"{len(table_problems)} problem(s) in "
                             f"{root / 'attributes.csv'}; fix them (--skip-invalid skips "
                             "images, not attribute rows)")
    stems = {p.stem for p in files}
    notes = [_orphan_note(found, found.orphans(stems))
             for found in (masks, ignores, *annotators.values()) if found.orphans(stems)]
    if subfolders:
        notes.append(f"images/ holds {len(subfolders)} folder(s) ({_names(subfolders)}); "
                     "their files are not evaluated (only files directly in images/ are)")
    listing = "\n".join(p.name for p in files).encode()
    return Dataset(
        root=root,
        name=root.resolve().name,
        source=root,
        rows=len(files),
        samples=samples,
        problems=problems,
        attributes=[],
        attribute_columns=list(attribute_columns),
        notes=notes,
        source_sha256=hashlib.sha256(table_bytes + b"\0" + listing).hexdigest(),
        attribute_file=root / "attributes.csv" if table else None,
        attribute_rows=dict(table.lines) if table else {},
    )


def list_mask_folder(folder: Path) -> MaskFolder:
    """A mask folder's files by stem: the preferred mask, conflicts, and other files."""
    found = MaskFolder(folder)
    if not folder.is_dir():
        return found
    candidates: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_dir():
            continue
        if path.suffix.lower() in _MASK_PREFERENCE:
            candidates.setdefault(path.stem, []).append(path)
        else:
            found.unsupported.setdefault(path.stem, []).append(path)
    for stem, paths in candidates.items():
        paths.sort(key=lambda p: _MASK_PREFERENCE[p.suffix.lower()])
        found.by_stem[stem] = paths[0]
        if len(paths) > 1:
            found.conflicts[stem] = paths
    return found


def index_by_stem(folder: Path) -> dict[str, Path]:
    """Files of a mask folder by stem; where several share a stem, .png comes first."""
    return list_mask_folder(folder).by_stem


def _unsupported(image: Path) -> str:
    return f"{unsupported_format(image)}; convert it or move it out of images/"


def _first_conflict(stem: str, folders: list[MaskFolder]) -> list[Path] | None:
    for found in folders:
        if stem in found.conflicts:
            return found.conflicts[stem]
    return None


def _conflict_reason(paths: list[Path]) -> str:
    names = " and ".join(p.name for p in paths)
    return (f"{len(paths)} masks for one image in {paths[0].parent.name}/ ({names}); "
            "keep only the one that is the ground truth")


def _missing_mask(masks: MaskFolder, stem: str) -> str:
    others = masks.unsupported.get(stem)
    if others:
        return (f"missing mask: {others[0].name} is not a mask format fairness-eval reads "
                f"({', '.join(MASK_EXTENSIONS)})")
    return "missing mask"


def _names(paths: list[Path]) -> str:
    shown = ", ".join(p.name for p in paths[:_SHOWN])
    return shown + (f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else "")


def _orphan_note(found: MaskFolder, orphans: list[Path]) -> str:
    return (f"{found.folder.name}/ holds {len(orphans)} file(s) with no image in images/ "
            f"({_names(orphans)}); not used")
