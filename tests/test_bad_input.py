"""The bad-input corpus: every kind of broken input meets one clear line and exit code 2.

Each case builds a real broken input in a temporary folder (files made here, next to real
VOC images and masks named by absolute path) and runs the real CLI in a child process, the
way a user or a CI job does: the exit-code mapping lives in `cli.main()`. The contract
checked for each: exit code 2, no traceback, exactly one stderr line naming the file, row
or option at fault with its reason, and the last line `fairness-eval: error: ...`. Under
`--skip-invalid` the same broken rows are recorded as skipped instead, with
evaluated + skipped == rows.

Decisions these tests pin down (see fairness_eval/dataset.py):
- a mask with values other than 0 and 255 is accepted: >= 128 is person;
- a relative path climbing out of the manifest's folder with '..' is refused; an absolute
  path is taken as given.

Failures that cannot be staged from outside the process (a full disk) are simulated
in-process around `cli.main()`.
"""

from __future__ import annotations

import builtins
import csv
import errno
import json
import os
import sqlite3
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytest

from fairness_eval import atomicwrite, cli
from fairness_eval.config.files import load_config
from fairness_eval.data.dataset import load_dataset
from fairness_eval.errors import UsageError
from fairness_eval.evaluation.store import ProgressStore
from fairness_eval.evaluation.workers import evaluate_samples
from fairness_eval.fairness.table import read_table

CLI = [sys.executable, "-c",
       "import sys; sys.argv[0] = 'fairness-eval'; from fairness_eval.cli import main; main()"]
FAST = ["--workers", "1", "--bootstrap", "200", "--format", ""]
HEADER = ["image", "mask", "ignore", "mask_b", "skin_tone", "region"]


def fairness_eval(*arguments: object, env: dict[str, str] | None = None
                  ) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, arguments)], capture_output=True, text=True,
                          timeout=300, env=None if env is None else {**os.environ, **env})


def assert_refused(done: subprocess.CompletedProcess, names: str, reason: str) -> str:
    """Exit 2, no traceback, exactly one line naming `names` and giving `reason`."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, f"exit {done.returncode}: {done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    naming = [line for line in lines if names in line]
    assert len(naming) == 1, f"lines naming {names!r}: {naming}\nstderr: {lines}"
    assert reason in naming[0], naming[0]
    assert lines[-1].startswith("fairness-eval: error: "), lines
    return naming[0]


# --- broken files --------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_bytes(height: int, width: int, colour_type: int, channels: int,
              idat: bytes | None = None, palette: bytes | None = None) -> bytes:
    """A PNG OpenCV cannot write: palette (type 3), grey + alpha (type 4), or corrupt data."""
    rows = b"".join(b"\0" + bytes(width * channels) for _ in range(height))
    data = b"\x89PNG\r\n\x1a\n" + _chunk(
        b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))
    if palette is not None:
        data += _chunk(b"PLTE", palette)
    data += _chunk(b"IDAT", zlib.compress(rows) if idat is None else idat)
    return data + _chunk(b"IEND", b"")


@dataclass
class Corpus:
    """Real VOC rows to keep a dataset valid, and a folder to break things in."""

    voc: Path
    folder: Path
    stems: list[str] = field(default_factory=list)

    def image(self, i: int = 0) -> Path:
        return self.voc / "images" / f"{self.stems[i]}.jpg"

    def mask(self, i: int = 0) -> Path:
        return self.voc / "masks" / f"{self.stems[i]}.png"

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the second VOC row, the image broken rows pair with."""
        height, width = cv2.imread(str(self.mask(1)), cv2.IMREAD_UNCHANGED).shape
        return height, width

    def write(self, name: str, data: bytes) -> str:
        (self.folder / name).write_bytes(data)
        return name

    def manifest(self, rows: list[dict[str, str]], name: str = "manifest.csv") -> Path:
        """A CSV manifest: row 1 a good VOC row, then `rows` (relative to the folder)."""
        path = self.folder / name
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, HEADER)
            writer.writeheader()
            writer.writerow({"image": self.image(0), "mask": self.mask(0)})
            for row in rows:
                writer.writerow({"image": self.image(1), "mask": self.mask(1), **row})
        return path


def _good_copy(corpus: Corpus, name: str) -> str:
    """A valid image of its own stem (a symlink to VOC row 2's image)."""
    link = corpus.folder / name
    if not link.is_symlink():
        link.symlink_to(corpus.image(1))
    return name


# Row-level cases: (name, the manifest row (row 2), text naming the culprit, reason).
RowCase = Callable[[Corpus], tuple[dict[str, str], str, str]]


def _zero_byte_image(c: Corpus):
    return {"image": c.write("zero.jpg", b"")}, "zero.jpg", "empty file (0 bytes)"


def _truncated_jpeg(c: Corpus):
    data = c.image(1).read_bytes()
    return {"image": c.write("cut.jpg", data[: len(data) // 2])}, "cut.jpg", "truncated JPEG"


def _truncated_png_image(c: Corpus):
    ok, encoded = cv2.imencode(".png", cv2.imread(str(c.image(1))))
    assert ok
    data = encoded.tobytes()
    return ({"image": c.write("cutpng.png", data[: len(data) // 2])}, "cutpng.png",
            "truncated PNG")


def _text_file_image(c: Corpus):
    return ({"image": c.write("notes.jpg", b"these are my notes\n")}, "notes.jpg",
            "not a readable image")


def _missing_image(c: Corpus):
    return {"image": "absent.jpg"}, "absent.jpg", "image file not found"


def _folder_image(c: Corpus):
    (c.folder / "folder.jpg").mkdir(exist_ok=True)
    return {"image": "folder.jpg"}, "folder.jpg", "image is not a file"


def _symlink_loop(c: Corpus):
    loop = c.folder / "loop.jpg"
    if not loop.is_symlink():
        loop.symlink_to(loop)
    return {"image": "loop.jpg"}, "loop.jpg", "symlink loop"


def _empty_image_cell(c: Corpus):
    return {"image": ""}, "row 2", "empty 'image' cell"


def _mask_of_another_size(c: Corpus):
    ok, data = cv2.imencode(".png", np.zeros((10, 12), np.uint8))
    height, width = c.size
    return ({"image": _good_copy(c, "sized.jpg"), "mask": c.write("small.png", data.tobytes())},
            "small.png", f"mask is 12x10 but the image is {width}x{height}")


def _rgb_mask(c: Corpus):
    height, width = c.size
    ok, data = cv2.imencode(".png", np.zeros((height, width, 3), np.uint8))
    return ({"image": _good_copy(c, "rgbmask.jpg"), "mask": c.write("rgb.png", data.tobytes())},
            "rgb.png", "mask has 3 channels")


def _sixteen_bit_mask(c: Corpus):
    height, width = c.size
    ok, data = cv2.imencode(".png", np.zeros((height, width), np.uint16))
    return ({"image": _good_copy(c, "deepmask.jpg"), "mask": c.write("deep.png", data.tobytes())},
            "deep.png", "mask is 16-bit; expected 8-bit")


def _palette_mask(c: Corpus):
    height, width = c.size
    data = png_bytes(height, width, 3, 1, palette=bytes([0, 0, 0, 255, 255, 255]))
    return ({"image": _good_copy(c, "palmask.jpg"), "mask": c.write("palette.png", data)},
            "palette.png", "mask is a palette PNG")


def _grey_alpha_mask(c: Corpus):
    height, width = c.size
    return ({"image": _good_copy(c, "gamask.jpg"),
             "mask": c.write("grey_alpha.png", png_bytes(height, width, 4, 2))},
            "grey_alpha.png", "mask has 2 channels")


def _missing_mask(c: Corpus):
    return ({"image": _good_copy(c, "nomask.jpg"), "mask": "absent_mask.png"},
            "absent_mask.png", "mask file not found")


def _zero_byte_mask(c: Corpus):
    return ({"image": _good_copy(c, "zeromask.jpg"), "mask": c.write("empty_mask.png", b"")},
            "empty_mask.png", "unreadable mask: empty file")


def _ignore_of_another_size(c: Corpus):
    ok, data = cv2.imencode(".png", np.zeros((7, 7), np.uint8))
    return ({"image": _good_copy(c, "ign.jpg"), "ignore": c.write("ignore.png", data.tobytes())},
            "ignore.png", "ignore mask is 7x7")


def _annotator_mask_rgb(c: Corpus):
    height, width = c.size
    ok, data = cv2.imencode(".png", np.zeros((height, width, 3), np.uint8))
    return ({"image": _good_copy(c, "ann.jpg"), "mask_b": c.write("ann_rgb.png", data.tobytes())},
            "ann_rgb.png", "mask of annotator b has 3 channels")


def _duplicate_row(c: Corpus):
    return ({"image": str(c.image(0)), "mask": str(c.mask(0))}, "row 2",
            f"duplicate image {c.stems[0]}.jpg (also row 1)")


def _skin_tone_seven(c: Corpus):
    return ({"image": _good_copy(c, "tone.jpg"), "skin_tone": "7"}, "row 2",
            "skin_tone '7' is not in the vocabulary")


def _unknown_region(c: Corpus):
    return ({"image": _good_copy(c, "region.jpg"), "region": "atlantis"}, "row 2",
            "region 'atlantis' is not in the vocabulary")


def _path_leaving_the_root(c: Corpus):
    outside = c.folder.parent / "outside.jpg"
    if not outside.exists():
        outside.symlink_to(c.image(1))
    return ({"image": "../outside.jpg"}, "row 2",
            "relative path leaves the dataset folder")


ROW_CASES: dict[str, RowCase] = {
    "zero-byte image": _zero_byte_image,
    "truncated JPEG image": _truncated_jpeg,
    "truncated PNG image": _truncated_png_image,
    "text file named .jpg": _text_file_image,
    "missing image": _missing_image,
    "folder named .jpg": _folder_image,
    "symlink loop": _symlink_loop,
    "empty image cell": _empty_image_cell,
    "mask of another size": _mask_of_another_size,
    "RGB mask": _rgb_mask,
    "16-bit mask": _sixteen_bit_mask,
    "palette mask": _palette_mask,
    "grey+alpha mask": _grey_alpha_mask,
    "missing mask": _missing_mask,
    "zero-byte mask": _zero_byte_mask,
    "ignore mask of another size": _ignore_of_another_size,
    "RGB mask of another annotator": _annotator_mask_rgb,
    "duplicate row": _duplicate_row,
    "skin tone 7": _skin_tone_seven,
    "region outside the vocabulary": _unknown_region,
    "relative path leaving the dataset folder": _path_leaving_the_root,
}


@pytest.fixture(scope="module")
def voc_stems(voc_dataset) -> list[str]:
    return sorted(p.stem for p in (voc_dataset / "images").glob("*.jpg"))[:2]


@pytest.fixture
def corpus(tmp_path, voc_dataset, voc_stems) -> Corpus:
    folder = tmp_path / "data"
    folder.mkdir()
    return Corpus(voc_dataset, folder, voc_stems)


@pytest.mark.parametrize("kind", list(ROW_CASES))
def test_invalid_row_is_one_line_and_exit_2(corpus, tmp_path, kind):
    row, names, reason = ROW_CASES[kind](corpus)
    manifest = corpus.manifest([row])
    done = fairness_eval("run", "--dataset", manifest, "--out", tmp_path / "out", *FAST)
    line = assert_refused(done, names, reason)
    assert "row 2" in line
    assert not (tmp_path / "out").exists()  # refused before anything ran or was written


def test_every_invalid_row_is_skipped_and_recorded_under_skip_invalid(corpus, tmp_path):
    cases = {kind: build(corpus) for kind, build in ROW_CASES.items()}
    # A row that passes validation but whose pixel data is corrupt fails at decoding.
    height, width = corpus.size
    corpus.write("garbage.png", png_bytes(height, width, 2, 3, idat=b"not zlib data" * 40))
    cases["corrupt pixel data"] = ({"image": "garbage.png"}, "garbage.png",
                                   "image could not be decoded")
    manifest = corpus.manifest([row for row, _, _ in cases.values()])
    out = tmp_path / "out"
    done = fairness_eval("run", "--dataset", manifest, "--out", out, "--skip-invalid", *FAST)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    document = json.loads((out / "results.json").read_text())
    dataset = document["dataset"]
    rows = 1 + len(cases)
    assert dataset["rows"] == rows and dataset["evaluated"] == 1
    assert dataset["evaluated"] + len(dataset["skipped"]) == rows
    skipped = {entry["row"]: entry["reason"] for entry in dataset["skipped"]}
    for row_number, (kind, (_, names, reason)) in enumerate(cases.items(), start=2):
        assert reason in skipped[row_number], (kind, skipped[row_number])
        assert names.replace("row 2", f"row {row_number}") in skipped[row_number], kind
    with open(out / "per_image.csv", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == rows
    assert [r["status"] for r in table] == ["ok"] + ["skipped"] * len(cases)
    assert all(r["reason"] for r in table[1:]) and not table[0]["reason"]


def test_corrupt_pixel_data_found_while_running_is_one_line_and_exit_2(corpus, tmp_path):
    """A file whose header is sound passes validation; decoding it fails mid-run."""
    height, width = corpus.size
    corpus.write("garbage.png", png_bytes(height, width, 2, 3, idat=b"not zlib data" * 40))
    out = tmp_path / "out"
    done = fairness_eval("run", "--dataset", corpus.manifest([{"image": "garbage.png"}]),
                         "--out", out, *FAST)
    line = assert_refused(done, "garbage.png", "image could not be decoded")
    assert line.startswith("skipped: ")
    assert "1 row(s) could not be evaluated" in done.stderr.strip().splitlines()[-1]
    # The run's work is kept and says what happened.
    skipped = json.loads((out / "results.json").read_text())["dataset"]["skipped"]
    assert [(s["row"], s["image"]) for s in skipped] == [(2, "garbage")]


# --- dataset-level problems ----------------------------------------------------------


def _folder_dataset(corpus: Corpus, attributes: bytes) -> Path:
    root = corpus.folder / "folder"
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    (root / "images" / f"{corpus.stems[0]}.jpg").symlink_to(corpus.image(0))
    (root / "masks" / f"{corpus.stems[0]}.png").symlink_to(corpus.mask(0))
    (root / "attributes.csv").write_bytes(attributes)
    return root


DATASET_CASES: dict[str, Callable[[Corpus], tuple[Path, str, str]]] = {
    "manifest missing a column": lambda c: (
        c.folder / c.write("m.csv", b"image,region\na.jpg,europe\n"), "m.csv",
        "missing column(s) mask"),
    "manifest not UTF-8": lambda c: (
        c.folder / c.write("m.csv", "image,mask\nbild\xe4.jpg,m.png\n".encode("latin-1")),
        "m.csv", "not UTF-8 text"),
    "empty manifest": lambda c: (c.folder / c.write("m.csv", b""), "m.csv", "empty file"),
    "manifest with a header only": lambda c: (
        c.folder / c.write("m.csv", b"image,mask\n"), "m.csv", "empty dataset"),
    "manifest row with too few cells": lambda c: (
        c.folder / c.write("m.csv", b"image,mask\na.jpg,a.png\nb.jpg\n"), "m.csv, row 2",
        "1 cells where the header has 2"),
    "manifest with a duplicate column": lambda c: (
        c.folder / c.write("m.csv", b"image,mask,mask\na,b,c\n"), "m.csv",
        "duplicate column(s) mask"),
    "JSON Lines manifest with a line that is not JSON": lambda c: (
        c.folder / c.write("m.jsonl", b'{"image": "a.jpg", "mask": "a.png"}\n{"image": \n'),
        "m.jsonl, line 2", "not JSON"),
    "JSON Lines manifest with a line that is not an object": lambda c: (
        c.folder / c.write("m.jsonl", b'["a.jpg", "a.png"]\n'), "m.jsonl, line 1",
        "expected a JSON object"),
    "attributes.csv without an image column": lambda c: (
        _folder_dataset(c, b"name,region\nx,europe\n"), "attributes.csv", "no 'image' column"),
    "attributes.csv not UTF-8": lambda c: (
        _folder_dataset(c, "image,site\nx,K\xf6ln\n".encode("latin-1")), "attributes.csv",
        "not UTF-8 text"),
    "dataset that does not exist": lambda c: (c.folder / "nowhere", "--dataset",
                                              "does not exist"),
    "folder without images/ or a manifest": lambda c: (c.folder, "--dataset",
                                                       "has no images/ folder"),
    "dataset file of another type": lambda c: (
        c.folder / c.write("list.txt", b"a.jpg\n"), "--dataset",
        "neither a folder, a .csv nor a .jsonl manifest"),
}


@pytest.mark.parametrize("kind", list(DATASET_CASES))
def test_invalid_dataset_is_one_line_and_exit_2(corpus, tmp_path, kind):
    dataset, names, reason = DATASET_CASES[kind](corpus)
    done = fairness_eval("run", "--dataset", dataset, "--out", tmp_path / "out", *FAST)
    assert_refused(done, names, reason)
    assert not (tmp_path / "out").exists()


def test_validate_gives_the_same_one_line_reasons(corpus):
    row, names, reason = _skin_tone_seven(corpus)
    done = fairness_eval("validate", "--dataset", corpus.manifest([row]))
    line = assert_refused(done, names, reason)
    assert "manifest.csv, row 2" in line


# --- models, options, output folder --------------------------------------------------


def _patched_model(folder: Path, model_file, old: tuple[int, ...], new: tuple[int, ...]) -> Path:
    """A copy of the real model whose input shape vector in the flatbuffer is rewritten."""
    data = bytearray(model_file.path.read_bytes())
    pattern = struct.pack(f"<{len(old) + 1}i", len(old), *old)
    assert data.count(pattern) == 1, "the input shape vector is not unique"
    at = data.index(pattern)
    data[at: at + 4 * (len(new) + 1)] = struct.pack(f"<{len(new) + 1}i", len(new), *new)
    path = folder / "patched.tflite"
    path.write_bytes(bytes(data))
    return path


def _non_empty(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.txt").write_text("the user's")
    return folder


OPTION_CASES: dict[str, Callable[[Corpus, Path, object], tuple[list[object], str, str]]] = {
    "model file that is not TFLite": lambda c, out, m: (
        ["--model", c.folder / c.write("model.tflite", b"not a flatbuffer\n" * 20)],
        "model.tflite", "not a loadable TFLite model"),
    # Rank 3 ([1, 256, 256]) where the model's convolutions need rank 4.
    "model of the wrong input rank": lambda c, out, m: (
        ["--model", _patched_model(c.folder, m, (1, 256, 256, 3), (1, 256, 256))],
        "patched.tflite", "input tensor is [1, 256, 256]; expected [1, height, width, 3]"),
    "model path that does not exist": lambda c, out, m: (
        ["--model", c.folder / "absent.tflite"], "--model",
        "neither a registered model"),
    "--out under a regular file": lambda c, out, m: (
        ["--out", c.folder / c.write("file.txt", b"x") / "run"], "--out", "cannot write to"),
    "--out in /proc": lambda c, out, m: (
        ["--out", "/proc/fairness-eval-run"], "--out", "cannot write to"),
    "--out that is a file": lambda c, out, m: (
        ["--out", c.folder / c.write("taken.txt", b"x")], "--out",
        "exists and is not a folder"),
    "--out that is not empty": lambda c, out, m: (
        ["--out", _non_empty(out)], "--out", "is not empty; pass --overwrite"),
    # The manifest's folder holds the dataset's files: refused even with --overwrite.
    "--out that is the manifest's folder": lambda c, out, m: (
        ["--out", c.folder, "--overwrite"], "--out", "is a folder of the dataset"),
    "--attribute naming no column": lambda c, out, m: (
        ["--attribute", "nope"], "--attribute", "no column 'nope'"),
    "--intersect of one attribute": lambda c, out, m: (
        ["--intersect", "region"], "--intersect", "name two or more attributes"),
    "--threshold out of range": lambda c, out, m: (
        ["--threshold", "1.5"], "--threshold", "must lie in (0, 1)"),
    "--threshold that is not a number": lambda c, out, m: (
        ["--threshold", "high"], "--threshold", "'high' is not a number"),
    "--workers 0": lambda c, out, m: (["--workers", "0"], "--workers", "must be at least 1"),
    "--bootstrap too small": lambda c, out, m: (
        ["--bootstrap", "5"], "--bootstrap", "must be at least 100"),
    "--inter-annotator-iou above 100": lambda c, out, m: (
        ["--inter-annotator-iou", "300"], "--inter-annotator-iou", "not a percentage"),
    "--format unknown": lambda c, out, m: (["--format", "docx"], "--format", "unknown format"),
}


@pytest.mark.parametrize("kind", list(OPTION_CASES))
def test_bad_model_option_or_output_is_one_line_and_exit_2(corpus, tmp_path, model_file, kind):
    out = tmp_path / "out"
    arguments, names, reason = OPTION_CASES[kind](corpus, out, model_file)
    manifest = corpus.manifest([])
    options = dict(zip(FAST[::2], FAST[1::2], strict=True))
    given = [str(a) for a in arguments]
    for option, value in options.items():  # the case's value wins over the fast default
        if option not in given:
            given += [option, value]
    if "--out" not in given:
        given += ["--out", str(out)]
    done = fairness_eval("run", "--dataset", manifest, *given)
    assert_refused(done, names, reason)


def test_a_cached_model_failing_its_hash_is_one_line_and_exit_2(corpus, tmp_path):
    cache = tmp_path / "cache"
    (cache / "fairness-eval" / "models").mkdir(parents=True)
    (cache / "fairness-eval" / "models" / "selfie_segmentation.tflite").write_bytes(b"x" * 99)
    done = fairness_eval("run", "--dataset", corpus.manifest([]), "--out", tmp_path / "out",
                         *FAST, env={"XDG_CACHE_HOME": str(cache)})
    assert_refused(done, "selfie_segmentation.tflite", "fails its SHA-256 check")


# --- soft masks: accepted, thresholded at 128 ----------------------------------------


def test_masks_with_values_other_than_0_and_255_are_thresholded_at_128_or_refused(corpus,
                                                                                 model_file):
    truth = cv2.imread(str(corpus.mask(0)), cv2.IMREAD_UNCHANGED) >= 128
    rows = []
    for name, person, background in (("soft_edge", 128, 127), ("grey", 200, 60),
                                      ("below", 127, 0)):
        mask = np.where(truth, person, background).astype(np.uint8)
        cv2.imwrite(str(corpus.folder / f"{name}.png"), mask)
        link = corpus.folder / f"{name}.jpg"
        link.symlink_to(corpus.image(0))
        rows.append({"image": link.name, "mask": f"{name}.png"})
    dataset = load_dataset(corpus.manifest(rows))
    # Soft masks that reach 128 are accepted; one of 0 and 127 alone would be empty, so it
    # is refused as a possible label-index mask, naming the option that reads it.
    assert len(dataset.samples) == 3 and len(dataset.problems) == 1
    assert dataset.problems[0].file.endswith("below.png")
    assert dataset.problems[0].reason.startswith("mask holds only values 0 and 127 (none >= "
                                                 "128, so no pixel would be person)")
    assert dataset.problems[0].reason.endswith("pass --mask-person-value 127")
    by_image = {r["image"]: r for r in evaluate_samples(dataset.samples, model_file.path)}
    binary = by_image[corpus.stems[0]]
    assert binary["gt_area"] == int(truth.sum()) > 0
    for name in ("soft_edge", "grey"):
        assert {k: by_image[name][k] for k in ("intersection", "union", "gt_area")} == \
            {k: binary[k] for k in ("intersection", "union", "gt_area")}


# --- a full disk, simulated in-process around cli.main() -----------------------------


class _DiskFullAfterHalf:
    """A file whose write stores half of the data, then fails as a full disk does."""

    def __init__(self, path: Path, mode: str) -> None:
        self._handle = builtins.open(path, mode)  # noqa: SIM115 (closed by __exit__)

    def __enter__(self) -> _DiskFullAfterHalf:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._handle.close()

    def write(self, data: bytes) -> int:
        self._handle.write(data[: len(data) // 2])
        self._handle.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def flush(self) -> None:
        self._handle.flush()

    def fileno(self) -> int:
        return self._handle.fileno()


def _run_main(monkeypatch, capsys, arguments: list[str]) -> tuple[int, list[str]]:
    monkeypatch.setattr(sys, "argv", ["fairness-eval", *arguments])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    return exited.value.code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("failing", ["results.json", "per_image.csv"])
@pytest.mark.parametrize("earlier_run", [False, True])
def test_a_full_disk_while_writing_results_is_one_line_and_leaves_no_results(
        corpus, tmp_path, monkeypatch, capsys, model_file, failing, earlier_run):
    manifest = corpus.manifest([])
    out = tmp_path / "out"
    arguments = ["run", "--dataset", str(manifest), "--out", str(out), *FAST]
    if earlier_run:  # --overwrite over a finished run: its results.json must not survive
        assert _run_main(monkeypatch, capsys, arguments)[0] == 0
        arguments.append("--overwrite")

    def full_disk_open(path, mode="r", *args, **kwargs):
        if Path(path).name == failing + ".partial":
            return _DiskFullAfterHalf(Path(path), mode)
        return builtins.open(path, mode, *args, **kwargs)

    # Every output is written through atomicwrite (a .partial file, then a rename).
    monkeypatch.setattr(atomicwrite, "open", full_disk_open, raising=False)
    code, lines = _run_main(monkeypatch, capsys, arguments)
    assert code == 2
    assert lines[-1] == (f"fairness-eval: error: cannot write {out / failing}: "
                         "No space left on device")
    assert not (out / "results.json").exists()
    assert not list(out.glob("*.partial"))


def test_a_full_disk_under_the_progress_store_is_a_usage_error(tmp_path):
    store = ProgressStore.create(tmp_path, {"threshold": 0.5})
    pages = store._connection.execute("PRAGMA page_count").fetchone()[0]
    store._connection.execute(f"PRAGMA max_page_count = {pages + 1}")  # the disk is full
    row = {"row": 1, "image": "x", "content_sha256": "0" * 64, "reason": "y" * 2000}
    with pytest.raises(UsageError, match=r"cannot write .*progress\.sqlite: database or disk "
                                         r"is full"):
        for number in range(1, 200):
            store.add({**row, "row": number})
        store.commit()
    store.close()  # the failed statement was rolled back: the rows that fitted are kept
    with sqlite3.connect(tmp_path / "progress.sqlite") as connection:
        kept = connection.execute("SELECT COUNT(*) FROM rows").fetchone()[0]
    assert kept < 199


def test_a_full_disk_while_saving_masks_is_one_line(corpus, tmp_path, monkeypatch, capsys,
                                                     model_file):
    """cv2.imencode answers a failure with False, which must not pass unnoticed."""
    monkeypatch.setattr(cv2, "imencode", lambda extension, image, *args: (False, None))
    out = tmp_path / "out"
    code, lines = _run_main(monkeypatch, capsys, ["run", "--dataset",
                                                  str(corpus.manifest([])), "--out", str(out),
                                                  "--save-masks", *FAST])
    assert code == 2
    assert lines[-1] == (f"fairness-eval: error: --save-masks: cannot write "
                         f"{out / 'masks' / corpus.stems[0]}.png")
    assert not (out / "results.json").exists()


# --- the configuration file and --from-table readers ---------------------------------


def test_a_config_value_of_the_wrong_type_is_one_line_and_exit_2(corpus, tmp_path):
    config = tmp_path / "team.toml"
    config.write_text('threshold = "high"\n')
    done = fairness_eval("run", "--dataset", corpus.manifest([]), "--config", config,
                         "--out", tmp_path / "out", *FAST)
    assert_refused(done, "team.toml", "key 'threshold' must be a number, got string 'high'")


def test_a_config_file_found_in_the_working_folder_is_checked_too(corpus, tmp_path):
    (tmp_path / "fairness-eval.toml").write_text("workers = 1.5\n")
    done = subprocess.run([*CLI, "run", "--dataset", str(corpus.manifest([])), "--out",
                           str(tmp_path / "out"), "--bootstrap", "200", "--format", ""],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert_refused(done, "fairness-eval.toml", "key 'workers' must be an integer")


def test_nan_in_a_from_table_file_is_one_line_and_exit_2(tmp_path):
    table = tmp_path / "card.csv"
    table.write_text("attribute,group,value,n\nregion,a,96.1,100\nregion,b,NaN,100\n")
    done = fairness_eval("card", "--from-table", table, "--out", tmp_path / "out",
                         "--format", "")
    assert_refused(done, "card.csv line 3", "value is missing or NaN")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('threshold = "high"\n', "key 'threshold' must be a number, got string 'high'"),
        ("workers = 1.5\n", "key 'workers' must be an integer, got number 1.5"),
        ('gate = "yes"\n', "key 'gate' must be true or false, got string 'yes'"),
    ],
)
def test_a_config_value_of_the_wrong_type_names_the_key_and_file(tmp_path, text, message):
    path = tmp_path / "fairness-eval.toml"
    path.write_text(text)
    with pytest.raises(UsageError) as raised:
        load_config(path)
    assert str(raised.value) == f"{path}: {message}"


@pytest.mark.parametrize("value", ["NaN", "nan", ""])
def test_nan_in_a_from_table_file_names_the_file_and_line(tmp_path, value):
    path = tmp_path / "card.csv"
    path.write_text(f"attribute,group,value,n\nregion,a,96.1,100\nregion,b,{value},100\n")
    with pytest.raises(UsageError) as raised:
        read_table(path)
    assert str(raised.value) == f"{path} line 3: value is missing or NaN"

