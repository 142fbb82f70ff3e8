"""The command line as a user meets it: real subprocesses, exit codes, one-line errors."""

import subprocess
import sys
from pathlib import Path

import pytest

EXE = Path(sys.executable).with_name("fairness-eval")


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_validate_prints_counts_per_attribute(voc_dataset):
    done = cli("validate", "--dataset", str(voc_dataset), "--attribute", "bourdev_subcategory")
    assert done.returncode == 0, done.stderr
    assert "300 rows, 300 valid, 0 with problems" in done.stdout
    lines = {line.split()[0]: line.split()[-1] for line in done.stdout.splitlines()
             if line.startswith("  ")}
    assert lines["Male"] == "32" and lines["Female"] == "20" and lines["Child"] == "8"


def test_validate_lists_every_problem_and_exits_2(tmp_path):
    import cv2
    import numpy as np

    for folder in ("images", "masks"):
        (tmp_path / folder).mkdir()
    for stem in ("a", "b", "c"):
        cv2.imwrite(str(tmp_path / "images" / f"{stem}.jpg"), np.zeros((8, 8, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "masks" / "a.png"), np.zeros((8, 8), np.uint8))
    cv2.imwrite(str(tmp_path / "masks" / "b.png"), np.zeros((8, 8, 3), np.uint8))
    done = cli("validate", "--dataset", str(tmp_path))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "row 2 (b): mask has 3 channels" in done.stderr
    assert "row 3 (c): missing mask" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("fairness-eval: error: 2 invalid row")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "--dataset", "/nonexistent/data"), "--dataset: /nonexistent/data does not exist"),
        (("run", "--dataset", ".", "--threshold", "1.5"), "--threshold: 1.5 must lie in (0, 1)"),
        (("run", "--dataset", ".", "--ci-method", "magic"),
         "--ci-method: 'magic' is not one of bca, percentile"),
        (("models", "pull", "nosuchmodel"), "unknown model(s) nosuchmodel"),
        # refused before any image is evaluated, not after
        (("run", "--dataset", ".", "--examples", "2"), "--examples 2 needs --save-masks"),
        (("run", "--dataset", ".", "--card", "missing.toml"), "--card: cannot read"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args, message, tmp_path):
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_models_list_names_both_registered_models(model_file):
    done = cli("models", "list")
    assert done.returncode == 0
    assert "selfie " in done.stdout and "selfie-landscape" in done.stdout
    assert "9ee168ec7c8f2a16" in done.stdout


def test_card_from_the_published_table_states_what_the_card_states(tmp_path):
    reference = Path(__file__).resolve().parents[2] / "shared" / "reference"
    table = reference / "mediapipe_selfie_2021_card.csv"
    done = cli("card", "--from-table", str(table), "--average", "96.57",
               "--inter-annotator-iou", "98.74", "--out", str(tmp_path / "card"),
               "--format", "md,json", "--gate")
    assert done.returncode == 0, done.stderr
    assert "average: 96.57%" in done.stdout
    assert "range 1.75 pt (s_africa .. e_asia); criterion (b) threshold 2.52 pt" in done.stdout
    assert "range 1.10 pt (6 .. 1)" in done.stdout
    assert "range 0.61 pt (female .. male)" in done.stdout
    assert done.stdout.count("criterion (a) at 3 SD cannot fire") == 2  # skin tone and gender
    assert "fairness gate: passed" in done.stdout
    assert (tmp_path / "card" / "summary.md").exists()
    assert (tmp_path / "card" / "model_card.json").exists()


def test_report_renders_a_run_folder_again(voc_run, tmp_path):
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(voc_run[0], run_dir)
    done = cli("report", str(run_dir), "--format", "md")
    assert done.returncode == 0, done.stderr
    assert "bourdev\\_subcategory" in (run_dir / "summary.md").read_text()  # Markdown-escaped
    (run_dir / "summary.md").write_text("my own notes\n")  # edited by the user
    refused = cli("report", str(run_dir), "--format", "md")
    assert refused.returncode == 2 and "--overwrite" in refused.stderr
    assert (run_dir / "summary.md").read_text() == "my own notes\n"


def test_progress_off_a_terminal_is_a_line_every_few_seconds(monkeypatch):
    import io

    import fairness_eval.terminal as terminal

    clock = {"now": 0.0}
    monkeypatch.setattr(terminal.time, "monotonic", lambda: clock["now"])
    stream = io.StringIO()
    progress = terminal.Progress(stream=stream, interval=5.0)
    for done in range(0, 101):
        clock["now"] = done * 0.1  # 10 images a second
        progress(done, 100)
    assert stream.getvalue().splitlines() == [
        "50/100 images, 10.0 img/s, ETA     5s",
        "100/100 images, 10.0 img/s, ETA     0s",
    ]


# --- exit codes: 3 for a crash, never 1 (which CI reads as a violated criterion) ----------


def _main(monkeypatch, capsys, *args: str, env: dict[str, str] | None = None
          ) -> tuple[int, list[str]]:
    """Exit code and stderr lines of cli.main() run in-process with `args`."""
    from fairness_eval import cli as cli_module

    monkeypatch.setattr(sys, "argv", ["fairness-eval", *args])
    monkeypatch.delenv("FAIRNESS_EVAL_DEBUG", raising=False)
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        cli_module.main()
    return exited.value.code, capsys.readouterr().err.strip().splitlines()


def _crash_validate(monkeypatch, error: BaseException) -> None:
    from fairness_eval import workflow

    def crash(*args, **kwargs):
        raise error

    monkeypatch.setattr(workflow, "validate", crash)


def test_an_unexpected_exception_is_one_line_and_exit_3(monkeypatch, capsys, tmp_path):
    _crash_validate(monkeypatch, RuntimeError("the bug\x1b[2J\n::error::forged"))
    code, lines = _main(monkeypatch, capsys, "validate", "--dataset", str(tmp_path))
    assert code == 3
    assert lines == ["fairness-eval: internal error: RuntimeError: the bug\\x1b[2J "
                     "(run with --debug for the traceback)"]


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_debug_prints_the_traceback_and_still_exits_3(monkeypatch, capsys, tmp_path, how):
    _crash_validate(monkeypatch, RuntimeError("the bug"))
    args = ("validate", "--dataset", str(tmp_path))
    if how == "flag":
        code, lines = _main(monkeypatch, capsys, "--debug", *args)
    else:
        code, lines = _main(monkeypatch, capsys, *args, env={"FAIRNESS_EVAL_DEBUG": "1"})
    assert code == 3
    assert lines[0] == "Traceback (most recent call last):"
    assert "RuntimeError: the bug" in lines
    assert lines[-1].startswith("fairness-eval: internal error: RuntimeError: the bug")


def test_running_out_of_memory_is_exit_3_with_a_reason(monkeypatch, capsys, tmp_path):
    _crash_validate(monkeypatch, MemoryError())
    code, lines = _main(monkeypatch, capsys, "validate", "--dataset", str(tmp_path))
    assert code == 3
    assert len(lines) == 1 and "internal error: out of memory" in lines[0]
    assert "Traceback" not in "\n".join(lines)


def test_a_device_as_dataset_is_refused_not_read_until_memory_runs_out():
    done = cli("validate", "--dataset", "/dev/zero")
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == ("fairness-eval: error: --dataset: /dev/zero is neither a "
                                   "folder nor a regular file")


def test_mask_threshold_is_an_alias_of_threshold_with_the_same_rule(tmp_path):
    for flag in ("--threshold", "--mask-threshold"):
        done = cli("run", "--dataset", ".", flag, "1.5", cwd=tmp_path)
        assert done.returncode == 2
        assert done.stderr.strip().endswith("--threshold: 1.5 must lie in (0, 1)"), done.stderr
