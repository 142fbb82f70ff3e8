"""Normalise a run's outputs for the golden tests: drop what legitimately changes between
runs (timestamps, versions, the command line, absolute paths) and keep every number."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

VOLATILE_KEYS = ("started", "finished", "versions", "command")


def normalised_results(path: Path, out_dir: Path) -> dict[str, Any]:
    document = json.loads(path.read_text())
    for key in VOLATILE_KEYS:
        document.pop(key, None)
    text = json.dumps(document, sort_keys=True)
    text = text.replace(str(out_dir), "<out>")
    text = re.sub(r'"[^"]*/shared/', '"<shared>/', text)
    text = re.sub(r'"[^"]*/fairness-eval/models/', '"<models>/', text)
    return json.loads(text)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("style", "svg", "script"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "svg", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(" ".join(data.split()))


def card_text(path: Path, out_dir: Path) -> list[str]:
    """The visible text of an HTML card (charts and styles left out), volatile parts masked."""
    parser = _Text()
    parser.feed(path.read_text())
    lines = []
    for line in parser.parts:
        line = line.replace(str(out_dir), "<out>")
        line = re.sub(r"\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d)?Z?( UTC)?)?", "<time>", line)
        line = re.sub(r"\b\d+\.\d+\.\d+\b", "<version>", line)
        line = re.sub(r"\S*/shared/", "<shared>/", line)
        line = re.sub(r"\S*/fairness-eval/models/", "<models>/", line)
        if lines and lines[-1] == "results.json SHA-256":  # covers its timestamps
            line = "<sha256>"
        lines.append(line)
    return lines
