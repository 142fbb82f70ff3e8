"""Cluster bootstrap over clips: the per-clip table, and group intervals against scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from fairness_eval.stats.bootstrap import make_sample, stratified_bootstrap
from fairness_eval.stats.clusters import per_clip_table

SEED = 777


def simulated_frames(seed: int = SEED) -> pd.DataFrame:
    """Clips of two backgrounds: a clip effect, correlated frames, a few unscored frames."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(30):
        background = "crowd" if c < 18 else "open"
        clip_level = rng.normal(0.8 if background == "crowd" else 0.7, 0.08)
        drift = np.cumsum(rng.normal(0, 0.01, 60))  # neighbouring frames alike
        frames = int(rng.integers(20, 60))
        for f in range(frames):
            skipped = rng.random() < 0.05
            rows.append({"clip": f"clip{c:02d}", "frame": f,
                         "status": "skipped" if skipped else "ok",
                         "iou": np.nan if skipped else clip_level + drift[f],
                         "boundary_iou": np.nan if skipped else clip_level - 0.2,
                         "dice": np.nan if skipped else clip_level + 0.1,
                         "flicker": np.nan if f == 0 or skipped else abs(drift[f]),
                         "background": background})
    return pd.DataFrame(rows)


def test_a_clips_figure_is_the_mean_over_its_scored_frames():
    per_frame = pd.DataFrame({
        "clip": ["a", "a", "a", "a", "b", "b"],
        "frame": [0, 1, 2, 3, 0, 5],
        "status": ["ok", "ok", "skipped", "ok", "ok", "ok"],
        "iou": [0.5, 0.7, np.nan, 0.9, 0.4, 0.6],
        "boundary_iou": [0.3, 0.5, np.nan, 0.4, 0.2, 0.2],
        "dice": [0.6, 0.8, np.nan, 0.9, 0.5, 0.7],
        "flicker": [np.nan, 0.1, np.nan, 0.3, np.nan, 0.05],
        "background": ["crowd"] * 4 + ["open"] * 2,
    })
    table = per_clip_table(per_frame, attributes=("background",))
    assert table["clip"].tolist() == ["a", "b"]
    assert table["frames"].tolist() == [4, 2] and table["scored_frames"].tolist() == [3, 2]
    assert table["iou"].tolist() == pytest.approx([0.7, 0.5])
    assert table["boundary_iou"].tolist() == pytest.approx([0.4, 0.2])
    assert table["dice"].tolist() == pytest.approx([(0.6 + 0.8 + 0.9) / 3, 0.6])
    assert table["flicker"].tolist() == pytest.approx([0.2, 0.05])  # first frame has none
    assert table["background"].tolist() == ["crowd", "open"]


def test_an_attribute_that_varies_within_a_clip_is_refused_by_name():
    per_frame = pd.DataFrame({"clip": ["a", "a"], "iou": [0.5, 0.6],
                              "background": ["crowd", "open"]})
    with pytest.raises(ValueError, match="clip 'a' has several values of 'background'"):
        per_clip_table(per_frame, metrics=("iou",), attributes=("background",))
    with pytest.raises(ValueError, match="no column"):
        per_clip_table(per_frame, metrics=("iou", "flicker"))


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_group_interval_over_clips_matches_scipy_over_per_clip_values(method):
    per_clip = per_clip_table(simulated_frames(), attributes=("background",))
    groups = ["crowd", "open"]
    values = [per_clip.loc[per_clip["background"] == g, "iou"].to_numpy() for g in groups]
    resamples = 20_000
    result = stratified_bootstrap(
        [make_sample("mean", iou=v) for v in values], [("background", g) for g in groups],
        seed=SEED, resamples=resamples, method=method)
    assert result.n.tolist() == [18, 12]  # n counts clips, not frames
    for g, clip_values in enumerate(values):
        reference = scipy_stats.bootstrap(
            (clip_values,), np.mean, n_resamples=resamples, rng=np.random.default_rng(SEED + 1),
            method="BCa" if method == "bca" else "percentile")
        # Monte Carlo SD of an endpoint at B = 20 000 is ~0.02 SE, of the difference ~0.03
        tolerance = 0.15 * reference.standard_error
        assert result.value[g] == pytest.approx(clip_values.mean(), abs=1e-12)
        assert result.ci[g][0] == pytest.approx(reference.confidence_interval.low, abs=tolerance)
        assert result.ci[g][1] == pytest.approx(reference.confidence_interval.high, abs=tolerance)


def test_resampling_frames_instead_of_clips_would_claim_far_too_much_precision():
    per_frame = simulated_frames()
    per_clip = per_clip_table(per_frame, attributes=("background",))
    crowd_clips = per_clip.loc[per_clip["background"] == "crowd", "iou"].to_numpy()
    crowd_frames = per_frame.loc[(per_frame["background"] == "crowd")
                                 & (per_frame["status"] == "ok"), "iou"].to_numpy()
    clip_width = np.diff(stratified_bootstrap(
        [make_sample("mean", iou=crowd_clips)], [("crowd",)], seed=SEED, resamples=4000).ci[0])
    frame_width = np.diff(stratified_bootstrap(
        [make_sample("mean", iou=crowd_frames)], [("crowd",)], seed=SEED, resamples=4000).ci[0])
    assert frame_width[0] < clip_width[0] / 3
