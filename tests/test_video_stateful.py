"""Stateful video models (evaluation/clips.py): the previous frame's probability is fed back
as the 4th channel, zeros on a clip's first frame; clips run whole, so the results do not
depend on the number of workers."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from video_helpers import PORTRAIT_SPEC, davis_subset, run_cli  # noqa: E402

from fairness_eval.data.dataset import load_dataset  # noqa: E402
from fairness_eval.evaluation.clips import ClipOptions, evaluate_clip, uses_prior  # noqa: E402
from fairness_eval.evaluation.images import read_rgb  # noqa: E402
from fairness_eval.models.segmenter import Segmenter  # noqa: E402
from fairness_eval.models.spec import load_model_spec  # noqa: E402

FRAMES = 6


@pytest.fixture(scope="module")
def portrait() -> Segmenter:
    return Segmenter(load_model_spec(PORTRAIT_SPEC))


@pytest.fixture(scope="module")
def davis6(tmp_path_factory) -> Path:
    return davis_subset(tmp_path_factory.mktemp("davis") / "davis6", FRAMES)


def test_frame_2_with_the_real_prior_differs_from_frame_2_with_zeros(portrait, davis6):
    assert uses_prior(portrait)
    clip = load_dataset(davis6).clips_to_run()[1]
    images = [read_rgb(f.image) for f in clip.frames[:3]]
    prior = None
    for image in images[:2]:
        prior = portrait.segment(image, prior).model_probability
    with_prior = portrait.segment(images[2], prior).probability
    with_zeros = portrait.segment(images[2], None).probability
    changed = np.abs(with_prior - with_zeros)
    assert changed.max() > 0.1  # the prior moves the output, not by rounding
    # The clip's run feeds that same prior: its frame 2 is the chained prediction.
    records = evaluate_clip(replace(clip, frames=clip.frames[:3]), portrait, ClipOptions())
    assert records[2]["pred_area"] == int((with_prior > 0.5).sum())
    assert records[2]["pred_area"] != int((with_zeros > 0.5).sum())


def test_a_stateless_model_gets_no_prior(model_file, davis6):
    selfie = Segmenter(model_file.path)
    assert not uses_prior(selfie)
    clip = load_dataset(davis6).clips_to_run()[0]
    records = evaluate_clip(replace(clip, frames=clip.frames[:2]), selfie, ClipOptions())
    alone = selfie.predict(read_rgb(clip.frames[1].image)) > 0.5
    assert records[1]["pred_area"] == int(alone.sum())


def test_results_are_identical_with_one_and_two_workers(davis6, tmp_path, monkeypatch):
    tables = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        code = run_cli(["run", "--dataset", str(davis6), "--model", str(PORTRAIT_SPEC),
                        "--attribute", "background", "--out", str(out), "--format", "",
                        "--workers", workers, "--bootstrap", "1000"], monkeypatch)
        assert code == 0
        tables.append((pd.read_csv(out / "per_frame.csv"), (out / "per_clip.csv").read_text()))
    pd.testing.assert_frame_equal(tables[0][0], tables[1][0], check_exact=True)
    assert tables[0][1] == tables[1][1]
    assert (tables[0][0]["status"] == "ok").all() and len(tables[0][0]) == 3 * FRAMES


def test_a_frame_whose_mask_cannot_be_read_is_run_and_skipped(model_file, davis6, tmp_path):
    clip = load_dataset(davis6).clips_to_run()[0]
    corrupt = tmp_path / "00001.png"
    corrupt.write_bytes(b"not a png")
    frames = list(clip.frames[:3])
    frames[1] = replace(frames[1], mask=corrupt)
    records = evaluate_clip(replace(clip, frames=tuple(frames)),
                            Segmenter(model_file.path), ClipOptions(masks_dir=tmp_path / "m"))
    assert [r["status"] for r in records] == ["ok", "skipped", "ok"]
    assert str(corrupt) in records[1]["reason"]
    assert (tmp_path / "m" / clip.name / "00001.png").exists()  # it was run
    assert records[2]["flicker"] is not None  # paired with frame 0, the last scored one
