"""Fuzzing of the manifest and attributes parsers: any input is a Dataset or a UsageError.

Whatever bytes a user puts in a manifest (CSV or JSON Lines) or an `attributes.csv`, the
loader must either return a Dataset or raise `UsageError` with a message naming the file;
any other exception would reach the user as a traceback. Paths in fuzzed manifests are not
opened (`check_files=False`), since arbitrary text can name any file on the machine; a
second property builds manifests from a fixed set of real good and broken files and checks
them in full.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fairness_eval.data.dataset import load_dataset
from fairness_eval.data.samples import Dataset
from fairness_eval.errors import UsageError

FUZZ = settings(max_examples=300, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text that looks like a manifest often enough to get past the header checks.
HEADER_WORDS = st.sampled_from(["image", "mask", "ignore", "mask_b", "region", "skin_tone",
                                "gender", "site", ""])
CELL_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["a.jpg", "../x.jpg", "/abs/y.png", "7", "1", "male", "NaN", "", " ",
                     "europe", "\x00", "a\x00b.png", "..", ".", "/", "~", '"', ","]),
)


def _csv_line(cells: list[str]) -> str:
    return ",".join(cells)


CSV_LIKE = st.builds(
    lambda header, rows: "\n".join([_csv_line(header), *(_csv_line(r) for r in rows)]),
    st.lists(HEADER_WORDS, min_size=0, max_size=5),
    st.lists(st.lists(CELL_TEXT, max_size=6), max_size=5),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                               max_size=3),
    max_leaves=6,
)
JSONL_LIKE = st.lists(
    st.one_of(
        st.dictionaries(st.one_of(HEADER_WORDS, st.text(max_size=6)),
                        st.one_of(CELL_TEXT, JSON_VALUES), max_size=5)
        .map(lambda d: json.dumps(d, ensure_ascii=False)),
        st.text(max_size=20),
    ),
    max_size=5,
).map("\n".join)


def _load(path: Path, **options) -> Dataset | None:
    """load_dataset, with UsageError as the one acceptable failure (its message names a file)."""
    try:
        dataset = load_dataset(path, **options)
    except UsageError as error:
        message = str(error)
        assert "\n" not in message.strip(), message
        assert str(path.name) in message or "--" in message, message
        return None
    assert isinstance(dataset, Dataset)
    # Every row given is either valid or listed once among the problems, by its row.
    problem_rows = [p.row for p in dataset.problems]
    assert None not in problem_rows and len(set(problem_rows)) == len(problem_rows)
    assert len(dataset.samples) + len(problem_rows) == dataset.rows
    assert not {s.row for s in dataset.samples} & set(problem_rows)
    return dataset


@pytest.fixture(scope="module")
def scratch():
    folder = Path(tempfile.mkdtemp(prefix="fuzz-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
@FUZZ
@given(content=st.one_of(CSV_LIKE, st.text(), st.binary(max_size=200)))
@example(content=b"image,mask\n\xff\xfe,x\n")
@example(content="image,mask\na\x00b.jpg,m.png\n")
@example(content="image,mask\n\"unterminated,m.png\n")
@example(content="\ufeffimage,mask\na.jpg,m.png\n")
@example(content="image,mask,image\na,b,c\n")
def test_any_csv_manifest_is_a_dataset_or_a_usage_error(scratch, content):
    manifest = scratch / "manifest-fuzz.csv"
    manifest.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8",
                                                                                   "surrogatepass"))
    _load(manifest, check_files=False)


@pytest.mark.slow
@FUZZ
@given(content=st.one_of(JSONL_LIKE, st.text(), st.binary(max_size=200)))
@example(content='{"image": "a.jpg", "mask": "m.png", "n": ' + "9" * 5000 + "}")
@example(content='{"image": "a\\u0000.jpg", "mask": "m.png"}')
@example(content='{"image": "a.jpg", "mask": "m.png", "note": "x\u2028y"}')
@example(content='[1, 2]\n"text"\nnull')
@example(content='{"image": "a.jpg", "mask": "m.png", "n": 1e999}')
def test_any_jsonl_manifest_is_a_dataset_or_a_usage_error(scratch, content):
    manifest = scratch / "manifest-fuzz.jsonl"
    manifest.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8",
                                                                                   "surrogatepass"))
    _load(manifest, check_files=False)


def test_jsonl_strings_may_hold_unicode_line_separators(tmp_path):
    """JSON allows U+2028 inside a string; JSON Lines splits records on newlines only."""
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"image": "a.jpg", "mask": "m.png", "note": "x\u2028y"}\n',
                        encoding="utf-8")
    dataset = load_dataset(manifest, check_files=False)
    assert dataset.rows == 1 and dataset.samples[0].attributes["note"] == "x\u2028y"


@pytest.fixture(scope="module")
def folder_with_images():
    """A folder dataset of three tiny valid images and masks; attributes.csv is fuzzed."""
    root = Path(tempfile.mkdtemp(prefix="fuzz-folder-"))
    (root / "images").mkdir()
    (root / "masks").mkdir()
    for stem in ("a", "b", "c"):
        cv2.imwrite(str(root / "images" / f"{stem}.png"), np.full((4, 6, 3), 90, np.uint8))
        cv2.imwrite(str(root / "masks" / f"{stem}.png"), np.zeros((4, 6), np.uint8))
    yield root
    shutil.rmtree(root, ignore_errors=True)


ATTRIBUTE_ROWS = st.builds(
    lambda header, rows: "\n".join([_csv_line(header), *(_csv_line(r) for r in rows)]),
    st.lists(st.sampled_from(["image", "region", "skin_tone", "gender", "site", ""]),
             max_size=4),
    st.lists(st.lists(st.one_of(st.sampled_from(["a", "b", "c", "a.jpg", "zz"]), CELL_TEXT),
                      max_size=5), max_size=6),
)


@pytest.mark.slow
@FUZZ
@given(content=st.one_of(ATTRIBUTE_ROWS, st.text(), st.binary(max_size=200)))
@example(content="image,skin_tone\na,7\nb,3\n")
@example(content="image,region\na,atlantis\n")
@example(content="image\na\na\n")
def test_any_attributes_csv_is_a_dataset_or_a_usage_error(folder_with_images, content):
    table = folder_with_images / "attributes.csv"
    table.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8",
                                                                                "surrogatepass"))
    dataset = _load(folder_with_images)  # checks that every row is accounted for
    if dataset is not None:
        assert dataset.rows == 3  # the images, whatever attributes.csv holds


def test_skin_tone_seven_is_a_row_problem_naming_the_row(folder_with_images):
    (folder_with_images / "attributes.csv").write_text("image,skin_tone\na,7\nb,3\n")
    dataset = load_dataset(folder_with_images)
    assert [s.image_id for s in dataset.samples] == ["b", "c"]
    (problem,) = dataset.problems
    assert problem.row == 1 and problem.image == "a" and "skin_tone '7'" in problem.reason


@pytest.fixture(scope="module")
def file_pool():
    """Real files, good and broken, that fuzzed manifests may point at."""
    root = Path(tempfile.mkdtemp(prefix="fuzz-pool-"))
    good = np.full((8, 10, 3), 120, np.uint8)
    cv2.imwrite(str(root / "good.png"), good)
    cv2.imwrite(str(root / "good.jpg"), good)
    cv2.imwrite(str(root / "mask.png"), np.zeros((8, 10), np.uint8))
    cv2.imwrite(str(root / "small.png"), np.zeros((3, 3), np.uint8))
    cv2.imwrite(str(root / "rgb.png"), good)
    cv2.imwrite(str(root / "deep.png"), np.zeros((8, 10), np.uint16))
    (root / "empty.png").write_bytes(b"")
    (root / "text.jpg").write_text("not an image\n")
    (root / "cut.jpg").write_bytes((root / "good.jpg").read_bytes()[:40])
    (root / "folder.png").mkdir()
    (root / "loop.png").symlink_to(root / "loop.png")
    yield root
    shutil.rmtree(root, ignore_errors=True)


POOL_NAMES = ["good.png", "good.jpg", "mask.png", "small.png", "rgb.png", "deep.png",
              "empty.png", "text.jpg", "cut.jpg", "folder.png", "loop.png", "absent.png",
              "../outside.png", ""]


@pytest.mark.slow
@FUZZ
@given(rows=st.lists(st.tuples(st.sampled_from(POOL_NAMES), st.sampled_from(POOL_NAMES),
                               st.sampled_from(POOL_NAMES + [None])), max_size=6))
def test_manifests_over_real_broken_files_account_for_every_row(file_pool, rows):
    manifest = file_pool / "pool.jsonl"
    lines = []
    for image, mask, ignore in rows:
        record = {"image": image, "mask": mask}
        if ignore is not None:
            record["ignore"] = ignore
        lines.append(json.dumps(record))
    manifest.write_text("\n".join(lines) + "\n")
    dataset = _load(manifest)
    if dataset is None:
        assert not rows  # the only dataset-level failure here is an empty manifest
        return
    rows_with_problems = {p.row for p in dataset.problems}
    assert len(rows_with_problems) + len(dataset.samples) == dataset.rows == len(rows)
    readable = {"good.png", "good.jpg", "mask.png", "small.png", "rgb.png", "deep.png"}
    for sample in dataset.samples:
        assert sample.image.name in readable
        assert {p.name for p in sample.files()[1:]} <= {"mask.png", "small.png"}
