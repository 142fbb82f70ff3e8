"""`compare` on video runs (fairness/comparison_changes.py): clips matched by name in per_clip.csv,
the judged metric compared, and for flicker (lower is better) a rise read as the drop that
--max-drop tolerates. Synthetic run folders, then two real runs on DAVIS frames."""

from __future__ import annotations

import json
import re
import sys
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from gate_helpers import attribute, group, results

sys.path.insert(0, str(Path(__file__).parent))
from video_helpers import davis_subset, run_cli  # noqa: E402

from fairness_eval.config.command_options import CompareOptions  # noqa: E402
from fairness_eval.errors import UsageError  # noqa: E402
from fairness_eval.report.comparison_markdown import (  # noqa: E402
    closing_lines,
    comparison_markdown,
)
from fairness_eval.workflow.compare import compare_runs  # noqa: E402

CLIPS = [f"clip{i:02d}" for i in range(16)]
BACKGROUND = ["crowd"] * 8 + ["open"] * 8
FRAMES = 4


def clip_tables(flicker: np.ndarray, iou: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """per_clip.csv and per_frame.csv of 16 clips whose means are `flicker` and `iou`."""
    per_clip = pd.DataFrame({
        "clip": CLIPS, "frames": FRAMES, "scored_frames": FRAMES, "iou": iou,
        "boundary_iou": iou - 0.2, "flicker": flicker, "background": BACKGROUND,
        "camera": "static", "status": "ok", "reason": ""})
    frames = []
    for clip, value in zip(CLIPS, iou, strict=True):
        for frame in range(FRAMES):
            frames.append({"clip": clip, "frame": frame, "status": "ok", "reason": "",
                           "intersection": round(1000 * value), "union": 1000,
                           "iou": value, "boundary_iou": value - 0.2,
                           "flicker": None if frame == 0 else 0.0,
                           "gt_area": 900, "pred_area": 950})
    return per_clip, pd.DataFrame(frames)


def flicker_results(metric: str = "flicker") -> dict:
    doc = results({"background": attribute({
        "crowd": group(0.06, 0.0, (-0.01, 0.01), n=8),
        "open": group(0.06, 0.0, (-0.01, 0.01), n=8),
    }, b_evaluated=False)})
    doc["bootstrap"].update(metric=metric, unit="clip")
    doc["settings"] = {"metric": metric, "threshold": 0.5, "seed": 0}
    return doc


def write_video_run(folder: Path, flicker: np.ndarray, iou: np.ndarray,
                    metric: str = "flicker") -> Path:
    folder.mkdir(parents=True)
    per_clip, per_frame = clip_tables(flicker, iou)
    per_clip.to_csv(folder / "per_clip.csv", index=False)
    per_frame.to_csv(folder / "per_frame.csv", index=False)
    (folder / "results.json").write_text(json.dumps(flicker_results(metric)))
    return folder


@pytest.fixture
def baseline_values() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return rng.uniform(0.02, 0.10, len(CLIPS)), rng.uniform(0.7, 0.9, len(CLIPS))


def test_a_rise_in_flicker_is_the_drop_max_drop_tolerates(tmp_path, baseline_values):
    flicker, iou = baseline_values
    noise = np.random.default_rng(4).normal(0, 0.003, 8)
    worse = flicker.copy()
    worse[:8] += 0.05 + noise  # crowd's clips flicker more
    base = write_video_run(tmp_path / "base", flicker, iou)
    cand = write_video_run(tmp_path / "cand", worse, iou)
    comparison = compare_runs(base, cand, CompareOptions(max_drop=0.01))
    crowd = comparison.attributes["background"].groups["crowd"]
    assert crowd.n == 8 and comparison.images == len(CLIPS)
    assert crowd.change == pytest.approx(worse[:8].mean() - flicker[:8].mean(), abs=1e-12)
    assert crowd.change_ci[0] > 0.01
    assert crowd.direction == "worse" and crowd.drop_beyond_tolerance
    assert comparison.attributes["background"].groups["open"].change == 0
    assert comparison.exit_code == 1
    assert any(f.startswith(f"background / crowd: flicker rose by {100 * crowd.change:.2f} pt ")
               for f in comparison.failures), comparison.failures
    assert closing_lines(comparison)[-1].startswith("comparison gate: FAILED (3 groups over "
                                                    "16 clips: 2 worse")
    markdown = comparison_markdown(comparison)
    assert "16 clips matched by clip name" in markdown
    assert "candidate - baseline in mean flicker" in markdown
    assert "Tolerated rise in flicker (lower is better): 1.00 pt" in markdown
    assert "**rise beyond tolerance**" in markdown
    written = comparison.to_json()["bootstrap"]
    assert (written["metric"], written["unit"]) == ("flicker", "clip")


def test_a_fall_in_flicker_is_better_and_passes(tmp_path, baseline_values):
    flicker, iou = baseline_values
    steadier = flicker.copy()
    steadier[:8] -= 0.015  # crowd's clips flicker less: an improvement, not a drop
    base = write_video_run(tmp_path / "base", flicker, iou)
    cand = write_video_run(tmp_path / "cand", steadier, iou)
    comparison = compare_runs(base, cand, CompareOptions(max_drop=0.01))
    crowd = comparison.attributes["background"].groups["crowd"]
    assert crowd.change == pytest.approx(-0.015, abs=1e-12)
    assert crowd.direction == "better" and not crowd.drop_beyond_tolerance
    assert comparison.exit_code == 0 and comparison.failures == ()


def test_clips_without_flicker_are_left_out_and_iou_runs_read_a_drop(tmp_path,
                                                                    baseline_values):
    flicker, iou = baseline_values
    flicker = flicker.copy()
    flicker[0] = np.nan  # too few scored frames with a person: no flicker in either run
    base = write_video_run(tmp_path / "base", flicker, iou)
    cand = write_video_run(tmp_path / "cand", flicker, iou)
    comparison = compare_runs(base, cand)
    assert comparison.images == len(CLIPS) - 1
    assert comparison.attributes["background"].groups["crowd"].n == 7
    # Judged by IoU, the same clips: lower is worse again.
    lower = iou.copy()
    lower[8:] -= 0.05
    base = write_video_run(tmp_path / "iou_base", flicker, iou, metric="iou")
    cand = write_video_run(tmp_path / "iou_cand", flicker, lower, metric="iou")
    judged = compare_runs(base, cand, CompareOptions(max_drop=0.01))
    open_ = judged.attributes["background"].groups["open"]
    assert open_.change == pytest.approx(-0.05, abs=1e-12)
    assert open_.direction == "worse" and open_.drop_beyond_tolerance
    assert judged.images == len(CLIPS)  # a missing flicker does not matter to IoU
    assert any(f.startswith("background / open: IoU dropped by 5.00 pt")
               for f in judged.failures)


def test_runs_judged_by_different_metrics_are_refused(tmp_path, baseline_values):
    flicker, iou = baseline_values
    base = write_video_run(tmp_path / "base", flicker, iou)
    cand = write_video_run(tmp_path / "cand", flicker, iou, metric="iou")
    with pytest.raises(UsageError, match="judged flicker per clip.*iou per clip"):
        compare_runs(base, cand)


def test_real_davis_runs_at_two_thresholds_compare_their_flicker(tmp_path, monkeypatch):
    data = davis_subset(tmp_path / "davis", 6)
    runs = {}
    for name, threshold in (("base", "0.5"), ("cand", "0.05")):
        runs[name] = tmp_path / name
        code = run_cli(["run", "--dataset", str(data), "--attribute", "background",
                        "--metric", "flicker", "--threshold", threshold, "--out",
                        str(runs[name]), "--format", "", "--workers", "1",
                        "--bootstrap", "500", "--min-group-size", "1"], monkeypatch)
        assert code == 0
    out = tmp_path / "compared"
    code = run_cli(["compare", str(runs["base"]), str(runs["cand"]), "--max-drop", "0",
                    "--out", str(out), "--format", "html"], monkeypatch)
    pair = json.loads((out / "comparison.json").read_text())
    base = pd.read_csv(runs["base"] / "per_clip.csv")
    cand = pd.read_csv(runs["cand"] / "per_clip.csv")
    overall = pair["overall"]
    assert pair["images"] == 3 and overall["n"] == 3
    assert overall["change"] == pytest.approx(cand["flicker"].mean() - base["flicker"].mean(),
                                              abs=1e-12)
    gated = [overall, *(g for a in pair["attributes"].values() for g in a["groups"].values())]
    assert all(g["gated"] for g in gated) and len(gated) == 3
    for g in gated:
        low, high = g["change_ci"]
        # Lower is better: the change is the worsening, and --max-drop 0 fails any
        # group whose whole interval lies above zero.
        assert g["drop_beyond_tolerance"] == (low > 0)
        assert g["direction"] == ("worse" if low > 0 else "better" if high < 0
                                  else "no clear change")
    assert code == (1 if any(g["drop_beyond_tolerance"] for g in gated) else 0)
    # The comparison card names what was compared.
    card = " ".join(unescape(re.sub(r"<[^>]+>", " ", (out / "comparison.html").read_text()))
                    .split())
    assert "over the same 3 clips" in card and "max rise:" in card
    assert "flicker % · 95% interval" in card and "background: flicker per group" in card
    assert "IoU %" not in card and "drop beyond" not in card
