"""A video dataset's attributes.csv: one row per clip, keyed by clip name in column `clip`.

Groups of a video run are groups of clips. The file's rows are not clips of the
evaluation set, so a bad row (empty or repeated clip, a clip the dataset lacks) stops the
whole dataset, as the folder layout's attributes.csv does.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from ..results.names import PER_CLIP_COLUMNS, PER_FRAME_COLUMNS
from .attributes import check_attribute_names
from .samples import InvalidDataset, Problem
from .tables import cell_text, parse_csv, read_table_file

CLIP_COLUMN = "clip"
# Columns of per_frame.csv and per_clip.csv that an attribute may not take.
RESERVED_COLUMNS = tuple(dict.fromkeys((*PER_FRAME_COLUMNS, *PER_CLIP_COLUMNS)))


def read_clip_attributes(path: Path, clips: set[str]
                     ) -> tuple[dict[str, dict[str, str | None]], list[str], dict[str, int], bytes]:
    """attributes.csv by clip: values, columns, data row per clip, and the file's bytes."""
    if not path.exists():
        return {}, [], {}, b""
    raw = read_table_file(path)
    records = parse_csv(path, raw)
    if not records:
        return {}, [], {}, raw
    header = list(records[0].keys())
    if CLIP_COLUMN not in header:
        raise UsageError(f"{path}: no '{CLIP_COLUMN}' column (columns: {', '.join(header)}); "
                         "a video dataset's attributes describe clips")
    columns = [c for c in header if c != CLIP_COLUMN]
    check_attribute_names(path, columns)
    clashing = [c for c in columns if c in RESERVED_COLUMNS]
    if clashing:
        raise UsageError(f"{path}: attribute column(s) {', '.join(repr(c) for c in clashing)} "
                         "clash with columns of per_frame.csv or per_clip.csv; rename them")
    values: dict[str, dict[str, str | None]] = {}
    lines: dict[str, int] = {}
    problems = []
    for number, record in enumerate(records, start=1):
        name = (record.get(CLIP_COLUMN) or "").strip()
        if not name:
            problems.append(Problem(str(path), "empty 'clip' cell", None, None, number))
        elif name in values:
            problems.append(Problem(str(path), f"duplicate clip (also row {lines[name]})",
                                    None, name, number))
        elif name not in clips:
            problems.append(Problem(str(path), "no such clip in the dataset", None, name,
                                    number))
        else:
            values[name] = {c: cell_text(record.get(c)) for c in columns}
            lines[name] = number
    if problems:
        raise InvalidDataset(problems, f"{len(problems)} problem(s) in {path}; fix them "
                             "(--skip-invalid skips clips, not attribute rows)")
    return values, columns, lines, raw
