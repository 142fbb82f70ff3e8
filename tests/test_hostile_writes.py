"""Nothing outside the output folders is ever written or removed: links planted in a run
folder, --overwrite, --save-conditions, edited reports.

Every case goes through the real command line (`cli.main()` in this process, the real
model on a few VOC photos copied here) and compares the SHA-256 of every file outside
--out before and after. Decisions pinned here:
- a temporary `<name>.partial` that is a link is removed, never written through; a link
  in place of an output is replaced by the new regular file (only when asked: --overwrite
  for junit.xml), never written through;
- a lock file that is a link is refused (exit 2): opening it would truncate its target;
- --overwrite removes only regular files the ledger lists, reached without a link;
- --save-conditions DIR obeys --out's rules;
- run --overwrite keeps a card or summary the user edited, saying so in one line, and
  never replaces results fairness-eval did not write (refused, exit 2);
- a refused command writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from fairness_eval import cli
from fairness_eval.atomicwrite import remove_file, write_atomically
from fairness_eval.errors import UsageError
from fairness_eval.evaluation.run_dir import LOCK_FILE, RUN_LEDGER_FILE

VOC = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "voc2012_person"
STEMS = ("000032", "000733", "000999", "001430")
FAST = ["--workers", "1", "--bootstrap", "200"]


# --- helpers -------------------------------------------------------------------------


def main(monkeypatch, capsys, *arguments: object) -> tuple[int, list[str], list[str]]:
    """`fairness-eval ARGUMENTS` through the console entry: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["fairness-eval", *map(str, arguments)])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        cli.main()
    captured = capsys.readouterr()
    return exited.value.code, captured.out.splitlines(), captured.err.splitlines()


def refused(code: int, err: list[str], naming: str) -> str:
    """Exit 2, no traceback, one last line `fairness-eval: error: ...` naming `naming`."""
    assert code == 2, err
    assert not any("Traceback" in line for line in err), err
    assert err[-1].startswith("fairness-eval: error: "), err
    assert naming in err[-1], err
    return err[-1]


def tiny_voc(root: Path) -> Path:
    """A folder dataset of four VOC photos and their person masks."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for stem in STEMS:
        shutil.copyfile(VOC / "images" / f"{stem}.jpg", root / "images" / f"{stem}.jpg")
        shutil.copyfile(VOC / "masks" / f"{stem}.png", root / "masks" / f"{stem}.png")
    return root


def digests(root: Path) -> dict[str, str]:
    """SHA-256 of every regular file under `root` (links not followed), by relative name."""
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def victims(folder: Path, names: tuple[str, ...]) -> Path:
    """Files outside every run folder that a link in one points at."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(f"the user's {name}, not fairness-eval's\n".encode())
    return folder


@pytest.fixture()
def dataset(tmp_path: Path) -> Path:
    if not VOC.is_dir():
        pytest.fail(f"shared dataset missing: {VOC}")
    return tiny_voc(tmp_path / "ds")


# --- the safe writer and remover themselves (no model) ---------------------------------


def test_the_writer_never_writes_through_a_planted_partial_or_folder_link(tmp_path):
    outside = victims(tmp_path / "outside", ("a.txt",))
    before = digests(outside)
    out = tmp_path / "out"
    (out / "masks").mkdir(parents=True)
    (out / "x.txt.partial").symlink_to(outside / "a.txt")
    write_atomically(out / "x.txt", b"new")
    assert (out / "x.txt").read_bytes() == b"new"
    assert not os.path.lexists(out / "x.txt.partial")
    # A link in place of the output itself is replaced, never written through.
    (out / "y.txt").symlink_to(outside / "a.txt")
    write_atomically(out / "y.txt", b"new")
    assert not (out / "y.txt").is_symlink() and (out / "y.txt").read_bytes() == b"new"
    # A folder below the chosen root that is a link is refused.
    (out / "linked").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UsageError, match="symbolic link"):
        write_atomically(out / "linked" / "a.txt", b"new", root=out)
    assert not remove_file(out / "linked" / "a.txt", out)
    assert digests(outside) == before


# --- links planted in the run folder ----------------------------------------------------


@pytest.mark.slow
def test_symlinked_partial_files_leave_their_targets_unchanged(dataset, tmp_path, monkeypatch,
                                                               capsys, model_file):
    outside = victims(tmp_path / "outside",
                      ("results.txt", "table.txt", "card.txt", "summary.txt", "ledger.txt"))
    out = tmp_path / "run"
    out.mkdir()
    for name, target in (("results.json", "results.txt"), ("per_image.csv", "table.txt"),
                         ("model_card.html", "card.txt"), ("summary.md", "summary.txt"),
                         (RUN_LEDGER_FILE, "ledger.txt")):
        (out / f"{name}.partial").symlink_to(outside / target)
    before = digests(outside), digests(dataset)
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", out,
                        "--overwrite", "--format", "html,md", *FAST)
    assert code == 0, err
    assert (digests(outside), digests(dataset)) == before
    for name in ("results.json", "per_image.csv", "model_card.html", "summary.md"):
        assert (out / name).is_file() and not (out / name).is_symlink()
    assert json.loads((out / "results.json").read_text())["schema_version"]


@pytest.mark.slow
def test_a_symlinked_lock_is_refused_and_its_target_kept(dataset, tmp_path, monkeypatch, capsys,
                                                         model_file):
    outside = victims(tmp_path / "outside", ("lock-target.txt",))
    out = tmp_path / "run"
    out.mkdir()
    (out / LOCK_FILE).symlink_to(outside / "lock-target.txt")
    before = digests(outside)
    # A fresh run into a folder holding only the link: the lock does not count as content.
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", out,
                        "--format", "", *FAST)
    refused(code, err, LOCK_FILE)
    assert "symbolic link" in err[-1]
    assert digests(outside) == before
    assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE]  # nothing written
    # A finished run's folder with the lock replaced by a link: report and check refuse too.
    good = tmp_path / "good"
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", good,
                        "--format", "", *FAST)
    assert code == 0, err
    (good / LOCK_FILE).unlink()
    (good / LOCK_FILE).symlink_to(outside / "lock-target.txt")
    for command in (["report", good, "--format", "md"], ["check", good]):
        code, _, err = main(monkeypatch, capsys, *command)
        refused(code, err, LOCK_FILE)
    assert digests(outside) == before


@pytest.mark.slow
def test_check_overwrite_replaces_a_symlinked_junit_xml_in_place(dataset, tmp_path, monkeypatch,
                                                                 capsys, model_file):
    outside = victims(tmp_path / "outside", ("ci-report.xml",))
    out = tmp_path / "run"
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", out,
                        "--format", "", *FAST)
    assert code == 0, err
    (out / "junit.xml").symlink_to(outside / "ci-report.xml")
    before = digests(outside)
    code, _, err = main(monkeypatch, capsys, "check", out)  # not asked: refused
    refused(code, err, "junit.xml")
    assert (out / "junit.xml").is_symlink()
    code, _, err = main(monkeypatch, capsys, "check", out, "--overwrite", "--allow-empty-gate")
    assert code in (0, 1), err
    assert digests(outside) == before
    assert not (out / "junit.xml").is_symlink()
    assert (out / "junit.xml").read_text().startswith("<?xml")


@pytest.mark.slow
def test_overwrite_never_deletes_through_a_symlinked_masks_folder(dataset, tmp_path,
                                                                  monkeypatch, capsys,
                                                                  model_file):
    out = tmp_path / "run"
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", out,
                        "--save-masks", "--format", "md", *FAST)
    assert code == 0, err
    assert sorted(p.name for p in (out / "masks").iterdir()) == [f"{s}.png" for s in STEMS]
    # masks/ replaced by a link to the ground truth, whose files have the same names; and
    # another link the (edited) ledger lists a file through.
    shutil.rmtree(out / "masks")
    (out / "masks").symlink_to(dataset / "masks", target_is_directory=True)
    (out / "gt").symlink_to(dataset / "masks", target_is_directory=True)
    ledger = json.loads((out / RUN_LEDGER_FILE).read_text())
    ledger["files"] += [f"gt/{STEMS[0]}.png", f"masks/../../ds/masks/{STEMS[1]}.png"]
    (out / RUN_LEDGER_FILE).write_text(json.dumps(ledger))
    before = digests(dataset)
    assert len(before) == 2 * len(STEMS)
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", out,
                        "--overwrite", "--save-masks", "--format", "", *FAST)
    refused(code, err, "masks")  # never written through either
    assert digests(dataset) == before
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", out,
                        "--overwrite", "--format", "", *FAST)
    assert code == 0, err
    assert digests(dataset) == before
    assert (out / "masks").is_symlink()  # not fairness-eval's to remove either
    # A resumed run with masks/ a link is refused as well.
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", out,
                        "--resume", "--save-masks", "--format", "", *FAST)
    refused(code, err, "masks")
    assert digests(dataset) == before


# --- --save-conditions obeys --out's rules ------------------------------------------------


def test_save_conditions_without_conditions_is_a_usage_error(dataset, tmp_path, monkeypatch,
                                                             capsys):
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out",
                        tmp_path / "run", "--save-conditions", tmp_path / "saved", *FAST)
    refused(code, err, "--save-conditions")
    assert "--conditions" in err[-1]
    assert not (tmp_path / "run").exists() and not (tmp_path / "saved").exists()


@pytest.mark.slow
def test_save_conditions_into_the_dataset_or_a_users_folder_is_refused(
        dataset, tmp_path, monkeypatch, capsys, model_file):
    before = digests(dataset)
    run = ["run", "--dataset", dataset, "--conditions", "noise", "--format", "", *FAST]
    for target in (dataset, dataset / "masks", dataset / "masks" / "deeper"):
        code, _, err = main(monkeypatch, capsys, *run, "--out", tmp_path / "run",
                            "--overwrite", "--save-conditions", target)
        refused(code, err, "--save-conditions")
        assert digests(dataset) == before
        assert not (tmp_path / "run").exists()  # refused before anything was written
    code, _, err = main(monkeypatch, capsys, *run, "--out", tmp_path / "run",
                        "--save-conditions", tmp_path / "run")
    refused(code, err, "--save-conditions")
    # A folder of the user's: refused when not empty; with --overwrite, a file of theirs
    # named as a degraded image is never replaced.
    mine = tmp_path / "mine"
    (mine / "noise-20" / "images").mkdir(parents=True)
    (mine / "notes.txt").write_text("mine")
    code, _, err = main(monkeypatch, capsys, *run, "--out", tmp_path / "run",
                        "--save-conditions", mine)
    refused(code, err, "--save-conditions")
    (mine / "noise-20" / "images" / f"{STEMS[0]}.png").write_bytes(b"my picture")
    users = digests(mine)
    code, _, err = main(monkeypatch, capsys, *run, "--out", tmp_path / "run",
                        "--overwrite", "--save-conditions", mine)
    refused(code, err, f"{STEMS[0]}.png")
    assert digests(mine) == users
    # Without the clash it runs: the user's files stay, the degraded images are written,
    # and --overwrite then removes only what the run wrote.
    (mine / "noise-20" / "images" / f"{STEMS[0]}.png").unlink()
    code, _, err = main(monkeypatch, capsys, *run, "--out", tmp_path / "run",
                        "--overwrite", "--save-conditions", mine)
    assert code == 0, err
    assert (mine / "notes.txt").read_text() == "mine"
    assert len(list((mine / "noise-20" / "images").iterdir())) == len(STEMS)
    assert digests(dataset) == before


# --- run --overwrite keeps what the user edited; a refused command writes nothing -------


@pytest.mark.slow
def test_run_overwrite_keeps_an_edited_summary_and_a_users_card(dataset, tmp_path,
                                                                monkeypatch, capsys,
                                                                model_file):
    out = tmp_path / "run"
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", out,
                        "--format", "md", *FAST)
    assert code == 0, err
    edited = (out / "summary.md").read_bytes() + b"\nMy remarks on this run.\n"
    (out / "summary.md").write_bytes(edited)
    (out / "model_card.json").write_text('{"mine": true}')  # never written by fairness-eval
    code, stdout, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", out,
                             "--overwrite", "--format", "md,json", *FAST)
    assert code == 0, err
    assert (out / "summary.md").read_bytes() == edited
    assert (out / "model_card.json").read_text() == '{"mine": true}'
    kept = [line for line in stdout if line.startswith("kept ")]
    assert len(kept) == 2 and "summary.md" in kept[0] + kept[1], stdout
    # An unedited summary is replaced as before.
    (out / "summary.md").unlink()
    code, stdout, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", out,
                             "--overwrite", "--format", "md", *FAST)
    assert code == 0, err
    assert f"wrote {out / 'summary.md'}" in stdout
    # An edited per_image.csv is not removed by --overwrite: the run is refused instead.
    table = (out / "per_image.csv").read_bytes().replace(b",ok,", b",ok ,", 1)
    (out / "per_image.csv").write_bytes(table)
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", out,
                        "--overwrite", "--format", "", *FAST)
    refused(code, err, "per_image.csv")
    assert (out / "per_image.csv").read_bytes() == table


def test_a_refused_resume_or_overwrite_writes_nothing(dataset, tmp_path, monkeypatch, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "results.json").write_text('{"mine": 1}')
    (mine / "per_image.csv").write_text("image\nmine\n")
    (mine / "progress.sqlite").write_bytes(b"not a database of fairness-eval's")
    before = digests(mine)
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", mine,
                        "--resume", "--format", "", *FAST)
    refused(code, err, "mine")
    assert digests(mine) == before
    assert sorted(p.name for p in mine.iterdir()) == ["per_image.csv", "progress.sqlite",
                                                      "results.json"]
    code, _, err = main(monkeypatch, capsys, "run", "--dataset", dataset, "--out", mine,
                        "--overwrite", "--format", "", *FAST)
    refused(code, err, "was not written by fairness-eval")
    assert digests(mine) == before
    assert not (mine / RUN_LEDGER_FILE).exists()
