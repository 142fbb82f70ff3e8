"""Hostile-input cases test_hostile leaves open, through the real command line: EXIF rotation
on the card, every file of a dataset format's layout accounted for, the length cap on a
published table's names, formula marking in every CSV fairness-eval writes, and the run
folder's lock taken by the commands that write into a run folder (`report`, `check`).

The helpers (a console entry in this process, tiny synthetic datasets) are test_hostile's.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_hostile import (  # noqa: E402
    FAST,
    _rotated_jpeg,
    main,
    one_line_refusal,
    tiny_folder,
)

from fairness_eval.data.dataset import load_dataset  # noqa: E402
from fairness_eval.evaluation.run_dir import LOCK_FILE  # noqa: E402

# --- 1. --exif rotate: the overlays draw the image as scored; the card names the choice ---


def _overlay(card: str, image_id: str) -> np.ndarray:
    """The example overlay of `image_id` in an HTML card, decoded (BGR)."""
    found = re.search(r'<img src="data:image/jpeg;base64,([^"]+)" alt="' + image_id + '"',
                      card)
    assert found, f"no overlay of {image_id}"
    data = np.frombuffer(base64.b64decode(found.group(1)), np.uint8)
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def test_exif_rotate_overlays_draw_the_turned_image_and_the_card_names_the_choice(
        tmp_path, monkeypatch, capsys, model_file):
    dataset = tiny_folder(tmp_path / "ds", size=(32, 48),
                          attributes="image,team\na,x\nb,x\nc,y\nd,y\n")
    # b.jpg: stored 48 wide x 32 high, left half black, right half white; orientation 6
    # shows it turned a quarter clockwise, 32 x 48, the black half on top.
    stored = np.full((32, 48, 3), 255, np.uint8)
    stored[:, :24] = 0
    (dataset / "images" / "b.png").unlink()
    _rotated_jpeg(dataset / "images" / "b.jpg", stored, 6)
    cv2.imwrite(str(dataset / "masks" / "b.png"),
                cv2.imread(str(dataset / "masks" / "a.png"), cv2.IMREAD_UNCHANGED).T.copy())
    run = tmp_path / "run"
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", run,
                        "--exif", "rotate", "--save-masks", "--examples", "2",
                        "--workers", "1", "--bootstrap", "200", "--format", "html")
    assert code == 0, err
    card = (run / "model_card.html").read_text()
    assert "Could not draw" not in card
    assert ("<dt>EXIF orientation</dt><dd>applied: images turned upright before scoring "
            "(--exif rotate)</dd>") in card
    drawn = _overlay(card, "b")
    assert drawn.shape == (48, 32, 3)  # displayed size: tall, as its mask
    # The corners lie outside the person mask: dimmed image only. Black on top, as displayed
    # (ignoring the tag would have drawn nothing; the wrong turn, black at the bottom).
    top, bottom = drawn[:6, :6].mean(), drawn[-6:, :6].mean()
    assert top < 40 < 100 < bottom, (top, bottom)
    # `report` re-renders from the run folder and reads the recorded setting.
    code, _, err = main(monkeypatch, capsys, "report", run, "--format", "html",
                        "--examples", "2")
    assert code == 0, err
    again = (run / "model_card.html").read_text()
    assert "Could not draw" not in again
    assert np.abs(_overlay(again, "b").astype(int) - drawn.astype(int)).max() <= 2
    # Without --exif the card says the stored pixels were scored (b is skipped: its
    # mask fits only the turned image).
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out",
                        tmp_path / "as-stored", "--skip-invalid", "--workers", "1",
                        "--bootstrap", "200", "--format", "html")
    assert code == 0, err
    assert ("<dt>EXIF orientation</dt><dd>not applied: images scored as stored (--exif "
            "ignore)</dd>") in (tmp_path / "as-stored" / "model_card.html").read_text()


# --- 2. dataset formats and video layouts: every file accounted for ------------------------

READS = ".jpg, .jpeg, .png, .bmp, .webp, .tif, .tiff"
GREY = np.full((16, 24, 3), 90, np.uint8)
PERSON = np.zeros((16, 24), np.uint8)
PERSON[4:12, 6:18] = 1  # one person: a Penn-Fudan instance; x15 the VOC class, x255 a mask


def _problems(err: list[str], path: Path) -> list[str]:
    return [line for line in err if line.startswith(str(path))]


def test_penn_fudan_lists_an_unsupported_image_as_its_rows_problem(tmp_path, monkeypatch,
                                                                  capsys):
    root = tmp_path / "PennFudanPed"
    (root / "PNGImages" / "crops").mkdir(parents=True)  # a folder inside: a note
    (root / "PedMasks").mkdir()
    for stem in ("a", "c"):
        cv2.imwrite(str(root / "PNGImages" / f"{stem}.png"), GREY)
        cv2.imwrite(str(root / "PedMasks" / f"{stem}_mask.png"), PERSON)
    (root / "PNGImages" / "b.gif").write_bytes(b"GIF89a" + bytes(16))
    (root / "PedMasks" / "b_mask.png").write_bytes((root / "PedMasks" / "a_mask.png")
                                                   .read_bytes())
    (root / "PNGImages" / ".DS_Store").write_bytes(bytes(8))  # hidden: not a row
    (root / "attributes.csv").write_text("image,team\na,x\nb,y\nc,y\n")
    code, out, err = main(monkeypatch, capsys, "validate", "--dataset", root)
    assert code == 2
    assert out[0] == f"{root}: 3 rows, 2 valid, 1 with problems"
    assert ("note: PNGImages/ holds 1 folder(s) (crops); their files are not evaluated (only "
            "files directly in PNGImages/ are)") in out
    assert _problems(err, root) == [
        f"{root / 'PNGImages' / 'b.gif'}, row 2 (b): unsupported image format '.gif' "
        f"(fairness-eval reads {READS}); convert it or move it out of PNGImages/"]
    assert not any("no such image" in line for line in err), err


def test_voc_names_unsupported_photos_and_labels(tmp_path, monkeypatch, capsys):
    root = tmp_path / "VOC2012"
    for name in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (root / name).mkdir(parents=True)
    for stem in ("a", "d"):
        cv2.imwrite(str(root / "JPEGImages" / f"{stem}.jpg"), GREY)
    for stem in ("a", "b"):
        cv2.imwrite(str(root / "SegmentationClass" / f"{stem}.png"), PERSON * 15)
    (root / "JPEGImages" / "b.gif").write_bytes(b"GIF89a" + bytes(16))  # b's photo
    (root / "JPEGImages" / "c.heic").write_bytes(bytes(32))  # no label: no row
    cv2.imwrite(str(root / "SegmentationClass" / "d.bmp"), PERSON * 15)  # d's label
    code, out, err = main(monkeypatch, capsys, "validate", "--dataset", root)
    assert code == 2
    assert out[0] == f"{root}: 3 rows, 1 valid, 2 with problems"
    assert ("note: JPEGImages/ holds 1 file(s) of a format fairness-eval does not read "
            "(c.heic); none is a row of this set") in out
    assert _problems(err, root) == [
        f"{root / 'JPEGImages' / 'b.gif'}, row 2 (b): unsupported image format '.gif' "
        f"(fairness-eval reads {READS}); convert it or move it out of JPEGImages/",
        f"{root / 'SegmentationClass' / 'd.bmp'}, row 3 (d): unsupported label format "
        "'.bmp' (fairness-eval reads .png); convert it or move it out of SegmentationClass/"]
    # Listed in an image set, the photo of an unsupported format is named the same way.
    (root / "ImageSets/Segmentation/val.txt").write_text("a\nb\n")
    code, out, err = main(monkeypatch, capsys, "validate", "--dataset", root,
                          "--image-set", "val")
    assert code == 2
    assert [line.split(": ", 1)[1] for line in _problems(err, root)] == [
        f"unsupported image format '.gif' (fairness-eval reads {READS}); convert it or move "
        "it out of JPEGImages/"]


def test_coco_names_a_file_name_of_an_unsupported_format(tmp_path, monkeypatch, capsys):
    root = tmp_path / "coco"
    (root / "images").mkdir(parents=True)
    cv2.imwrite(str(root / "images" / "a.jpg"), GREY)
    (root / "images" / "b.gif").write_bytes(b"GIF89a" + bytes(16))
    (root / "annotations.json").write_text(json.dumps({
        "images": [{"id": 1, "file_name": "a.jpg", "width": 24, "height": 16},
                   {"id": 2, "file_name": "b.gif", "width": 24, "height": 16}],
        "annotations": [], "categories": [{"id": 1, "name": "person"}]}))
    code, out, err = main(monkeypatch, capsys, "validate", "--dataset", root)
    assert code == 2
    assert out[0] == f"{root / 'annotations.json'}: 2 rows, 1 valid, 1 with problems"
    assert _problems(err, root) == [
        f"{root / 'annotations.json'}, row 2 (b): file_name 'b.gif': unsupported image format "
        f"'.gif' (fairness-eval reads {READS}); convert the image and change its file_name"]


def _davis(root: Path, clips: dict[str, int]) -> Path:
    for clip, frames in clips.items():
        for folder in ("JPEGImages", "Annotations"):
            (root / folder / "480p" / clip).mkdir(parents=True)
        for index in range(frames):
            cv2.imwrite(str(root / "JPEGImages/480p" / clip / f"{index:05d}.jpg"), GREY)
            cv2.imwrite(str(root / "Annotations/480p" / clip / f"{index:05d}.png"),
                        PERSON * 255)
    return root


def test_davis_frames_and_masks_of_unsupported_formats_are_problems_of_their_clip(
        tmp_path, monkeypatch, capsys):
    root = _davis(tmp_path / "davis", {"a": 2, "b": 2, "c": 2})
    frames, masks = root / "JPEGImages/480p", root / "Annotations/480p"
    (frames / "a" / "00002.gif").write_bytes(b"GIF89a" + bytes(16))  # a frame left out
    (masks / "b" / "00001.png").unlink()
    cv2.imwrite(str(masks / "b" / "00001.jpg"), PERSON * 255)  # frame 1's only mask
    cv2.imwrite(str(masks / "c" / "00000.jpg"), PERSON * 255)  # beside 00000.png: a note
    (frames / "README.txt").write_text("not a clip")  # beside the clip folders: a note
    (frames / "c" / "thumbnails").mkdir()  # a folder inside a clip's: a note
    code, out, err = main(monkeypatch, capsys, "validate", "--dataset", root)
    assert code == 2
    assert [clip.name for clip in load_dataset(root).clips_to_run()] == ["c"]
    assert ("note: 3 file(s) or folder(s) that are no frame, mask or video of a clip were not "
            "read (JPEGImages/480p/README.txt, JPEGImages/480p/c/thumbnails, "
            "Annotations/480p/c/00000.jpg)") in out
    assert _problems(err, root) == [
        f"{frames / 'a' / '00002.gif'}, row 1 (a): unsupported frame format '.gif' "
        f"(fairness-eval reads {READS}); convert it or move it out of a/",
        f"{masks / 'b' / '00001.jpg'}, row 2 (b): mask of frame 1: unsupported mask format "
        "'.jpg' (fairness-eval reads .png, .bmp, .tif, .tiff); convert it"]


def test_a_video_file_of_an_unsupported_format_is_a_problem(tmp_path, monkeypatch, capsys):
    root = tmp_path / "clips"
    (root / "videos").mkdir(parents=True)
    writer = cv2.VideoWriter(str(root / "videos" / "a.avi"), cv2.VideoWriter_fourcc(*"FFV1"),
                             24, (24, 16))
    for _ in range(2):
        writer.write(GREY)
    writer.release()
    (root / "Annotations" / "a").mkdir(parents=True)
    cv2.imwrite(str(root / "Annotations" / "a" / "00000.png"), PERSON * 255)
    (root / "videos" / "b.flv").write_bytes(bytes(64))
    code, out, err = main(monkeypatch, capsys, "validate", "--dataset", root)
    assert code == 2
    assert _problems(err, root) == [
        f"{root / 'videos' / 'b.flv'} (b): unsupported video format '.flv' (fairness-eval "
        "reads .mp4, .avi, .mov, .mkv, .webm, .m4v, .mpg, .mpeg, .wmv); convert it or move "
        "it out of videos/"]


# --- 3. a published table's names: the same length cap, the line named ---------------------


@pytest.mark.parametrize("column", ["group", "attribute"])
def test_card_from_table_refuses_a_name_above_the_length_cap(tmp_path, monkeypatch, capsys,
                                                             column):
    long = "g" * 100_000
    rows = [("team", "a", 96.0), ("team", "b", 95.0), ("team", long, 94.0)]
    if column == "attribute":
        rows[2] = (long, "c", 94.0)
    table = tmp_path / "table.csv"
    table.write_text("attribute,group,value,n\n" + "".join(
        f"{attribute},{group},{value},100\n" for attribute, group, value in rows))
    out = tmp_path / "card"
    started = time.monotonic()
    code, _, err = main(monkeypatch, capsys, "card", "--from-table", table, "--out", out,
                        "--format", "html,pdf")
    assert time.monotonic() - started < 10  # refused before any layout
    line = one_line_refusal(code, err, f"{table} line 4")
    assert len(err) == 1
    assert line == (f"fairness-eval: error: {table} line 4: {column} is 100,000 characters "
                    f"long ({'g' * 40!r}...); {column} names are limited to 200 characters")
    assert not out.exists()
    # 200 characters are a name like any other.
    table.write_text(table.read_text().replace(long, "g" * 200))
    code, _, err = main(monkeypatch, capsys, "card", "--from-table", table, "--out", out,
                        "--format", "md")
    assert code == 0, err


# --- 4. conditions.csv, per_frame.csv and per_clip.csv: formulas marked as text -------------

FORMULA = "=cmd|' /C calc'!A0"  # a value; a file or folder name cannot hold the "/"
FORMULA_NAMES = ("=cmd|' calc'!A0", "+sum", "-minus", "@at", "plain")


def _raw_csv(path: Path) -> list[dict[str, str]]:
    import csv

    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_conditions_csv_marks_formulas_as_text_and_reads_them_back(tmp_path, monkeypatch,
                                                                   capsys, model_file):
    from fairness_eval.results.conditions_record import read_conditions_table

    dataset = tiny_folder(tmp_path / "ds", stems=FORMULA_NAMES)
    run = tmp_path / "run"
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", run,
                        "--conditions", "dark", *FAST)
    assert code == 0, err
    raw = _raw_csv(run / "conditions.csv")
    assert {row["image"] for row in raw} == {"'=cmd|' calc'!A0", "'+sum", "'-minus", "'@at",
                                             "plain"}
    assert all(float(row["iou"]) >= 0 and float(row["severity"]) > 0 for row in raw)
    table = read_conditions_table(run)
    assert set(table["image"]) == set(FORMULA_NAMES)
    assert set(table["condition"]) == {"dark"}


def test_video_tables_mark_formulas_as_text_and_read_them_back(tmp_path, monkeypatch, capsys,
                                                               model_file):
    from fairness_eval.results.video_tables import read_per_clip, read_per_frame

    clips = ("=HYPERLINK(1)", "-minus", "plain")
    values = (FORMULA, "'quoted", "+44 20")
    root = _davis(tmp_path / "davis", dict.fromkeys(clips, 2))
    (root / "attributes.csv").write_text("clip,team\n" + "".join(
        f'"{c}","{v}"\n' for c, v in zip(clips, values, strict=True)))
    run = tmp_path / "run"
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", root, "--out", run,
                        "--min-group-size", "1", *FAST)
    assert code == 0, err
    marked = {"=HYPERLINK(1)": "'=HYPERLINK(1)", "-minus": "'-minus", "plain": "plain"}
    per_clip = _raw_csv(run / "per_clip.csv")
    assert [row["clip"] for row in per_clip] == sorted(marked.values())
    assert {row["clip"]: row["team"] for row in per_clip} == {
        "'=HYPERLINK(1)": "'" + FORMULA, "'-minus": "''quoted", "plain": "'+44 20"}
    assert all(float(row["iou"]) >= 0 for row in per_clip)  # numbers stay numbers
    assert {row["clip"] for row in _raw_csv(run / "per_frame.csv")} == set(marked.values())
    clip_table = read_per_clip(run)
    assert dict(zip(clip_table["clip"], clip_table["team"], strict=True)) == dict(
        zip(clips, values, strict=True))
    assert set(read_per_frame(run)["clip"]) == set(clips)
    # The card's timeline reads per_frame.csv back through the same reader.
    code, _, err = main(monkeypatch, capsys, "report", run, "--format", "html")
    assert code == 0, err


# --- 5. report, check and compare take the run folder's lock -------------------------------


def test_report_check_and_compare_refuse_a_run_folder_a_run_holds(tmp_path, monkeypatch,
                                                                   capsys, model_file):
    dataset = tiny_folder(tmp_path / "ds", attributes="image,team\na,x\nb,x\nc,y\nd,y\n")
    run = tmp_path / "run"
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", run,
                        "--workers", "1", "--bootstrap", "200", "--format", "md")
    assert code == 0, err
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.name != LOCK_FILE}
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from pathlib import Path\n"
         "from fairness_eval.evaluation.run_dir import lock_run_dir\n"
         "lock = lock_run_dir(Path(sys.argv[1])); print('locked', flush=True)\n"
         "time.sleep(120)", str(run)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        for arguments in (["report", run, "--format", "md"], ["check", run],
                          ["compare", run, run, "--format", ""]):
            code, _, err = main(monkeypatch, capsys, *arguments)
            line = one_line_refusal(code, err, "RUN_DIR")
            assert len(err) == 1, err
            assert line == (f"fairness-eval: error: RUN_DIR: {run} is in use by another "
                            f"fairness-eval run (process {holder.pid}); wait for it to finish")
        # compare --out into the held folder: named by its option.
        code, _, err = main(monkeypatch, capsys, "compare", run, run, "--out", run,
                            "--format", "")
        one_line_refusal(code, err, f"--out: {run} is in use")
        assert {p.name: p.read_bytes() for p in run.iterdir() if p.name != LOCK_FILE} == before
        # Another folder as --out is no run folder: compare writes there freely.
        code, _, err = main(monkeypatch, capsys, "compare", run, run, "--out",
                            tmp_path / "cmp", "--format", "")
        assert code == 0, err
    finally:
        holder.kill()
        holder.wait()
    for arguments in (["report", run, "--format", "md"], ["check", run, "--allow-empty-gate"],
                      ["compare", run, run, "--format", ""]):
        code, _, err = main(monkeypatch, capsys, *arguments)
        assert code == 0, err
    assert (run / "junit.xml").is_file() and (run / "comparison.json").is_file()
