"""`--limit N` and `--sample N`: which rows a run takes, how results.json records them, what
the card says, and the one check of N (a positive integer; more than the dataset: all)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from fairness_eval.config.settings import Settings
from fairness_eval.data.dataset import load_dataset
from fairness_eval.data.subset import take_subset
from fairness_eval.errors import UsageError
from fairness_eval.workflow import validate
from fairness_eval.workflow.run import run_evaluation

EXE = Path(sys.executable).with_name("fairness-eval")
VOC_ROWS = 300


def _run(voc: Path, out: Path, **subset) -> dict:
    settings = Settings(predictions=voc / "masks", formats=(), bootstrap=200, workers=1,
                        out=out, **subset)
    outcome = run_evaluation(voc, settings)
    outcome.lock.release()
    return json.loads((out / "results.json").read_text())


def _images(run: Path) -> list[str]:
    return pd.read_csv(run / "per_image.csv", dtype=str)["image"].tolist()


def test_limit_takes_the_first_rows_in_dataset_order_and_is_recorded(voc_dataset, tmp_path):
    document = _run(voc_dataset, tmp_path / "run", limit=20)
    full = load_dataset(voc_dataset, ())
    first = [s.image_id for s in sorted(full.samples, key=lambda s: s.row)][:20]
    assert _images(tmp_path / "run") == first
    assert document["dataset"]["rows"] == 20
    assert document["dataset"]["evaluated"] == 20
    assert document["dataset"]["subset"] == {"limit": 20, "available": VOC_ROWS, "taken": 20}
    assert document["settings"]["limit"] == 20
    assert "sample" not in document["settings"]


def test_sample_draws_rows_from_the_seed_and_is_recorded(voc_dataset, tmp_path):
    document = _run(voc_dataset, tmp_path / "a", sample=20, seed=1)
    assert document["dataset"]["subset"] == {"sample": 20, "seed": 1, "available": VOC_ROWS,
                                             "taken": 20}
    drawn = _images(tmp_path / "a")
    assert len(set(drawn)) == 20
    # a draw over the whole set, not its first rows, kept in dataset order
    full = [s.image_id for s in sorted(load_dataset(voc_dataset, ()).samples,
                                       key=lambda s: s.row)]
    positions = [full.index(image) for image in drawn]
    assert positions == sorted(positions) and max(positions) >= 20
    again = _run(voc_dataset, tmp_path / "b", sample=20, seed=1)
    assert _images(tmp_path / "b") == drawn
    assert again["dataset"]["sha256"] == document["dataset"]["sha256"]
    _run(voc_dataset, tmp_path / "c", sample=20, seed=2)
    assert _images(tmp_path / "c") != drawn


def test_neither_leaves_the_dataset_block_and_settings_as_they_were(voc_dataset, tmp_path):
    document = _run(voc_dataset, tmp_path / "run")
    assert "subset" not in document["dataset"]
    assert "limit" not in document["settings"] and "sample" not in document["settings"]
    assert document["dataset"]["rows"] == VOC_ROWS


def test_more_than_the_dataset_takes_every_row_and_says_so(voc_dataset):
    full = load_dataset(voc_dataset, ())
    taken = take_subset(full, sample=VOC_ROWS + 5, seed=3)
    assert len(taken.samples) == VOC_ROWS and taken.rows == VOC_ROWS
    assert taken.subset.taken == VOC_ROWS and taken.subset.requested == VOC_ROWS + 5
    assert any(f"--sample {VOC_ROWS + 5}: the dataset has {VOC_ROWS} rows" in note
               for note in taken.notes)


@pytest.mark.parametrize("value, reason", [("0", "must be at least 1"),
                                           ("-3", "must be at least 1"),
                                           ("2.5", "is not an integer"),
                                           ("ten", "is not an integer")])
def test_n_must_be_a_positive_integer(value, reason):
    for option in ("limit", "sample"):
        with pytest.raises(UsageError, match=f"--{option}: .*{reason}"):
            Settings(**{option: value})


def test_limit_and_sample_together_are_refused():
    with pytest.raises(UsageError, match="--limit 5 and --sample 5: give only one"):
        Settings(limit=5, sample=5)


def test_validate_checks_only_the_rows_taken(voc_dataset):
    lines: list[str] = []
    result = validate(voc_dataset, limit=20, echo=lines.append)
    assert result.exit_code == 0 and result.rows == 20 and result.valid == 20
    assert "note: --limit 20: checked the first 20 of 300 rows" in lines


def test_the_card_says_what_part_was_evaluated(voc_dataset, tmp_path):
    from fairness_eval.report.context import subset_line
    from fairness_eval.results.provenance import SubsetRecord

    assert subset_line(SubsetRecord(sample=20, seed=1, available=1450, taken=20),
                       "images") == "a sample of 20 of 1,450 images (seed 1)"
    assert subset_line(SubsetRecord(limit=20, available=300, taken=20),
                       "images") == "the first 20 of 300 images"
    out = tmp_path / "run"
    completed = subprocess.run(
        [str(EXE), "run", "--dataset", str(voc_dataset), "--predictions",
         str(voc_dataset / "masks"), "--sample", "20", "--seed", "1", "--bootstrap", "200",
         "--workers", "1", "--format", "html,md", "--out", str(out)],
        capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert "a sample of 20 of 300 images (seed 1)" in (out / "model_card.html").read_text()
    assert "a sample of 20 of 300 images (seed 1)" in (out / "summary.md").read_text()


def test_resume_with_another_sample_names_the_subset(voc_dataset, tmp_path):
    """A resumed run that draws another sample cannot keep the interrupted run's rows: the
    refusal names the subset, not a changed dataset; a larger --limit keeps them."""
    from fairness_eval.evaluation.resume import reusable_rows

    first = take_subset(load_dataset(voc_dataset), sample=10, seed=1)
    done = {s.row: {"status": "ok", "image": s.image_id} for s in first.samples}
    other = take_subset(load_dataset(voc_dataset), sample=10, seed=2)
    with pytest.raises(UsageError, match=r"^--resume: row \d+ \(\S+\) of the interrupted run "
                                         r"is not among the rows --sample 10 --seed 2 takes"):
        reusable_rows(done, other, None)
    limited = take_subset(load_dataset(voc_dataset), limit=5)
    grown = take_subset(load_dataset(voc_dataset), limit=20)
    kept = {s.row: {"status": "ok", "image": s.image_id} for s in limited.samples}
    assert reusable_rows(kept, grown, None) == kept


def test_a_video_dataset_takes_clips(voc_dataset):
    davis = voc_dataset.parent / "davis2016_person"
    full = load_dataset(davis, ())
    clips = [s.image_id for s in sorted(full.samples, key=lambda s: s.row)]
    taken = take_subset(full, limit=2, unit="clips")
    assert [s.image_id for s in taken.samples] == clips[:2] and taken.rows == 2
    assert taken.frame_count == sum(len(full.clips[c].frames) for c in clips[:2])
    lines: list[str] = []
    assert validate(davis, limit=2, echo=lines.append).exit_code == 0
    assert f"note: --limit 2: checked the first 2 of {len(clips)} clips" in lines
