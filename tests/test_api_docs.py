"""The API reference: README's pdoc command builds it, and its pages document the front
door (`assess`, `evaluate`, `Assessment`, `ResultsDocument.load`) with their examples.

pdoc is in the [test] extra (as in [docs]): a missing pdoc fails here, never skips, since
this test is what keeps README's command working."""

from __future__ import annotations

import html
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _readme_command() -> list[str]:
    """README's one command that builds the reference (`.venv/bin/pdoc ... -o site/api`),
    as the arguments of `python -m pdoc`."""
    commands = [shlex.split(line) for line in (REPO / "README.md").read_text().splitlines()
                if re.match(r"\S*pdoc fairness_eval", line.strip())]
    assert len(commands) == 1, commands
    return ["pdoc", *commands[0][1:]]


def _text(page: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def test_the_readme_command_builds_the_front_doors_pages(tmp_path):
    command = _readme_command()
    out = command.index("-o") + 1
    assert command[out] == "site/api"  # where .gitignore expects it
    command[out] = str(tmp_path / "api")
    subprocess.run([sys.executable, "-m", *command], cwd=REPO, check=True, timeout=300,
                   capture_output=True)
    page = tmp_path / "api" / "fairness_eval" / "api.html"
    source = page.read_text(encoding="utf-8")
    for name in ("assess", "evaluate", "Assessment", "Assessment.by_group",
                 "Assessment.to_frame", "Assessment.verdict", "Assessment.per_image"):
        assert f'id="{name}"' in source, name
    text = _text(page)
    # signatures with type hints and run's defaults, and the doctest examples
    assert "min_group_size: int | str = 30" in text
    assert "model: str = 'selfie'" in text
    assert "res.by_group(\"region\")" in text and "'failed'" in text
    assert "fe.evaluate(data, predictions=" in text
    schema = (tmp_path / "api" / "fairness_eval" / "results" / "schema.html").read_text()
    for name in ("ResultsDocument", "ResultsDocument.load", "ResultsDocument.by_group",
                 "ResultsDocument.to_frame"):
        assert f'id="{name}"' in schema, name
    frames = _text(tmp_path / "api" / "fairness_eval" / "results" / "frames.html")
    assert "deviation_ci_low" in frames  # the columns by_group documents
    assert (tmp_path / "api" / "index.html").is_file()
