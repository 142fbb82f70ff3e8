"""Hostile inputs, the second pass: every input problem is one line and exit 2 (or a problem
of its row or clip), and nothing an input declares is allocated before it is checked.

Each case goes through the real command line: the console entry in this process (the
helpers of test_hostile), or a child process where the case is about the process itself
(a memory cap on its address space).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_hostile import CLI, FAST, main, one_line_refusal  # noqa: E402

GREY = np.full((16, 24, 3), 90, np.uint8)
# The address space a capped child gets: the CLI with numpy, OpenCV and the model's
# runtime starts in well under this (checked by the runs below, which must succeed).
MEMORY_CAP = 1 << 30


def capped(*arguments: object) -> subprocess.CompletedProcess:
    """`fairness-eval ARGUMENTS` in a child whose address space is capped at MEMORY_CAP."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    return subprocess.run([*CLI, *map(str, arguments)], capture_output=True, text=True,
                          timeout=300, preexec_fn=limit)


# --- COCO: polygons bounded by the image before anything is drawn ---------------------


def _coco_bomb(root: Path) -> Path:
    """Three images: `a` with a polygon reaching 1e12 (a 1 KB file asking for tens of
    gigabytes), `b` with a polygon of 150,000 vertices inside the image, `c` fine."""
    (root / "images").mkdir(parents=True)
    for stem in "abc":
        cv2.imwrite(str(root / "images" / f"{stem}.jpg"), GREY)
    many = np.tile([2.0, 2.0, 20.0, 2.0, 20.0, 12.0], 50_000).tolist()
    segmentations = {
        1: [[0, 0, 1e12, 0, 1e12, 1e12, 0, 1e12]],
        2: [many],
        3: [[4, 4, 18, 4, 18, 12, 4, 12]],
    }
    (root / "annotations.json").write_text(json.dumps({
        "images": [{"id": i, "file_name": f"{s}.jpg", "width": 24, "height": 16}
                   for i, s in zip((1, 2, 3), "abc", strict=True)],
        "annotations": [{"id": 100 + i, "image_id": i, "category_id": 1, "iscrowd": 0,
                         "segmentation": segmentation}
                        for i, segmentation in segmentations.items()],
        "categories": [{"id": 1, "name": "person"}]}))
    return root


def test_the_coco_bomb_is_refused_by_validate_under_a_memory_cap(tmp_path):
    root = _coco_bomb(tmp_path / "coco")
    done = capped("validate", "--dataset", root)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    annotations = root / "annotations.json"
    assert f"{annotations}: 3 rows, 1 valid, 2 with problems" in done.stdout
    problems = [line for line in done.stderr.splitlines() if line.startswith(str(annotations))]
    assert problems == [
        f"{annotations}, row 1 (a): annotation 101: polygon vertex (1e+12, 0) lies more than "
        "the image's size outside the 24x16 image",
        f"{annotations}, row 2 (b): annotation 102: 150,000 polygon vertices, above the "
        "limit of 100,000 per annotation"]


@pytest.mark.slow
def test_the_coco_bomb_is_refused_by_run_and_skipped_rows_stay_skipped_under_a_memory_cap(
        tmp_path, model_file):
    root = _coco_bomb(tmp_path / "coco")
    done = capped("run", "--dataset", root, "--out", tmp_path / "run", *FAST)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "annotation 101: polygon vertex (1e+12, 0)" in done.stderr
    assert done.stderr.splitlines()[-1] == (
        "fairness-eval: error: 2 invalid row(s); fix them or pass --skip-invalid")
    # Skipping them, the run scores the one good image within the cap.
    done = capped("run", "--dataset", root, "--out", tmp_path / "run", "--skip-invalid",
                  *FAST)
    assert done.returncode == 0, done.stderr
    rows = [row.split(",")[:3]
            for row in (tmp_path / "run" / "per_image.csv").read_text().splitlines()[1:]]
    assert rows == [["1", "a", "skipped"], ["2", "b", "skipped"], ["3", "c", "ok"]]


def test_a_zigzag_outline_far_longer_than_the_image_is_a_problem_of_its_row(
        tmp_path, monkeypatch, capsys):
    root = tmp_path / "coco"
    (root / "images").mkdir(parents=True)
    cv2.imwrite(str(root / "images" / "a.jpg"), GREY)
    # 2,000 vertices, each edge across the image (23 pixels): 46,000 pixels of outline.
    zigzag = [float(v) for i in range(2_000) for v in (23.0 * (i % 2), i % 16)]
    (root / "annotations.json").write_text(json.dumps({
        "images": [{"id": 1, "file_name": "a.jpg", "width": 24, "height": 16}],
        "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "segmentation": [zigzag]}],
        "categories": [{"id": 1, "name": "person"}]}))
    code, _, err = main(monkeypatch, capsys, "validate", "--dataset", root)
    assert code == 2
    assert err[0].endswith("annotation 5: polygon outlines 46,000 pixels long, above the "
                           "limit of 2,560 (32 times the 24x16 image's perimeter)"), err


def test_negative_rle_counts_say_so(tmp_path, monkeypatch, capsys):
    root = tmp_path / "coco"
    (root / "images").mkdir(parents=True)
    cv2.imwrite(str(root / "images" / "a.jpg"), GREY)
    # Sums to 24 x 16 = 384 pixels; the old message said "cover 384 pixels, not ... = 384".
    (root / "annotations.json").write_text(json.dumps({
        "images": [{"id": 1, "file_name": "a.jpg", "width": 24, "height": 16}],
        "annotations": [{"id": 9, "image_id": 1, "category_id": 1,
                         "segmentation": {"size": [16, 24], "counts": [390, -10, 4]}}],
        "categories": [{"id": 1, "name": "person"}]}))
    code, _, err = main(monkeypatch, capsys, "validate", "--dataset", root)
    assert code == 2
    assert err[0].endswith("annotation 9: RLE counts must be non-negative, not -10"), err


# --- Video: a clip's frames share one size; frame names are numbers that fit ------------


def _davis(root: Path, sizes: dict[str, list[tuple[int, int]]]) -> Path:
    """A DAVIS layout: per clip, one (height, width) per frame, each frame with its mask."""
    for clip, shapes in sizes.items():
        frames, masks = root / "JPEGImages/480p" / clip, root / "Annotations/480p" / clip
        frames.mkdir(parents=True)
        masks.mkdir(parents=True)
        for index, (height, width) in enumerate(shapes):
            mask = np.zeros((height, width), np.uint8)
            mask[height // 4: 3 * height // 4, width // 4: 3 * width // 4] = 255
            cv2.imwrite(str(frames / f"{index:05d}.jpg"), np.full((height, width, 3), 90,
                                                                  np.uint8))
            cv2.imwrite(str(masks / f"{index:05d}.png"), mask)
    return root


def test_a_frame_and_its_mask_changing_size_mid_clip_is_a_problem_of_the_clip(
        tmp_path, monkeypatch, capsys, model_file):
    root = _davis(tmp_path / "davis", {"a": [(16, 24)] * 2 + [(24, 32)] * 2,
                                       "b": [(16, 24)] * 3})
    code, out, err = main(monkeypatch, capsys, "validate", "--dataset", root)
    assert code == 2, err
    assert out[0] == f"{root}: 2 clips, 1 valid (3 frames), 1 with problems"
    frames = root / "JPEGImages/480p/a"
    assert err == [
        f"{frames / '00002.jpg'}, row 1 (a): frame 2 is 32x24 but frame 0 of the clip is "
        "24x16 (a clip's frames must share one size)",
        f"{frames / '00003.jpg'}, row 1 (a): frame 3 is 32x24 but frame 0 of the clip is "
        "24x16 (a clip's frames must share one size)",
        f"fairness-eval: error: 2 problem(s) in the clips of {root}"]
    run = tmp_path / "run"
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", root, "--out", run, *FAST)
    assert code == 2 and "Traceback" not in "\n".join(err), err
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", root, "--out", run,
                        "--skip-invalid", *FAST)
    assert code == 0, err
    header, *lines = (run / "per_clip.csv").read_text().splitlines()
    status = header.split(",").index("status")
    clips = [line.split(",")[:3] + line.split(",")[status:status + 1] for line in lines]
    assert clips == [["a", "0", "0", "skipped"], ["b", "3", "3", "ok"]]


def test_a_frame_of_another_size_at_run_time_is_skipped_not_a_crash(tmp_path, model_file):
    from fairness_eval.data.video import load_video_dataset
    from fairness_eval.evaluation.clips import ClipOptions, evaluate_clip
    from fairness_eval.models.segmenter import Segmenter

    root = _davis(tmp_path / "davis", {"a": [(16, 24)] * 4})
    clip = load_video_dataset(root).clips["a"]
    # Validated, then changed on disk: frame 2 and its mask are now 32x24.
    cv2.imwrite(str(clip.frames[2].image), np.full((24, 32, 3), 90, np.uint8))
    cv2.imwrite(str(clip.frames[2].mask), np.zeros((24, 32), np.uint8))
    records = evaluate_clip(clip, Segmenter(model_file.path), ClipOptions())
    assert [r["status"] for r in records] == ["ok", "ok", "skipped", "ok"]
    assert records[2]["reason"] == (f"{clip.frames[2].image}: frame is 32x24 but the clip's "
                                    "first frame is 24x16")
    assert records[3]["flicker"] is not None  # against frame 1, the last scored


@pytest.mark.parametrize("stem, reason", [
    ("1234567890123456789012345678901", "frame number has 31 digits; a frame number has at "
                                        "most 18"),
    ("0000\u00b2", "frame name is not a frame number (expected e.g. 00012.jpg)"),
])
def test_a_frame_name_too_large_or_not_ascii_is_a_problem_of_its_clip(
        tmp_path, monkeypatch, capsys, stem, reason):
    root = _davis(tmp_path / "davis", {"a": [(16, 24)] * 2, "b": [(16, 24)] * 2})
    odd = root / "JPEGImages/480p/b" / f"{stem}.jpg"
    cv2.imwrite(str(odd), GREY)
    code, _, err = main(monkeypatch, capsys, "validate", "--dataset", root)
    assert code == 2, err
    assert err == [f"{odd}, row 2 (b): {reason}",
                   f"fairness-eval: error: 1 problem(s) in the clips of {root}"]
    # A millisecond timestamp is a frame number (13 digits).
    odd.rename(odd.with_name("1700000000000.jpg"))
    code, _, err = main(monkeypatch, capsys, "validate", "--dataset", root)
    assert code == 0, err


# --- The progress store: an edited row is refused, never resumed or crashed on ------------


@pytest.mark.parametrize("edit", [
    "UPDATE rows SET data = 'not json' WHERE row = 2",
    "UPDATE rows SET data = '[1, 2]' WHERE row = 2",
    "UPDATE rows SET data = '{\"row\": 2}' WHERE row = 2",
    # Well-formed, but numbers fairness-eval never computed: resumed, they would be scored.
    "UPDATE rows SET data = replace(data, '\"union\": 64', '\"union\": 6') WHERE row = 2",
    "UPDATE rows SET row = 9 WHERE row = 2",
    "UPDATE meta SET value = 'nope'",
    "UPDATE meta SET value = '[]'",
])
def test_an_edited_progress_store_row_is_one_line_on_resume(tmp_path, monkeypatch, capsys,
                                                            model_file, edit):
    import sqlite3

    from test_hostile import tiny_folder

    dataset = tiny_folder(tmp_path / "ds")
    run = tmp_path / "run"
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", run, *FAST)
    assert code == 0, err
    everything = "SELECT * FROM rows UNION ALL SELECT key, value, 0, 0, 0 FROM meta"
    with sqlite3.connect(run / "progress.sqlite") as connection:
        before = connection.execute(everything).fetchall()
        connection.execute(edit)
        assert connection.execute(everything).fetchall() != before
    connection.close()
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", run,
                        "--resume", *FAST)
    line = one_line_refusal(code, err, f"--resume: {run / 'progress.sqlite'}: ")
    assert line.endswith("(edited?); start a new --out")


# --- Exit codes: every input problem is one line and exit 2 -----------------------------

DEEP = 100_000


def test_attributes_csv_being_a_folder_is_one_line(tmp_path, monkeypatch, capsys):
    from test_hostile import tiny_folder

    dataset = tiny_folder(tmp_path / "ds")
    (dataset / "attributes.csv").mkdir()
    code, _, err = main(monkeypatch, capsys, "validate", "--dataset", dataset)
    assert one_line_refusal(code, err, "attributes.csv") == (
        f"fairness-eval: error: --dataset: {dataset / 'attributes.csv'} is a folder")


@pytest.mark.parametrize("layout", ["coco", "jsonl"])
def test_json_nested_100000_deep_is_one_line(tmp_path, monkeypatch, capsys, layout):
    nested = "[" * DEEP + "]" * DEEP
    if layout == "coco":
        path = tmp_path / "annotations.json"
        path.write_text(nested)
        reason = "not a COCO annotation file (JSON nested too deeply)"
    else:
        path = tmp_path / "manifest.jsonl"
        path.write_text('{"image": "a.png", "mask": "a.png"}\n{"image": ' + nested + "}\n")
        reason = "line 2: not usable JSON (nested too deeply)"
    code, _, err = main(monkeypatch, capsys, "validate", "--dataset", path)
    assert one_line_refusal(code, err, str(path)).endswith(reason)


@pytest.mark.parametrize("file_name", ["fairness-eval.toml", "pyproject.toml", "spec.toml"])
def test_toml_nested_deeply_is_one_line(tmp_path, monkeypatch, capsys, file_name):
    from test_hostile import tiny_folder

    dataset = tiny_folder(tmp_path / "ds")
    # tomllib already recurses too deeply at 1,000 levels.
    nested = "[" * DEEP + "]" * DEEP
    header = "[tool.fairness-eval]\n" if file_name == "pyproject.toml" else ""
    (tmp_path / file_name).write_text(f"{header}seed = {nested}\n")
    monkeypatch.chdir(tmp_path)
    extra = ["--model", tmp_path / file_name] if file_name == "spec.toml" else []
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out",
                        tmp_path / "run", *extra, *FAST)
    assert "not valid TOML" in one_line_refusal(code, err, str(tmp_path / file_name))
    assert "nested too deeply" in err[-1]
    assert not (tmp_path / "run").exists()


def test_a_broken_pyproject_stops_the_command_as_a_broken_config_does(
        tmp_path, monkeypatch, capsys):
    from test_hostile import tiny_folder

    dataset = tiny_folder(tmp_path / "ds")
    # The gate's settings are in the file; going on without them would gate on defaults.
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.fairness-eval]\nmin_group_size = 3\n[broken\n')
    monkeypatch.chdir(tmp_path)
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out",
                        tmp_path / "run", *FAST)
    line = one_line_refusal(code, err, f"{tmp_path / 'pyproject.toml'}: not valid TOML: ")
    assert line.endswith("(fix it, or name the configuration with --config)")
    assert not (tmp_path / "run").exists()
    # The same for a broken fairness-eval.toml, which is found first.
    (tmp_path / "fairness-eval.toml").write_text("seed = [\n")
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out",
                        tmp_path / "run", *FAST)
    one_line_refusal(code, err, f"{tmp_path / 'fairness-eval.toml'}: not valid TOML: ")


@pytest.mark.parametrize("value, reason", [("100000", "must be at most 1024"),
                                           ("0", "must be at least 1")])
def test_threads_out_of_range_is_a_usage_error(tmp_path, monkeypatch, capsys, value, reason):
    from test_hostile import tiny_folder

    dataset = tiny_folder(tmp_path / "ds")
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out",
                        tmp_path / "run", "--threads", value, *FAST)
    assert one_line_refusal(code, err, "--threads") == (
        f"fairness-eval: error: --threads: {int(value)} {reason}")
    # Also from the configuration file.
    (tmp_path / "fairness-eval.toml").write_text(f"threads = {value}\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out",
                        tmp_path / "run", *FAST)
    assert reason in one_line_refusal(code, err, "threads")


def test_a_misspelled_attributes_table_is_refused_with_the_known_names(
        tmp_path, monkeypatch, capsys):
    from test_hostile import tiny_folder

    dataset = tiny_folder(tmp_path / "ds", attributes="image,team\na,x\nb,x\nc,y\nd,y\n")
    (tmp_path / "fairness-eval.toml").write_text("[attributes.teem]\nmin_group_size = 1\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out",
                        tmp_path / "run", *FAST)
    assert one_line_refusal(code, err, "[attributes.teem]") == (
        f"fairness-eval: error: [attributes.teem]: no such attribute in {dataset} (its "
        "attributes: team)")
    assert not (tmp_path / "run").exists()


# --- Rows that fail: corrupt JPEG data, every row failing, a million problems -----------


def _noise_jpegs(root: Path, stems: str, corrupt: str) -> Path:
    """A folder dataset of 64x96 noise JPEGs; those in `corrupt` get 200 bytes of garbage
    a third into their entropy-coded data (OpenCV still decodes them, libjpeg warns)."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(5)
    mask = np.zeros((64, 96), np.uint8)
    mask[16:48, 24:72] = 255
    for stem in stems:
        path = root / "images" / f"{stem}.jpg"
        cv2.imwrite(str(path), rng.integers(0, 255, (64, 96, 3), dtype=np.uint8))
        cv2.imwrite(str(root / "masks" / f"{stem}.png"), mask)
        if stem in corrupt:
            data = bytearray(path.read_bytes())
            start = len(data) // 3
            data[start: start + 200] = b"\x55" * 200
            path.write_bytes(bytes(data))
            image = cv2.imdecode(np.frombuffer(bytes(data), np.uint8), cv2.IMREAD_COLOR)
            assert image is not None and image.shape == (64, 96, 3)  # decodes all the same
    return root


def test_a_jpeg_corrupted_mid_stream_is_a_problem_of_its_row(tmp_path, monkeypatch, capsys,
                                                             model_file):
    dataset = _noise_jpegs(tmp_path / "ds", "abcd", corrupt="b")
    run = tmp_path / "run"
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", run, *FAST)
    assert code == 2, err
    bad = dataset / "images" / "b.jpg"
    skipped = [line for line in err if line.startswith("skipped: ")]
    assert len(skipped) == 1 and skipped[0].startswith(
        f"skipped: {bad}: image data is corrupt (Corrupt JPEG data: "), err
    # libjpeg's own line is caught, not printed raw.
    assert not any(line.startswith("Corrupt JPEG data") for line in err), err
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", run,
                        "--overwrite", "--skip-invalid", *FAST)
    assert code == 0, err
    statuses = [line.split(",")[1:3] for line in (run / "per_image.csv").read_text()
                .splitlines()[1:]]
    assert statuses == [["a", "ok"], ["b", "skipped"], ["c", "ok"], ["d", "ok"]]


def test_when_every_row_fails_the_reasons_are_printed(tmp_path, monkeypatch, capsys,
                                                      model_file):
    dataset = _noise_jpegs(tmp_path / "ds", "abc", corrupt="abc")
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out",
                        tmp_path / "run", "--skip-invalid", *FAST)
    line = one_line_refusal(code, err, "no row could be scored: all 3 were skipped (")
    assert line.count("x image data is corrupt (Corrupt JPEG data: ") == 3, line


def test_problem_lines_are_capped_with_a_count_of_the_rest(tmp_path, monkeypatch, capsys):
    from test_hostile import tiny_folder

    from fairness_eval.data.problem_lines import PROBLEM_LINES
    from fairness_eval.workflow import validate

    unknown = "".join(f"u{i},x\n" for i in range(3_000))
    dataset = tiny_folder(tmp_path / "ds", attributes="image,team\na,x\nb,x\nc,y\nd,y\n"
                          + unknown)
    code, _, err = main(monkeypatch, capsys, "validate", "--dataset", dataset)
    assert code == 2
    table = dataset / "attributes.csv"
    assert len(err) == PROBLEM_LINES + 2
    assert err[0] == f"{table}, row 5 (u0): no such image in images/"
    assert err[-2] == f"... and {3_000 - PROBLEM_LINES:,} more ({3_000 - PROBLEM_LINES:,} x " \
                      "no such image in images/)"
    assert err[-1] == (f"fairness-eval: error: 3000 problem(s) in {table}; fix them "
                       "(--skip-invalid skips images, not attribute rows)")
    # Row problems (validate's own listing) likewise; the library call keeps every one.
    for stem in "abcd":
        (dataset / "masks" / f"{stem}.png").unlink()
    (dataset / "attributes.csv").unlink()
    for index in range(120):
        cv2.imwrite(str(dataset / "images" / f"e{index:03d}.png"), GREY)
    code, out, err = main(monkeypatch, capsys, "validate", "--dataset", dataset)
    assert code == 2 and len(err) == PROBLEM_LINES + 2, err
    assert err[-2].startswith(f"... and {124 - PROBLEM_LINES} more ({124 - PROBLEM_LINES} x ")
    assert len(validate(dataset, echo=lambda line: None, log=lambda line: None).problems) == 124
