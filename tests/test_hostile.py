"""A hostile or careless user: nothing lost, nothing injected, no crash taken for a verdict.

Each case goes through the real command line: the console entry `cli.main()` in this
process (fast: the model is loaded once), or a child process where the case is about
processes (a lock held by another run, what a CI runner reads on stdout and stderr).
Datasets are tiny synthetic folders made here; the real model runs on them in a second.

Decisions pinned here:
- `--out` equal to (or inside) a folder dataset is refused; for a manifest, --out and its
  masks/ may not be a folder holding the dataset's files, nor the manifest's folder;
- `--overwrite` removes only what the run ledger (and the reports' ledger) lists;
- an unsupported file in images/ and two masks for one image are row problems; a mask
  with no image and an EXIF orientation are notes (warnings);
- a second run into a locked --out exits 2 with one line.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from fairness_eval import cli
from fairness_eval.evaluation.run_dir import LOCK_FILE, RUN_LEDGER_FILE

CLI = [sys.executable, "-c",
       "import sys; sys.argv[0] = 'fairness-eval'; from fairness_eval.cli import main; main()"]
FAST = ["--workers", "1", "--bootstrap", "200", "--format", ""]
# fairness-eval's own GitHub Actions annotations: the only lines that may start with "::".
OWN_ANNOTATION = ("::error title=Fairness", "::warning title=Fairness")


# --- helpers -------------------------------------------------------------------------


def main(monkeypatch, capsys, *arguments: object, env: dict[str, str] | None = None
         ) -> tuple[int, list[str], list[str]]:
    """`fairness-eval ARGUMENTS` through the console entry: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["fairness-eval", *map(str, arguments)])
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        cli.main()
    captured = capsys.readouterr()
    return exited.value.code, captured.out.splitlines(), captured.err.splitlines()


def child(*arguments: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, arguments)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


def one_line_refusal(code: int, err: list[str], naming: str) -> str:
    """Exit 2, no traceback, and a last line `fairness-eval: error: ...` naming `naming`."""
    assert code == 2, err
    assert not any("Traceback" in line for line in err), err
    assert err[-1].startswith("fairness-eval: error: "), err
    assert naming in err[-1], err
    return err[-1]


def tiny_folder(root: Path, stems: tuple[str, ...] = ("a", "b", "c", "d"),
                attributes: str | None = None, size: tuple[int, int] = (16, 16)) -> Path:
    """A folder dataset of grey PNG images with a square person mask each."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    height, width = size
    mask = np.zeros((height, width), np.uint8)
    mask[height // 4: 3 * height // 4, width // 4: 3 * width // 4] = 255
    for stem in stems:
        cv2.imwrite(str(root / "images" / f"{stem}.png"), np.full((height, width, 3), 120,
                                                                  np.uint8))
        cv2.imwrite(str(root / "masks" / f"{stem}.png"), mask)
    if attributes is not None:
        (root / "attributes.csv").write_text(attributes, encoding="utf-8")
    return root


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_header_of_size(width: int, height: int, colour_type: int) -> bytes:
    """A small PNG whose header claims `width` x `height` (the pixel data is a stub): what
    validation reads, built without encoding billions of pixels."""
    return (b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b""))


def file_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` but the run lock (which a refused run may leave)."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != LOCK_FILE}


# --- 1. data loss --------------------------------------------------------------------


@pytest.mark.parametrize("inside", ["", "runs/today"])
def test_out_in_the_dataset_folder_is_refused_and_its_masks_survive(
        tmp_path, monkeypatch, capsys, model_file, inside):
    dataset = tiny_folder(tmp_path / "ds")
    before = file_bytes(dataset)
    out = dataset / inside if inside else dataset
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", out,
                        "--overwrite", "--save-masks", *FAST)
    line = one_line_refusal(code, err, "--out")
    assert "dataset folder" in line
    assert file_bytes(dataset) == before


def test_a_manifests_mask_folder_is_never_the_saved_masks_folder(tmp_path, monkeypatch,
                                                                 capsys, model_file):
    data = tiny_folder(tmp_path / "data")
    manifest = tmp_path / "lists" / "manifest.csv"
    manifest.parent.mkdir()
    manifest.write_text("image,mask\n" + "".join(
        f"{data / 'images' / s}.png,{data / 'masks' / s}.png\n" for s in "abcd"))
    before = file_bytes(data)
    for out in (data, data / "masks", manifest.parent):  # masks/ would be data/masks
        code, _, err = main(monkeypatch, capsys, "run", "--dataset", manifest, "--out", out,
                            "--overwrite", "--save-masks", *FAST)
        one_line_refusal(code, err, "--out")
    assert file_bytes(data) == before
    # Beside the manifest is fine: the run folder holds none of the dataset's files.
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", manifest, "--out",
                        manifest.parent / "run", "--save-masks", *FAST)
    assert code == 0, err


def test_overwrite_removes_only_what_fairness_eval_wrote(tmp_path, monkeypatch, capsys,
                                                         model_file):
    dataset = tiny_folder(tmp_path / "ds")
    out = tmp_path / "run"
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", out,
                        "--save-masks", "--workers", "1", "--bootstrap", "200",
                        "--format", "md")
    assert code == 0, err
    assert sorted(p.name for p in (out / "masks").iterdir()) == [f"{s}.png" for s in "abcd"]
    ledger = json.loads((out / RUN_LEDGER_FILE).read_text())
    assert "masks/a.png" in ledger["files"] and ledger["folders"] == ["masks"]
    # The user's own files, beside and inside what fairness-eval made.
    (out / "notes.txt").write_text("mine")
    (out / "mine").mkdir()
    (out / "mine" / "results.json").write_text("{}")
    (out / "masks" / "drawn-by-hand.png").write_bytes(b"mine")
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", out,
                        "--overwrite", *FAST)
    assert code == 0, err
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "mine" / "results.json").read_text() == "{}"
    # The earlier run's saved masks and summary are gone; the user's mask and its folder stay.
    assert [p.name for p in (out / "masks").iterdir()] == ["drawn-by-hand.png"]
    assert not (out / "summary.md").exists()
    assert (out / "results.json").is_file()


def test_overwrite_keeps_a_folder_fairness_eval_did_not_make(tmp_path, monkeypatch, capsys,
                                                             model_file):
    """Without a ledger nothing is known to be fairness-eval's: no mask is removed, and
    --save-masks will not write into a masks/ it did not create."""
    dataset = tiny_folder(tmp_path / "ds")
    out = tmp_path / "elsewhere"
    (out / "masks").mkdir(parents=True)
    (out / "masks" / "a.png").write_bytes(b"ground truth kept here by the user")
    before = file_bytes(out)
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", out,
                        "--overwrite", "--save-masks", *FAST)
    one_line_refusal(code, err, "--save-masks")
    assert file_bytes(out) == before
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", out,
                        "--overwrite", *FAST)
    assert code == 0, err
    assert (out / "masks" / "a.png").read_bytes() == b"ground truth kept here by the user"


# --- 5. one run per folder -------------------------------------------------------------


def test_a_run_into_a_folder_another_process_holds_is_refused(tmp_path):
    dataset = tiny_folder(tmp_path / "ds")
    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from pathlib import Path\n"
         "from fairness_eval.evaluation.run_dir import lock_run_dir\n"
         "lock = lock_run_dir(Path(sys.argv[1])); print('locked', flush=True)\n"
         "time.sleep(120)", str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        done = child("run", "--dataset", dataset, "--out", out, "--overwrite", *FAST)
        err = done.stderr.strip().splitlines()
        one_line_refusal(done.returncode, err, "--out")
        assert f"is in use by another fairness-eval run (process {holder.pid})" in err[-1]
        assert not (out / "results.json").exists()
    finally:
        holder.kill()
        holder.wait()
    # Once the holder is gone (even killed), the folder is free again.
    done = child("run", "--dataset", dataset, "--out", out, "--overwrite", *FAST)
    assert done.returncode == 0, done.stderr


def test_concurrent_runs_into_one_out_the_second_is_refused(tmp_path):
    """A real first run, stopped while it holds the folder; the second is refused."""
    dataset = tiny_folder(tmp_path / "ds", stems=tuple(f"i{n:03d}" for n in range(60)),
                          size=(64, 64))
    out = tmp_path / "run"
    first = subprocess.Popen([*CLI, "run", "--dataset", str(dataset), "--out", str(out),
                              "--workers", "1", "--bootstrap", "200", "--format", "md"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / LOCK_FILE).is_file() or not (out / LOCK_FILE).read_text():
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.005)
        os.kill(first.pid, signal.SIGSTOP)
        if first.poll() is not None or (out / "summary.md").exists():
            pytest.skip("the first run finished before it could be stopped")
        second = child("run", "--dataset", dataset, "--out", out, "--overwrite", *FAST)
        err = second.stderr.strip().splitlines()
        one_line_refusal(second.returncode, err, "--out")
        assert f"in use by another fairness-eval run (process {first.pid})" in err[-1]
    finally:
        os.kill(first.pid, signal.SIGCONT)
    _, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert (out / "summary.md").is_file()


# --- 2. injection ----------------------------------------------------------------------

EVIL_GROUPS = ["a\n::error::owned", "::warning file=x::b", "c ##[add-mask]secret",
               "d\r::set-output name=x::y", "e"]


def assert_no_workflow_commands(lines: list[str]) -> None:
    """No line starts (after spaces) with "::" unless it is fairness-eval's own annotation,
    and no line carries the runner's older "##[" command form."""
    for line in lines:
        assert "##[" not in line, line
        assert "\r" not in line, line
        stripped = line.lstrip()
        if stripped.startswith("::"):
            assert stripped.startswith(OWN_ANNOTATION), line


def test_group_names_cannot_inject_workflow_commands_through_card_and_check(tmp_path):
    table = tmp_path / "evil.csv"
    values = [80.0, 96.0, 96.5, 96.2, 96.1]
    table.write_text("attribute,group,value,n\n" + "".join(
        f'team,"{g}",{v},100\n' for g, v in zip(EVIL_GROUPS, values, strict=True)))
    out = tmp_path / "card"
    summary = tmp_path / "step-summary.md"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    done = child("card", "--from-table", table, "--out", out, "--format", "md", "--gate",
                 "--inter-annotator-iou", "98", env=env)
    assert done.returncode == 1, done.stderr  # the 80.0 group violates criterion (b)
    lines = done.stdout.splitlines() + done.stderr.splitlines()
    assert_no_workflow_commands(lines)
    assert any(line.startswith("FAIL team / a\\n::error::owned") for line in lines), lines
    assert any(line.startswith("::error title=Fairness") for line in lines), lines
    done = child("check", out, "--gate-on", "point", env=env)  # the table has no intervals
    assert done.returncode == 1, done.stderr
    assert_no_workflow_commands(done.stdout.splitlines() + done.stderr.splitlines())
    # Nor can they break the step summary's gate table (one row per line).
    rows = [row for row in summary.read_text().splitlines() if row.startswith("| FAIL")]
    assert rows and all(row.count("|") == 11 for row in rows), rows


def test_attribute_values_cannot_inject_through_run_and_validate(tmp_path, monkeypatch,
                                                                 capsys, model_file):
    stems = ("a", "b", "c", "d", "e")
    attributes = "image,team\n" + "".join(
        f'{s},"{g}"\n' for s, g in zip(stems, EVIL_GROUPS, strict=True))
    monkeypatch.chdir(tmp_path)  # problem lines start with the dataset path as given
    dataset = tiny_folder(Path("::error::ds"), stems=stems, attributes=attributes)
    (dataset / "images" / "x.gif").write_bytes(b"GIF89a")  # a problem naming it
    code, out, err = main(monkeypatch, capsys, "validate", "--dataset", dataset)
    assert code == 2
    assert_no_workflow_commands(out + err)
    assert any(line.startswith("\\x3a:error::ds/images/x.gif, row 6") for line in err), err
    (dataset / "images" / "x.gif").unlink()
    code, out, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out",
                          tmp_path / "run", "--min-group-size", "1", "--gate", "--allow-empty-gate",
                          *FAST, env={"GITHUB_ACTIONS": "true"})
    assert code in (0, 1), err
    assert_no_workflow_commands(out + err)
    assert any(line.lstrip().startswith("a\\n::error::owned") for line in out), out


# --- 3. a crash is never 1 ---------------------------------------------------------------


@pytest.fixture(scope="module")
def image_run(tmp_path_factory, model_file) -> Path:
    """A finished run over a tiny dataset with one attribute (team: x, y)."""
    folder = tmp_path_factory.mktemp("image_run")
    dataset = tiny_folder(folder / "ds", attributes="image,team\na,x\nb,x\nc,y\nd,y\n")
    done = child("run", "--dataset", dataset, "--out", folder / "run", *FAST)
    assert done.returncode == 0, done.stderr
    return folder / "run"


def _edited(text: str, edit: str) -> str:
    if edit == "not JSON":
        return text[: len(text) // 2]
    document = json.loads(text)
    if edit == "attributes is a list":
        document["attributes"] = list(document["attributes"].values())
    elif edit == "groups is null":
        document["attributes"]["team"]["groups"] = None
    elif edit == "no overall":
        del document["overall"]
    elif edit == "no attributes":
        del document["attributes"]
    elif edit == "an interval of one element":
        document["overall"]["ci"] = [0.5]
    elif edit == "n of 400 digits":
        document["overall"]["n"] = 10**400
    return json.dumps(document)


MALFORMED = ["attributes is a list", "groups is null", "no overall", "no attributes",
             "an interval of one element", "n of 400 digits", "not JSON"]


@pytest.mark.parametrize("edit", MALFORMED)
def test_malformed_results_are_one_line_and_exit_2_in_report_check_and_compare(
        tmp_path, monkeypatch, capsys, image_run, edit):
    good = image_run
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "per_image.csv").write_bytes((good / "per_image.csv").read_bytes())
    (bad / "results.json").write_text(_edited((good / "results.json").read_text(), edit))
    for arguments in (["report", bad, "--format", "md"], ["check", bad],
                      ["compare", good, bad], ["compare", bad, good]):
        code, out, err = main(monkeypatch, capsys, *arguments)
        line = one_line_refusal(code, err, "results.json")
        assert len(err) == 1, err
        assert str(bad) in line, line


def test_a_device_or_oversized_file_is_refused_in_one_line(tmp_path, monkeypatch, capsys,
                                                           image_run):
    run = image_run
    zero = tmp_path / "zero"
    zero.mkdir()
    (zero / "results.json").symlink_to("/dev/zero")
    big = tmp_path / "big.toml"
    with open(big, "wb") as handle:  # sparse: 2 MB of nothing on disk
        handle.truncate(2 * 1024 * 1024)
    cases = [(["report", run, "--format", "md", "--card", "/dev/zero"], "--card"),
             (["report", run, "--format", "md", "--card", big], "--card"),
             (["check", "/dev/zero"], "results.json"),
             (["check", zero], "results.json"),
             (["report", zero, "--format", "md"], "results.json"),
             (["compare", run, zero], "results.json"),
             (["validate", "--dataset", "/dev/zero"], "--dataset"),
             (["run", "--dataset", "/dev/zero", "--bootstrap", str(10**9)], "--bootstrap")]
    for arguments, naming in cases:
        code, _, err = main(monkeypatch, capsys, *arguments)
        one_line_refusal(code, err, naming)


def test_a_click_error_exits_2_not_1(tmp_path, monkeypatch, capsys):
    code, _, err = main(monkeypatch, capsys, "models", "pull", "--wheel",
                        tmp_path / "missing\n::error::x.whl")
    one_line_refusal(code, err, "--wheel")
    assert_no_workflow_commands(err)


# --- 4. limits ----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [30_000, 70_000])
def test_an_image_above_the_pixel_cap_is_refused_by_validate_and_run_alike(
        tmp_path, monkeypatch, capsys, model_file, size):
    dataset = tiny_folder(tmp_path / "ds")
    (dataset / "images" / "huge.png").write_bytes(png_header_of_size(size, size, 2))
    (dataset / "masks" / "huge.png").write_bytes(png_header_of_size(size, size, 0))
    reason = (f"{dataset / 'images' / 'huge.png'}, row 5 (huge): image is {size}x{size} "
              f"({size * size / 1e6:,.0f} megapixels), above the limit of 100,000,000 pixels "
              "(--max-pixels)")
    for command in (["validate", "--dataset", dataset],
                    ["run", "--dataset", dataset, "--out", tmp_path / "run", *FAST]):
        code, _, err = main(monkeypatch, capsys, *command)
        assert code == 2, err
        assert [line for line in err if "huge" in line] == [reason]
    # Under --skip-invalid the run goes on without it, and records why it was skipped.
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out",
                        tmp_path / "run", "--skip-invalid", *FAST)
    assert code == 0, err
    document = json.loads((tmp_path / "run" / "results.json").read_text())
    assert document["dataset"]["evaluated"] == 4
    assert "above the limit" in document["dataset"]["skipped"][0]["reason"]


def test_max_pixels_is_a_checked_setting(tmp_path, monkeypatch, capsys):
    dataset = tiny_folder(tmp_path / "ds")  # 16 x 16 = 256 pixels each
    code, _, err = main(monkeypatch, capsys, "validate", "--dataset", dataset,
                        "--max-pixels", "255")
    assert code == 2 and sum("above the limit of 255 pixels" in line for line in err) == 4
    for value in ("0", str(2**31), "many"):
        code, _, err = main(monkeypatch, capsys, "validate", "--dataset", dataset,
                            "--max-pixels", value)
        one_line_refusal(code, err, "--max-pixels")
    config = tmp_path / "fairness-eval.toml"
    config.write_text("max-pixels = 0\n")
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--config", config,
                        *FAST)
    one_line_refusal(code, err, "max-pixels")


def test_an_attribute_value_above_200_characters_is_refused_with_its_row(tmp_path,
                                                                         monkeypatch, capsys):
    long = "x" * 201
    dataset = tiny_folder(tmp_path / "ds", attributes=f"image,team\na,ok\nb,{long}\n")
    code, _, err = main(monkeypatch, capsys, "validate", "--dataset", dataset)
    assert code == 2
    assert err[0] == (f"{dataset / 'attributes.csv'}, row 2 (b): 'team' value is 201 "
                      f"characters long ({'x' * 40!r}...); attribute values are limited to 200 "
                      "characters")
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text("".join(json.dumps({
        "image": str(dataset / "images" / f"{s}.png"), "mask": str(dataset / "masks" / f"{s}.png"),
        "team": long if s == "c" else "ok"}) + "\n" for s in "abcd"))
    code, _, err = main(monkeypatch, capsys, "validate", "--dataset", manifest)
    assert code == 2
    assert err[0].startswith(f"{manifest}, row 3 (c): 'team' value is 201 characters long")
    code, _, err = main(monkeypatch, capsys, "validate", "--dataset", dataset,
                        "--attribute", "team")
    assert code == 2


# --- 6. every file accounted for ---------------------------------------------------------


def test_unsupported_images_are_listed_not_dropped(tmp_path, monkeypatch, capsys):
    dataset = tiny_folder(tmp_path / "ds", attributes="image,team\na,x\nanim.gif,y\n")
    (dataset / "images" / "anim.gif").write_bytes(b"GIF89a" + bytes(16))
    (dataset / "images" / "photo.heic").write_bytes(bytes(32))
    (dataset / "images" / ".DS_Store").write_bytes(bytes(8))  # hidden: not a row
    code, out, err = main(monkeypatch, capsys, "validate", "--dataset", dataset)
    assert code == 2
    assert out[0] == f"{dataset}: 6 rows, 4 valid, 2 with problems"
    gif = [line for line in err if "anim.gif" in line]
    assert gif == [f"{dataset / 'images' / 'anim.gif'}, row 2 (anim): unsupported image "
                   "format '.gif' (fairness-eval reads .jpg, .jpeg, .png, .bmp, .webp, .tif, "
                   ".tiff); convert it or move it out of images/"]
    assert any("photo.heic" in line and "unsupported image format '.heic'" in line
               for line in err)
    assert not any("no such image" in line for line in err), err


def test_orphan_masks_are_noted_and_two_masks_for_one_image_are_a_problem(
        tmp_path, monkeypatch, capsys):
    dataset = tiny_folder(tmp_path / "ds")
    masks = dataset / "masks"
    (masks / "lost.png").write_bytes((masks / "a.png").read_bytes())
    cv2.imwrite(str(masks / "b.bmp"), cv2.imread(str(masks / "b.png"), cv2.IMREAD_UNCHANGED))
    code, out, err = main(monkeypatch, capsys, "validate", "--dataset", dataset)
    assert code == 2
    assert "note: masks/ holds 1 file(s) with no image in images/ (lost.png); not used" in out
    assert err[0] == (f"{masks / 'b.png'}, row 2 (b): 2 masks for one image in masks/ (b.png "
                      "and b.bmp); keep only the one that is the ground truth")


@pytest.mark.parametrize(("value", "reason"), [
    ('{"a": 1}', "'team' is an object; each value must be text, a number, true/false or null"),
    ("[1, 2]", "'team' is a list; each value must be text, a number, true/false or null"),
    ("NaN", "NaN is not a JSON value (use null for a missing value)"),
    ("-Infinity", "-Infinity is not a JSON value (use null for a missing value)"),
])
def test_jsonl_values_must_be_scalars(tmp_path, monkeypatch, capsys, value, reason):
    dataset = tiny_folder(tmp_path / "ds")
    rows = [json.dumps({"image": str(dataset / "images" / f"{s}.png"),
                        "mask": str(dataset / "masks" / f"{s}.png"), "team": "x"})
            for s in "abcd"]
    rows[2] = rows[2].replace('"x"', value)
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text("\n".join(rows) + "\n")
    code, _, err = main(monkeypatch, capsys, "validate", "--dataset", manifest)
    assert err == [f"fairness-eval: error: {manifest}, line 3: {reason}"]
    assert code == 2


def _rotated_jpeg(path: Path, stored: np.ndarray, orientation: int) -> None:
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(stored).save(path, "JPEG", exif=exif.tobytes(), quality=95)


def test_exif_orientation_is_reported_and_rotate_turns_the_image(tmp_path, monkeypatch,
                                                                 capsys, model_file):
    dataset = tiny_folder(tmp_path / "ds", size=(32, 48))
    # b.jpg is stored 48 x 32 (w x h) and displayed upright as 32 x 48 (orientation 6);
    # its mask, drawn on the displayed image, is 32 x 48 like the others.
    (dataset / "images" / "b.png").unlink()
    _rotated_jpeg(dataset / "images" / "b.jpg", np.full((32, 48, 3), 120, np.uint8), 6)
    cv2.imwrite(str(dataset / "masks" / "b.png"),
                cv2.imread(str(dataset / "masks" / "a.png"), cv2.IMREAD_UNCHANGED).T.copy())
    code, out, err = main(monkeypatch, capsys, "validate", "--dataset", dataset)
    assert code == 2  # scored as stored, its mask does not fit: said so, with the way out
    assert err[0].endswith("mask is 32x48 but the image is 48x32 (the image's EXIF "
                           "orientation is 6; --exif rotate turns it upright first)"), err
    code, out, err = main(monkeypatch, capsys, "validate", "--dataset", dataset,
                          "--exif", "rotate")
    assert code == 0, err
    assert ("note: 1 image(s) carry an EXIF orientation other than 1: b.jpg (6); turned "
            "upright before scoring (--exif rotate); their masks are taken to be drawn on "
            "the displayed image") in out
    # A mask drawn on the stored pixels, under the default: scored as stored, with a note.
    (dataset / "masks" / "b.png").write_bytes((dataset / "masks" / "a.png").read_bytes())
    code, out, err = main(monkeypatch, capsys, "validate", "--dataset", dataset)
    assert code == 0, err
    assert any(line.startswith("note: 1 image(s) carry an EXIF orientation other than 1: "
                               "b.jpg (6); scored as stored") for line in out), out
    cv2.imwrite(str(dataset / "masks" / "b.png"),
                cv2.imread(str(dataset / "masks" / "a.png"), cv2.IMREAD_UNCHANGED).T.copy())
    run = tmp_path / "run"
    code, out, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", run,
                          "--exif", "rotate", "--workers", "1", "--bootstrap", "200",
                          "--format", "html")
    assert code == 0, err
    document = json.loads((run / "results.json").read_text())
    assert document["settings"]["exif"] == "rotate"
    note = document["dataset"]["notes"][0]
    assert "turned upright before scoring (--exif rotate)" in note
    assert "EXIF orientation other than 1" in (run / "model_card.html").read_text()
    code, _, err = main(monkeypatch, capsys, "validate", "--dataset", dataset, "--exif", "spin")
    one_line_refusal(code, err, "--exif")


def test_models_list_does_not_call_a_corrupt_cached_model_cached(tmp_path, monkeypatch,
                                                                 capsys):
    cache = tmp_path / "cache" / "fairness-eval" / "models"
    cache.mkdir(parents=True)
    (cache / "selfie_segmentation.tflite").write_bytes(b"not the model")
    code, out, err = main(monkeypatch, capsys, "models", "list",
                          env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert code == 0
    states = {line[:18].strip(): line[19:30].strip() for line in out[1:]}
    assert states == {"selfie": "corrupt", "selfie-landscape": "not pulled"}
    assert err == ["warning: selfie failed the SHA-256 check; run `fairness-eval models pull "
                   "selfie` to replace them"]


# --- user files beside the outputs: check and compare ------------------------------------


def test_check_keeps_a_junit_xml_it_did_not_write(tmp_path, monkeypatch, capsys, image_run):
    run = tmp_path / "run"
    run.mkdir()
    for name in ("results.json", "per_image.csv"):
        (run / name).write_bytes((image_run / name).read_bytes())
    (run / "junit.xml").write_text("<mine/>")
    code, _, err = main(monkeypatch, capsys, "check", run)
    one_line_refusal(code, err, "junit.xml")
    assert (run / "junit.xml").read_text() == "<mine/>"
    code, _, err = main(monkeypatch, capsys, "check", run, "--overwrite", "--allow-empty-gate")
    assert code == 0, err
    assert (run / "junit.xml").read_text().startswith("<?xml")
    code, _, err = main(monkeypatch, capsys, "check", run,  # its own: replaced freely
                        "--allow-empty-gate")
    assert code == 0, err
    (run / "junit.xml").write_text((run / "junit.xml").read_text() + "<!-- edited -->")
    code, _, err = main(monkeypatch, capsys, "check", run)
    one_line_refusal(code, err, "junit.xml")
    assert (run / "junit.xml").read_text().endswith("<!-- edited -->")


def test_compare_keeps_comparison_files_it_did_not_write(tmp_path, monkeypatch, capsys,
                                                         image_run):
    out = tmp_path / "comparison"
    out.mkdir()
    (out / "comparison.md").write_text("my notes")
    code, _, err = main(monkeypatch, capsys, "compare", image_run, image_run, "--out", out,
                        "--format", "")
    one_line_refusal(code, err, "comparison.md")
    assert (out / "comparison.md").read_text() == "my notes"
    assert not (out / "comparison.json").exists()
    code, _, err = main(monkeypatch, capsys, "compare", image_run, image_run, "--out", out,
                        "--format", "", "--overwrite")
    assert code == 0, err
    code, _, err = main(monkeypatch, capsys, "compare", image_run, image_run, "--out", out,
                        "--format", "")
    assert code == 0, err  # what it wrote itself it may replace


def test_an_unwritable_step_summary_is_a_warning_not_a_failure(tmp_path, monkeypatch, capsys,
                                                               image_run):
    summary = tmp_path / "summary-folder"
    summary.mkdir()  # appending to a folder fails like a read-only file
    code, out, err = main(monkeypatch, capsys, "check", image_run, "--overwrite",
                          "--allow-empty-gate",
                          env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    assert code == 0, err
    assert out[-1].startswith("fairness gate: passed")
    assert err == [f"warning: cannot append the step summary to {summary} (Is a directory); "
                   "the gate's verdict is unchanged"]


def test_per_image_csv_marks_formulas_as_text_and_reads_them_back(tmp_path, monkeypatch,
                                                                  capsys, model_file):
    import csv

    from fairness_eval.results.document import read_per_image

    stems = ("=HYPERLINK(1)", "+sum", "-minus", "@at", "plain")
    values = ["=1+1", "-0.5", "'quoted", "+44 20", "x"]
    attributes = "image,team\n" + "".join(
        f'"{s}","{v}"\n' for s, v in zip(stems, values, strict=True))
    dataset = tiny_folder(tmp_path / "ds", stems=stems, attributes=attributes)
    run = tmp_path / "run"
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", run,
                        "--attribute", "team", *FAST)
    assert code == 0, err
    with open(run / "per_image.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_image = {row["image"]: row for row in rows}
    assert set(by_image) == {"'=HYPERLINK(1)", "'+sum", "'-minus", "'@at", "plain"}
    assert [by_image[k]["team"] for k in ("'=HYPERLINK(1)", "'+sum", "'-minus", "'@at",
                                          "plain")] == ["'=1+1", "'-0.5", "''quoted",
                                                        "'+44 20", "x"]
    assert all(float(row["iou"]) >= 0 for row in rows)  # numbers stay numbers
    table = read_per_image(run)
    assert sorted(table["image"]) == sorted(stems)
    assert dict(zip(table["image"], table["team"], strict=True)) == dict(
        zip(stems, values, strict=True))
    # The reporters read it back the same way: the card renders, the run compares.
    code, _, err = main(monkeypatch, capsys, "report", run, "--format", "html")
    assert code == 0, err
    code, _, err = main(monkeypatch, capsys, "compare", run, run, "--out", tmp_path / "cmp",
                        "--format", "")
    assert code == 0, err
