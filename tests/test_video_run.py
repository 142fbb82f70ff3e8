"""A video run end to end (workflow/run_video.py, evaluation/clip_rows.py, clips.py): the
CLI on DAVIS clips, every frame's numbers recomputed from the saved masks, clips as the
statistics' unit, video files, sparse annotation and --resume."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from video_helpers import (  # noqa: E402
    CLIPS,
    davis_subset,
    plain_boundary_iou,
    plain_flicker,
    plain_iou,
    read_binary,
    run_cli,
    video_subset,
)

FRAMES = 12


@pytest.fixture(scope="module")
def davis12(tmp_path_factory) -> Path:
    return davis_subset(tmp_path_factory.mktemp("davis") / "davis12", FRAMES)


@pytest.fixture(scope="module")
def davis_run(davis12, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "davis"
    monkeypatch = pytest.MonkeyPatch()
    try:
        code = run_cli(["run", "--dataset", str(davis12), "--attribute", "background",
                        "--save-masks", "--out", str(out), "--format", "", "--workers", "2",
                        "--bootstrap", "1000"], monkeypatch)
    finally:
        monkeypatch.undo()
    assert code == 0
    return out


def test_every_frames_numbers_are_recomputed_from_the_saved_masks(davis_run, davis12):
    per_frame = pd.read_csv(davis_run / "per_frame.csv", keep_default_na=False)
    assert list(per_frame.columns) == ["clip", "frame", "status", "reason", "intersection",
                                       "union", "iou", "boundary_iou", "dice", "flicker",
                                       "gt_area", "pred_area"]
    assert per_frame["clip"].tolist() == [c for c in CLIPS for _ in range(FRAMES)]
    assert per_frame["frame"].tolist() == list(range(FRAMES)) * len(CLIPS)
    assert set(per_frame["status"]) == {"ok"}
    for clip, frames in per_frame.groupby("clip"):
        previous = None
        for row in frames.itertuples():
            predicted = read_binary(davis_run / "masks" / clip / f"{row.frame:05d}.png")
            truth = read_binary(davis12 / "Annotations/480p" / clip / f"{row.frame:05d}.png")
            assert row.pred_area == predicted.sum() and row.gt_area == truth.sum()
            assert row.intersection == np.logical_and(predicted, truth).sum()
            assert row.iou == pytest.approx(plain_iou(predicted, truth), abs=1e-12)
            assert row.boundary_iou == pytest.approx(plain_boundary_iou(predicted, truth),
                                                     abs=1e-12)
            both = int(predicted.sum()) + int(truth.sum())
            assert row.dice == pytest.approx(
                2 * np.logical_and(predicted, truth).sum() / both if both else 1.0, abs=1e-12)
            if previous is None:
                assert row.flicker == ""  # a clip's first scored frame has none
            else:
                expected = plain_flicker(previous[0], predicted, previous[1], truth)
                assert float(row.flicker) == pytest.approx(expected, abs=1e-12)
            previous = (predicted, truth)


def test_a_clip_is_the_mean_of_its_frames_and_n_counts_clips(davis_run):
    per_frame = pd.read_csv(davis_run / "per_frame.csv")
    per_clip = pd.read_csv(davis_run / "per_clip.csv")
    assert list(per_clip.columns) == ["clip", "frames", "scored_frames", "iou", "boundary_iou",
                                      "dice", "flicker", "background", "camera", "status",
                                      "reason"]
    for row in per_clip.itertuples():
        frames = per_frame[per_frame["clip"] == row.clip]
        assert row.frames == row.scored_frames == FRAMES
        for metric in ("iou", "boundary_iou", "dice", "flicker"):
            assert getattr(row, metric) == pytest.approx(frames[metric].dropna().mean(),
                                                         abs=1e-12)
    results = json.loads((davis_run / "results.json").read_text())
    assert results["overall"]["n"] == len(CLIPS)
    assert results["overall"]["mean_iou"] == pytest.approx(per_clip["iou"].mean(), abs=1e-12)
    groups = results["attributes"]["background"]["groups"]
    for label, group in groups.items():
        members = per_clip[per_clip["background"] == label]
        assert group["n"] == len(members)
        assert group["value"] == pytest.approx(members["iou"].mean(), abs=1e-12)
    assert results["dataset"]["rows"] == results["dataset"]["evaluated"] == len(CLIPS)


def test_metric_flicker_judges_the_clips_flicker(davis12, tmp_path, monkeypatch):
    out = tmp_path / "flicker"
    code = run_cli(["run", "--dataset", str(davis12), "--attribute", "background",
                    "--metric", "flicker", "--out", str(out), "--format", "", "--workers", "1",
                    "--bootstrap", "1000"], monkeypatch)
    assert code == 0
    per_clip = pd.read_csv(out / "per_clip.csv")
    results = json.loads((out / "results.json").read_text())
    assert results["settings"]["metric"] == "flicker"
    assert results["overall"]["value"] == pytest.approx(per_clip["flicker"].mean(), abs=1e-12)
    assert results["overall"]["mean_iou"] == pytest.approx(per_clip["iou"].mean(), abs=1e-12)
    crowd = results["attributes"]["background"]["groups"]["crowd"]
    assert crowd["value"] == pytest.approx(
        per_clip.loc[per_clip["background"] == "crowd", "flicker"].mean(), abs=1e-12)


def test_metric_flicker_is_refused_for_stills(voc_dataset, tmp_path, monkeypatch, capsys):
    code = run_cli(["run", "--dataset", str(voc_dataset), "--metric", "flicker",
                    "--out", str(tmp_path / "x"), "--format", ""], monkeypatch)
    assert code == 2
    assert "--metric flicker" in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--exif", "rotate"], ["--predictions", "."],
                                    ["--examples", "1", "--save-masks"]])
def test_options_a_video_run_cannot_honour_are_refused(davis12, tmp_path, monkeypatch, capsys,
                                                        option):
    code = run_cli(["run", "--dataset", str(davis12), "--out", str(tmp_path / "x"),
                    "--format", "", *option], monkeypatch)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and option[0] in err[0], err
    assert not (tmp_path / "x" / "results.json").exists()


def test_lossless_video_files_give_the_same_frames_numbers(davis_run, tmp_path, monkeypatch):
    videos = video_subset(tmp_path / "videos", FRAMES)  # FFV1: decoded = the JPEG's pixels
    out = tmp_path / "run"
    code = run_cli(["run", "--dataset", str(videos), "--attribute", "background",
                    "--out", str(out), "--format", "", "--workers", "1",
                    "--bootstrap", "1000"], monkeypatch)
    assert code == 0
    from_video = pd.read_csv(out / "per_frame.csv")
    from_frames = pd.read_csv(davis_run / "per_frame.csv")
    pd.testing.assert_frame_equal(from_video, from_frames)


def test_sparse_masks_on_an_mp4_score_the_masked_frame_indices(tmp_path, monkeypatch):
    videos = video_subset(tmp_path / "mp4", 7, fourcc="mp4v", suffix=".mp4", every=3)
    out = tmp_path / "run"
    code = run_cli(["run", "--dataset", str(videos), "--out", str(out), "--format", "",
                    "--workers", "1", "--bootstrap", "1000"], monkeypatch)
    assert code == 0
    per_frame = pd.read_csv(out / "per_frame.csv")
    for _, frames in per_frame.groupby("clip"):
        assert frames["frame"].tolist() == list(range(7))  # every frame is run
        scored = frames[frames["status"] == "ok"]
        assert scored["frame"].tolist() == [0, 3, 6]
        assert (frames.loc[frames["status"] != "ok", "status"] == "unannotated").all()
        assert scored["flicker"].isna().tolist() == [True, False, False]
    per_clip = pd.read_csv(out / "per_clip.csv")
    assert per_clip["frames"].tolist() == [7] * 3 and per_clip["scored_frames"].tolist() == [3] * 3


def test_resume_evaluates_only_the_missing_clip_and_gives_the_same_tables(
        davis12, davis_run, tmp_path, monkeypatch, capsys):
    out = tmp_path / "resumed"
    args = ["run", "--dataset", str(davis12), "--attribute", "background", "--save-masks",
            "--out", str(out), "--format", "", "--workers", "1", "--bootstrap", "1000"]
    assert run_cli(args, monkeypatch) == 0
    with sqlite3.connect(out / "progress.sqlite") as store:  # as if killed before clip 2
        store.execute("DELETE FROM rows WHERE image = ?", (CLIPS[1],))
    (out / "results.json").unlink()
    capsys.readouterr()
    assert run_cli([*args, "--resume"], monkeypatch) == 0
    assert "resuming: 2 of 3 clips already evaluated, 1 to go" in capsys.readouterr().err
    for name in ("per_frame.csv", "per_clip.csv"):
        assert (out / name).read_text() == (davis_run / name).read_text()


def test_an_invalid_clip_stops_the_run_or_is_skipped_whole(tmp_path, monkeypatch, capsys):
    root = davis_subset(tmp_path / "bad", 3)
    broken = root / "Annotations/480p" / CLIPS[2] / "00001.png"
    broken.unlink()
    broken.write_bytes(b"not a png")
    args = ["run", "--dataset", str(root), "--attribute", "background", "--format", "",
            "--workers", "1", "--bootstrap", "1000"]
    assert run_cli([*args, "--out", str(tmp_path / "refused")], monkeypatch) == 2
    assert str(broken) in capsys.readouterr().err
    out = tmp_path / "skipped"
    assert run_cli([*args, "--out", str(out), "--skip-invalid"], monkeypatch) == 0
    per_clip = pd.read_csv(out / "per_clip.csv", keep_default_na=False)
    assert per_clip["status"].tolist() == ["ok", "ok", "skipped"]
    assert str(broken) in per_clip["reason"].iloc[2]
    results = json.loads((out / "results.json").read_text())
    assert results["overall"]["n"] == 2
    assert [s["image"] for s in results["dataset"]["skipped"]] == [CLIPS[2]]
    assert set(pd.read_csv(out / "per_frame.csv")["clip"]) == set(CLIPS[:2])


def test_results_and_card_say_the_intervals_are_over_clips(davis_run):
    from fairness_eval.report import render_reports
    from fairness_eval.results.document import read_results

    document = read_results(davis_run)
    assert document.unit == "clip" and document.metric == "iou"
    assert json.loads((davis_run / "results.json").read_text())["bootstrap"]["unit"] == "clip"
    (card,) = render_reports(davis_run, ("html",), overwrite=True)
    html = card.read_text()
    assert "resample clips within each group (a cluster bootstrap)" in html
    assert "clips resampled within each group" in html
    assert '<section id="timeline">' in html
    timeline = html[html.index('<section id="timeline">'):]
    assert timeline.count("<svg") >= 1 and "IoU per frame and flicker" in timeline
    # Frames are scored as stored (--exif rotate is refused for video): the card says so.
    assert "<dt>EXIF orientation</dt><dd>not applied: frames scored as stored</dd>" in html
