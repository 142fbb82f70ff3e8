"""docs/tutorial.md runs as written: its `python` cells in order in one namespace (per part),
each cell's printed output compared with the `text` block under it (`...` matches any text,
as in a doctest). The part from a dataset runs the real model (slow)."""

from __future__ import annotations

import contextlib
import doctest
import io
import re
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TUTORIAL = REPO / "docs" / "tutorial.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.M | re.S)
DATASET_PART = "## From a dataset"


def cells(text: str) -> list[tuple[str, str | None]]:
    """(code, expected output or None) of each python block, in order: a text block right
    after a python block (nothing but blank lines between) is what it prints."""
    blocks = [(m.group(1), m.group(2), m.start(), m.end()) for m in FENCE.finditer(text)]
    out: list[tuple[str, str | None]] = []
    for i, (kind, body, _, end) in enumerate(blocks):
        if kind != "python":
            continue
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        expected = (following[1] if following and following[0] == "text"
                    and not text[end:following[2]].strip() else None)
        out.append((body, expected))
    return out


def parts() -> tuple[str, str]:
    text = TUTORIAL.read_text(encoding="utf-8")
    before, marker, after = text.partition(DATASET_PART)
    assert marker, f"{TUTORIAL.name}: no part {DATASET_PART!r}"
    return before, after


def run_cells(text: str) -> dict:
    checker = doctest.OutputChecker()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    namespace: dict = {"__name__": "__tutorial__"}
    found = cells(text)
    assert found
    for number, (code, expected) in enumerate(found, 1):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, f"{TUTORIAL.name} cell {number}", "exec"), namespace)
        if expected is not None:
            got = printed.getvalue()
            assert checker.check_output(expected, got, flags), (
                f"cell {number}:\n{code}\nexpected:\n{expected}\ngot:\n{got}")
    return namespace


def test_the_cells_are_found():
    before, after = parts()
    assert len(cells(before)) >= 6 and len(cells(after)) >= 3
    assert all(expected is not None for _, expected in cells(before))


def test_the_part_from_a_per_image_table_runs_as_written(monkeypatch):
    monkeypatch.chdir(REPO)
    namespace = run_cells(parts()[0])
    shutil.rmtree(namespace["folder"])  # the stand-in run folder the tutorial made


@pytest.mark.slow
def test_the_part_from_a_dataset_runs_as_written(monkeypatch, voc_dataset, model_file):
    monkeypatch.chdir(REPO)
    namespace = run_cells(parts()[1])
    # the temporary folders the tutorial made: the manifest's and the run's
    for folder in (namespace["manifest"].parent, namespace["res"].run_dir):
        shutil.rmtree(folder)


# --- README's "Python API" example ---------------------------------------------------------

README = REPO / "README.md"
README_DATASET = '"../shared/datasets/voc2012_person"'


def readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.partition("## Python API")[2].partition("\n## ")[0]
    blocks = [m.group(2) for m in FENCE.finditer(section) if m.group(1) == "python"]
    assert len(blocks) == 1, "README's Python API section: one python example"
    return blocks[0]


def test_the_readme_example_calls_the_real_api():
    """Every `fe.NAME(...)` of the example is a name of the package whose signature takes
    the example's arguments (a misspelt keyword would land in **unknown and be refused)."""
    import ast
    import inspect

    import fairness_eval as fe

    calls = [node for node in ast.walk(ast.parse(readme_example()))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and isinstance(node.func.value, ast.Name) and node.func.value.id == "fe"]
    assert {"evaluate", "assess"} <= {call.func.attr for call in calls}
    for call in calls:
        function = getattr(fe, call.func.attr)
        parameters = inspect.signature(function).parameters
        named = {p.name for p in parameters.values() if p.kind is not p.VAR_KEYWORD}
        for keyword in call.keywords:
            assert keyword.arg in named, f"fe.{call.func.attr}: no keyword {keyword.arg!r}"
    used = {(node.value.id, node.attr) for node in ast.walk(ast.parse(readme_example()))
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id in ("res", "doc")}
    kinds = {"res": fe.Assessment, "doc": fe.ResultsDocument}
    assert {name for _, name in used} >= {"by_group", "verdict", "per_image", "run_dir"}
    for variable, name in used:
        assert hasattr(kinds[variable], name), f"{variable}.{name}"


@pytest.mark.slow
def test_the_readme_example_runs(tmp_path, monkeypatch, voc_dataset, model_file):
    """The example as written, with 12 VOC images (a manifest) for the whole dataset."""
    import pandas as pd

    people = pd.read_csv(voc_dataset / "attributes.csv", dtype={"image": str}).head(12)
    manifest = tmp_path / "voc12.csv"
    pd.DataFrame({
        "image": [str(voc_dataset / "images" / f"{s}.jpg") for s in people["image"]],
        "mask": [str(voc_dataset / "masks" / f"{s}.png") for s in people["image"]],
        "bourdev_subcategory": people["bourdev_subcategory"],
    }).to_csv(manifest, index=False)
    code = readme_example()
    assert README_DATASET in code
    monkeypatch.chdir(REPO)
    namespace: dict = {}
    exec(compile(code.replace(README_DATASET, repr(str(manifest))), "README.md", "exec"),
         namespace)
    res, again, doc = namespace["res"], namespace["again"], namespace["doc"]
    try:
        assert res.verdict == "nothing-checked"  # no group of 20 among 12 images
        assert len(res.per_image) == 12 and (res.run_dir / "model_card.html").is_file()
        pd.testing.assert_frame_equal(again.by_group(), res.by_group())
        assert doc == res.document
    finally:
        shutil.rmtree(res.run_dir)
