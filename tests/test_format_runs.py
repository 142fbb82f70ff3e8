"""`run --dataset` on a COCO folder, a VOC devkit folder and a Penn-Fudan folder built from
the shared VOC person set gives the same per-image intersections and unions as the same
images in the folder layout (the real model runs over each)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from format_helpers import VOC, build_coco, build_penn_fudan, build_voc, sample_stems

from fairness_eval.config.settings import Settings
from fairness_eval.workflow.run import run_evaluation

STEMS = sample_stems(6)
COUNTS = ["image", "status", "intersection", "union", "gt_area", "ignored_pixels"]


def folder_layout(folder, with_ignore: bool = True):
    for name, suffix in (("images", ".jpg"), ("masks", ".png"), ("ignore", ".png")):
        if name == "ignore" and not with_ignore:
            continue
        (folder / name).mkdir(parents=True)
        for stem in STEMS:
            shutil.copy(VOC / name / f"{stem}{suffix}", folder / name)
    return folder


def per_image(dataset, out) -> pd.DataFrame:
    settings = Settings(out=out, workers=1, bootstrap=200, formats=())
    run_evaluation(dataset, settings, command="pytest formats")
    table = pd.read_csv(out / "per_image.csv", dtype={"image": str})
    return table[COUNTS].sort_values("image").reset_index(drop=True)


@pytest.mark.real_run
def test_formats_score_the_same_pixels_as_the_folder_layout(tmp_path, model_file):
    with_ignore = per_image(folder_layout(tmp_path / "folder"), tmp_path / "run_folder")
    assert list(with_ignore["status"]) == ["ok"] * len(STEMS)
    assert (with_ignore["ignored_pixels"] > 0).all() and (with_ignore["union"] > 0).all()
    coco = build_coco(tmp_path / "coco", STEMS, "rle").parent
    pd.testing.assert_frame_equal(per_image(coco, tmp_path / "run_coco"), with_ignore)
    voc = build_voc(tmp_path / "VOC2012", STEMS)
    pd.testing.assert_frame_equal(per_image(voc, tmp_path / "run_voc"), with_ignore)
    # Penn-Fudan masks have no ignore region: compared with the folder layout without one.
    without_ignore = per_image(folder_layout(tmp_path / "plain", with_ignore=False),
                               tmp_path / "run_plain")
    penn = build_penn_fudan(tmp_path / "PennFudanPed", STEMS)
    pd.testing.assert_frame_equal(per_image(penn, tmp_path / "run_penn"), without_ignore)
