"""Attribute votes from a Label Studio JSON export.

Label Studio exports a list of tasks. A task's `data.<key>` names its image (`image` by
default, `--votes-image-key` otherwise); each of its `annotations` is one annotator's work
(`completed_by`: the user's id, or an object with `id` and `email`), whose `result` holds a
`choices` result per classification: `from_name` is the attribute, `value.choices` its one
chosen value. Results of other types (boxes, polygons) are not votes and are passed over.

An image is matched by its file name without the upload prefix Label Studio puts before
uploaded files (8 hex digits and a dash: `/data/upload/1/3f2a9c1d-photo.jpg` is `photo`);
a URL's query and the path before the name are ignored. An annotation the annotator
skipped (`was_cancelled: true`) holds no vote: it is left out and counted
(`VoteTable.skipped`). A problem's row is the task's position in the export (1-based), and
its reason names the task's id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from ..errors import UsageError
from .attributes import image_stem
from .samples import Problem
from .tables import decode_text, read_table_file
from .votes import Vote, VoteTable, build_table

_UPLOAD_PREFIX = re.compile(r"^[0-9a-f]{8}-", re.IGNORECASE)


def task_image(reference: str) -> str:
    """The image id of a task's file reference: its file name's stem, upload prefix removed."""
    name = PurePosixPath(unquote(urlsplit(reference).path)).name
    return image_stem(_UPLOAD_PREFIX.sub("", name, count=1))


def annotator_of(completed_by: object) -> str | None:
    """An annotation's annotator: `completed_by` as an id, or an object's id (else email)."""
    if isinstance(completed_by, dict):
        completed_by = completed_by.get("id", completed_by.get("email"))
    if isinstance(completed_by, bool) or completed_by is None:
        return None
    if isinstance(completed_by, int | str) and str(completed_by).strip():
        return str(completed_by).strip()
    return None


def _task_votes(task: object, number: int, image_key: str, source: str,
                votes: list[Vote], problems: list[Problem]) -> int:
    """Add one task's votes (or problems); return how many of its annotations were skipped."""
    def problem(reason: str, image: str | None = None) -> None:
        problems.append(Problem(source, reason, None, image, number))

    if not isinstance(task, dict):
        problem("a task must be a JSON object")
        return 0
    where = f"task {task.get('id')}" if task.get("id") is not None else "task"
    data = task.get("data")
    reference = data.get(image_key) if isinstance(data, dict) else None
    if not isinstance(reference, str) or not task_image(reference):
        problem(f"{where}: no image file name in data.{image_key} (--votes-image-key names "
                "the key)")
        return 0
    image = task_image(reference)
    annotations = task.get("annotations", [])
    if not isinstance(annotations, list):
        problem(f"{where}: 'annotations' is not a list", image)
        return 0
    skipped = 0
    for position, annotation in enumerate(annotations, start=1):
        if not isinstance(annotation, dict):
            problem(f"{where}: annotation {position} is not a JSON object", image)
            continue
        if annotation.get("was_cancelled") is True:
            skipped += 1
            continue
        annotator = annotator_of(annotation.get("completed_by"))
        if annotator is None:
            problem(f"{where}: annotation {position} names no annotator (completed_by)", image)
            continue
        results = annotation.get("result", [])
        if not isinstance(results, list):
            problem(f"{where}: annotation {position}'s 'result' is not a list", image)
            continue
        for result in results:
            value = result.get("value") if isinstance(result, dict) else None
            if not isinstance(value, dict) or "choices" not in value:
                continue  # not a classification (a box, a polygon, a text area)
            attribute = result.get("from_name")
            choices = value["choices"]
            if not isinstance(attribute, str) or not attribute.strip():
                problem(f"{where}: a choices result of annotation {position} has no "
                        "from_name", image)
            elif (not isinstance(choices, list) or len(choices) != 1
                  or not isinstance(choices[0], str) or not choices[0].strip()):
                problem(f"{where}: annotator {annotator!r} gives {attribute} "
                        f"{json.dumps(choices)[:60]}; one value per attribute is expected",
                        image)
            else:
                votes.append(Vote(image, attribute.strip(), choices[0].strip(), annotator,
                                  number))
    return skipped


def read_label_studio(path: Path, image_key: str = "image",
                      vocabularies: Mapping[str, str] | None = None) -> VoteTable:
    """Votes from a Label Studio JSON export (a list of tasks)."""
    text = decode_text(path, read_table_file(path, "--attribute-votes"))
    try:
        tasks = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"{path}: not JSON ({error.msg} at line {error.lineno})") from None
    except (ValueError, RecursionError):
        raise UsageError(f"{path}: not usable JSON") from None
    if not isinstance(tasks, list):
        raise UsageError(f"{path}: a Label Studio JSON export is a list of tasks, got "
                         f"{type(tasks).__name__}")
    votes: list[Vote] = []
    problems: list[Problem] = []
    skipped = sum(_task_votes(task, number, image_key, str(path), votes, problems)
                  for number, task in enumerate(tasks, start=1))
    return build_table(path, "label-studio", votes, problems, vocabularies, skipped)


__all__ = ["annotator_of", "read_label_studio", "task_image"]
