"""Inputs and tools shared by the report tests: the fixture run, the MediaPipe 2021 table as a
run folder, and poppler wrappers (pdfinfo, pdftotext, pdftoppm)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
FIXTURE_RUN = TESTS / "fixtures" / "report_run"
SHARED = TESTS.parents[1] / "shared"
MEDIAPIPE_TABLE = SHARED / "reference" / "mediapipe_selfie_2021_card.csv"
SCRIPT_GROUP = "<script>alert(1)</script>"


def fixture_run(tmp_path: Path) -> Path:
    """A writable copy of the hand-made run folder (results.json + per_image.csv)."""
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE_RUN, run_dir)
    return run_dir


def fixture_results() -> dict:
    return json.loads((FIXTURE_RUN / "results.json").read_text(encoding="utf-8"))


def mediapipe_table_results() -> dict:
    """The published MediaPipe 2021 tables through the statistics stage (kind "table")."""
    from fairness_eval.config.command_options import TableSettings
    from fairness_eval.fairness.table import evaluate_table
    from fairness_eval.results.document import SCHEMA_VERSION

    if not MEDIAPIPE_TABLE.is_file():
        pytest.fail(f"shared reference missing: {MEDIAPIPE_TABLE}")
    document = evaluate_table(MEDIAPIPE_TABLE,
                              TableSettings(average=96.57, inter_annotator_iou=98.74))
    document["schema_version"] = SCHEMA_VERSION
    document["command"] = ("fairness-eval card --from-table mediapipe_selfie_2021_card.csv "
                           "--average 96.57 --inter-annotator-iou 98.74")
    return document


def table_run(tmp_path: Path) -> Path:
    """A run folder holding only the MediaPipe table's results.json."""
    run_dir = tmp_path / "table_run"
    run_dir.mkdir()
    (run_dir / "results.json").write_text(json.dumps(mediapipe_table_results()),
                                          encoding="utf-8")
    return run_dir


def dataset_images(run_dir: Path) -> dict:
    """Image id -> its source, from the dataset the run recorded: what the workflow hands
    render_reports for example overlays (reporters never load a dataset)."""
    from fairness_eval.workflow import dataset_images as images_of

    return images_of(run_dir)


def require_tool(name: str) -> str:
    """The tool's path; skips the test (with the package to install) when it is absent."""
    found = shutil.which(name)
    if found is None:
        package = {"pdftotext": "poppler-utils", "pdftoppm": "poppler-utils",
                   "pdfinfo": "poppler-utils"}.get(name, "chromium")
        pytest.skip(f"{name} not installed (apt-get install {package}); .ci/run installs it")
    return found


def pdf_pages(pdf: Path) -> int:
    output = subprocess.run([require_tool("pdfinfo"), str(pdf)], capture_output=True,
                            text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", output, re.M).group(1))


def pdf_text_pages(pdf: Path) -> list[str]:
    """The PDF's text, one string per page (pdftotext separates pages by form feeds)."""
    text = subprocess.run([require_tool("pdftotext"), "-layout", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def pdf_to_png(pdf: Path, folder: Path, resolution: int = 40) -> list[Path]:
    subprocess.run([require_tool("pdftoppm"), "-r", str(resolution), "-png", str(pdf),
                    str(folder / "page")], check=True, capture_output=True)
    return sorted(folder.glob("page-*.png"))
