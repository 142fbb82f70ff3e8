"""Published reports without local paths: a results document (or comparison) as the cards show it.

results.json and comparison.json keep the full paths, for the machine that made them. What
is published (the model card as HTML and PDF, summary.md, model_card.json, the comparison
card and comparison.md) names a file relative to the dataset or by its name, beside the
SHA-256 the record already holds, never by an absolute path of this machine: the model
cache, the dataset's folder, the run folder, the user's home.

`redact_results` and `redact_record` return a copy of the record (a tree of frozen
dataclasses) with every text value rewritten by `PathRedactor.text`, so every reporter
formats the copy unchanged:

- the dataset's path becomes its folder's name (a manifest: the manifest's file name; a
  path inside the dataset: relative to it, under that name);
- a run folder becomes its name;
- any other absolute path (the model file in the cache, a model spec, supplied predictions,
  a card or configuration file) becomes its file name;
- URLs are left as they are.

Keys of mappings (attribute and group names) are never rewritten.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, TypeVar

from ..results.codec import field_spec
from ..results.schema import ResultsDocument

Record = TypeVar("Record")

# An absolute POSIX path inside text: a "/" that starts a word (not inside a URL, a
# fraction "1/2" or a ratio "I / U") followed by at least one path component.
_ABSOLUTE = re.compile(r"(?<![\w:/.~\-\])>])/(?:[^\s/\"'<>|,;()\[\]]+/)*[^\s/\"'<>|,;()\[\]]+/?")


@dataclass(frozen=True)
class PathRedactor:
    """Rewrites the absolute paths in a text: known ones first, then any other."""

    replacements: tuple[tuple[str, str], ...] = ()  # (absolute prefix, shown as), longest first

    @classmethod
    def of(cls, dataset: str | None = None, folders: Iterable[str | None] = ()) -> PathRedactor:
        """A redactor for a run over `dataset` (its recorded path) written to `folders`."""
        found: dict[str, str] = {}
        if dataset and dataset.startswith("/"):
            path = PurePosixPath(dataset.rstrip("/") or "/")
            if path.suffix:  # a manifest or an annotation file: paths are relative to its folder
                found[str(path)] = path.name
                found[str(path.parent) + "/"] = ""
            else:
                found[str(path) + "/"] = path.name + "/"
                found[str(path)] = path.name
        for folder in folders:
            if folder and folder.startswith("/"):
                path = PurePosixPath(folder.rstrip("/") or "/")
                found.setdefault(str(path) + "/", path.name + "/")
                found.setdefault(str(path), path.name)
        ordered = sorted(found.items(), key=lambda item: len(item[0]), reverse=True)
        return cls(tuple(ordered))

    def text(self, value: str) -> str:
        """`value` with every absolute path replaced (see the module docstring)."""
        if "/" not in value:
            return value
        for prefix, shown in self.replacements:
            value = _replace_path(value, prefix, shown)
        return _ABSOLUTE.sub(_file_name, value)

    def tree(self, value: Any) -> Any:
        """Parsed JSON with every text value rewritten (mapping keys kept)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.tree(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.tree(item) for item in value]
        return value


def _replace_path(value: str, prefix: str, shown: str) -> str:
    """Replace `prefix` where it starts a path: not in the middle of a longer name."""
    if prefix.endswith("/"):
        pattern = rf"(?<![\w/.\-]){re.escape(prefix)}"
    else:
        pattern = rf"(?<![\w/.\-]){re.escape(prefix)}(?![\w.\-])"
    return re.sub(pattern, lambda _: shown, value)


def _file_name(match: re.Match[str]) -> str:
    name = PurePosixPath(match.group(0).rstrip("/")).name
    return name or match.group(0)


def redact_results(results: ResultsDocument, folders: Iterable[str | None] = ()
                   ) -> ResultsDocument:
    """A copy of `results` whose texts name no absolute path (`folders`: the run folder,
    shown by its name)."""
    dataset = results.dataset.path if results.dataset is not None else None
    return redact_record(results, folders, dataset)


def redact_record(record: Record, folders: Iterable[str | None] = (),
                  dataset: str | None = None) -> Record:
    """A copy of any record of the contract (a results document, a comparison) whose texts
    name no absolute path; `folders` are shown by their names, `dataset` as
    `PathRedactor.of` says."""
    return _rewritten(record, PathRedactor.of(dataset, folders))


def _rewritten(value: Any, redactor: PathRedactor) -> Any:
    """`value` with every text in it rewritten: records field by field (a field that is its
    mapping key, a group's name, kept), tuples, lists and mappings item by item (keys kept)."""
    if isinstance(value, str):
        return redactor.text(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _rewritten(getattr(value, f.name), redactor)
                   for f in dataclasses.fields(value)
                   if f.init and not field_spec(f).from_key}
        return dataclasses.replace(value, **changes)
    if isinstance(value, tuple):
        return tuple(_rewritten(item, redactor) for item in value)
    if isinstance(value, list):
        return [_rewritten(item, redactor) for item in value]
    if isinstance(value, Mapping):
        return {key: _rewritten(item, redactor) for key, item in value.items()}
    return value


__all__ = ["PathRedactor", "redact_record", "redact_results"]
