"""Capture conditions end to end on real images: the model over the first VOC images, clean
and under capture conditions, through the command line, the library and the run folder.

The condition run's per-image numbers are checked against a normal evaluation of degraded
images written to disk by this file's own implementation of the conditions' definitions (not
the library's); determinism, workers and resume are checked on the seeded conditions.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from fairness_eval.cli import main
from fairness_eval.config.settings import Settings
from fairness_eval.errors import UsageError
from fairness_eval.results.document import read_per_image
from fairness_eval.workflow.run import run_evaluation

pytestmark = pytest.mark.real_run

VOC = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "voc2012_person"
FIRST = 30  # images of the session run; the independent check uses the first INDEPENDENT
INDEPENDENT = 10


def write_manifest(path: Path, voc: Path, keep: int) -> Path:
    """The first `keep` VOC images (sorted) with their masks, void and second annotator."""
    stems = sorted(p.stem for p in (voc / "images").glob("*.jpg"))[:keep]
    attributes = pd.read_csv(voc / "attributes.csv", dtype=str).set_index("image")
    rows = []
    for stem in stems:
        second = voc / "masks_annotator2" / f"{stem}.png"
        rows.append({"image": str(voc / "images" / f"{stem}.jpg"),
                     "mask": str(voc / "masks" / f"{stem}.png"),
                     "ignore": str(voc / "ignore" / f"{stem}.png"),
                     "mask_annotator2": str(second) if second.exists() else "",
                     "bourdev_subcategory": attributes["bourdev_subcategory"].get(stem, "")})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def cli(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "argv", ["fairness-eval", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    return exit_info.value.code


@pytest.fixture(scope="module")
def voc30(tmp_path_factory, voc_dataset) -> Path:
    return write_manifest(tmp_path_factory.mktemp("voc30") / "voc30.csv", voc_dataset, FIRST)


@pytest.fixture(scope="module")
def condition_run(tmp_path_factory, voc30, model_file) -> Path:
    """`run --derive person_share --conditions blur,dark` through the command line."""
    out = tmp_path_factory.mktemp("conditions") / "run"
    monkeypatch = pytest.MonkeyPatch()
    try:
        code = cli(["run", "--dataset", str(voc30), "--derive", "person_share",
                    "--conditions", "blur,dark", "--adjust-for", "person_share",
                    "--min-group-size", "5", "--bootstrap", "500", "--workers", "2",
                    "--out", str(out), "--format", "html,pdf"], monkeypatch)
    finally:
        monkeypatch.undo()
    assert code == 0
    return out


# --------------------------------------------------------------------------- the run


def test_condition_run_writes_every_evaluation(condition_run):
    table = pd.read_csv(condition_run / "conditions.csv", dtype={"image": str})
    assert list(table.columns) == ["image", "condition", "severity", "intersection", "union",
                                   "iou"]
    per_image = read_per_image(condition_run)
    assert len(per_image) == FIRST and (per_image["status"] == "ok").all()
    # every image under blur and dark at the three default severities, in that order
    assert len(table) == FIRST * 6
    first = table[table["image"] == per_image["image"].iloc[0]]
    assert list(zip(first["condition"], first["severity"], strict=True)) == [
        ("blur", 0.01), ("blur", 0.02), ("blur", 0.04), ("dark", 0.5), ("dark", 0.25),
        ("dark", 0.1)]
    scored = table["union"] > 0
    assert np.allclose(table.loc[scored, "iou"],
                       table.loc[scored, "intersection"] / table.loc[scored, "union"])
    assert (table.loc[~scored, "iou"] == 1.0).all()  # empty truth and prediction
    # the derived attribute is a column of per_image.csv, from the clean ground truth
    truth_share = {}
    for image in per_image["image"]:
        mask = cv2.imread(str(VOC / "masks" / f"{image}.png"), cv2.IMREAD_UNCHANGED) >= 128
        share = mask.mean()
        truth_share[image] = ("0-5 %" if share < 0.05 else "5-20 %" if share < 0.2
                              else "20-50 %" if share < 0.5 else "50-100 %")
    assert dict(zip(per_image["image"], per_image["person_share"], strict=True)) == truth_share


def test_darkest_and_longest_blur_lose_iou_on_average(condition_run):
    per_image = read_per_image(condition_run).set_index("image")
    table = pd.read_csv(condition_run / "conditions.csv", dtype={"image": str})
    for condition, severity in (("dark", 0.1), ("blur", 0.04)):
        part = table[(table["condition"] == condition) & (table["severity"] == severity)]
        change = part.set_index("image")["iou"] - per_image["iou"]
        assert change.mean() < 0, (condition, severity)


# --------------------------------------------------------------------------- own definitions


def own_srgb_to_linear(c: float) -> float:
    """IEC 61966-2-1, written from the standard."""
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def own_linear_to_srgb(x: float) -> float:
    return 12.92 * x if x <= 0.0031308 else 1.055 * x ** (1 / 2.4) - 0.055


def own_dark(image: np.ndarray, f: float) -> np.ndarray:
    """dark f: a lookup table over the 256 stored levels, each computed in plain Python."""
    table = np.array([min(255.0, max(0.0, float(np.rint(
        255.0 * own_linear_to_srgb(f * own_srgb_to_linear(v / 255.0)))))) for v in range(256)])
    return table[image].astype(np.uint8)


def own_blur(image: np.ndarray, r: float) -> np.ndarray:
    """blur r: the mean of L horizontal neighbours, the row mirrored at its ends without
    repeating the edge pixel (OpenCV's default border, reflect-101), by cumulative sums.

    L = max(3, 2 * round(r * width / 2) + 1) with Python's round (half to even), as the
    library does; L is odd, so a mean of integers is never exactly half-way between two
    levels and rint never meets a tie."""
    width = image.shape[1]
    length = max(3, 2 * round(r * width / 2) + 1)
    half = length // 2
    padded = np.pad(image.astype(np.int64), ((0, 0), (half, half), (0, 0)), mode="reflect")
    sums = np.cumsum(np.pad(padded, ((0, 0), (1, 0), (0, 0))), axis=1)
    window = sums[:, length:, :] - sums[:, :-length, :]
    return np.clip(np.rint(window / length), 0, 255).astype(np.uint8)


def test_own_implementation_of_dark_and_blur_gives_the_same_per_image_iou(
        condition_run, voc_dataset, model_file, tmp_path):
    """The degraded images written to disk and evaluated normally score exactly as the
    condition run scored them in memory."""
    table = pd.read_csv(condition_run / "conditions.csv", dtype={"image": str})
    stems = sorted(p.stem for p in (voc_dataset / "images").glob("*.jpg"))[:INDEPENDENT]
    folder = tmp_path / "degraded"
    folder.mkdir()
    rows, expected = [], {}
    for stem in stems:
        bgr = cv2.imread(str(voc_dataset / "images" / f"{stem}.jpg"), cv2.IMREAD_COLOR)
        for condition, severity, degrade in (
                *[("dark", f, own_dark) for f in (0.5, 0.25, 0.1)],
                *[("blur", r, own_blur) for r in (0.01, 0.02, 0.04)]):
            name = f"{stem}__{condition}_{severity}"
            # both definitions act on each channel alike, so BGR order does not matter
            cv2.imwrite(str(folder / f"{name}.png"), degrade(bgr, severity))
            rows.append({"image": str(folder / f"{name}.png"),
                         "mask": str(voc_dataset / "masks" / f"{stem}.png"),
                         "ignore": str(voc_dataset / "ignore" / f"{stem}.png")})
            match = table[(table["image"] == stem) & (table["condition"] == condition)
                          & np.isclose(table["severity"], severity)]
            assert len(match) == 1
            expected[name] = match.iloc[0]
    manifest = tmp_path / "degraded.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    run_evaluation(manifest, Settings(out=tmp_path / "normal", workers=2, bootstrap=100,
                                      formats=()))
    normal = read_per_image(tmp_path / "normal").set_index("image")
    assert len(normal) == INDEPENDENT * 6
    for name, want in expected.items():
        got = normal.loc[name]
        assert (int(got["intersection"]), int(got["union"])) == (
            int(want["intersection"]), int(want["union"])), name
        assert math.isclose(got["iou"], want["iou"], rel_tol=0, abs_tol=1e-12), name


# --------------------------------------------------------------------------- determinism


SEEDED = {"noise": (20.0,), "occluder": (0.3,)}


def seeded_run(manifest: Path, out: Path, *, workers: int, seed: int = 0, **extra):
    settings = Settings(out=out, conditions=("noise", "occluder"), condition_severities=SEEDED,
                        derive=("people", "brightness"), workers=workers, seed=seed,
                        bootstrap=200, min_group_size=2, formats=(), **extra)
    return run_evaluation(manifest, settings)


@pytest.fixture(scope="module")
def voc8(tmp_path_factory, voc_dataset) -> Path:
    return write_manifest(tmp_path_factory.mktemp("voc8") / "voc8.csv", voc_dataset, 8)


def _numbers(run_dir: Path) -> tuple[str, str, dict]:
    document = json.loads((run_dir / "results.json").read_text())
    figures = {k: document.get(k) for k in ("overall", "attributes", "conditions",
                                            "adjustment")}
    return ((run_dir / "conditions.csv").read_text(), (run_dir / "per_image.csv").read_text(),
            figures)


def test_same_seed_same_results_with_one_or_two_workers(voc8, model_file, tmp_path):
    seeded_run(voc8, tmp_path / "one", workers=1)
    seeded_run(voc8, tmp_path / "two", workers=2)
    assert _numbers(tmp_path / "one") == _numbers(tmp_path / "two")
    # the seed is what makes them equal: another seed draws other noise and occluders
    seeded_run(voc8, tmp_path / "other", workers=2, seed=1)
    ours = pd.read_csv(tmp_path / "one" / "conditions.csv")
    other = pd.read_csv(tmp_path / "other" / "conditions.csv")
    assert (ours["iou"] != other["iou"]).any()


def test_resume_keeps_condition_rows_and_refuses_other_conditions(voc8, model_file,
                                                                  tmp_path):
    out = tmp_path / "run"
    seeded_run(voc8, out, workers=1)
    first = _numbers(out)
    (out / "results.json").unlink()  # as if killed after the last image was stored
    seeded_run(voc8, out, workers=1, resume=True)
    assert _numbers(out) == first
    with pytest.raises(UsageError, match="conditions"):
        run_evaluation(voc8, Settings(out=out, conditions=("noise",), workers=1, resume=True,
                                      bootstrap=200, formats=()))


def test_saved_conditions_are_folder_datasets_of_the_scored_pixels(voc8, model_file,
                                                                   tmp_path):
    saved = tmp_path / "saved"
    seeded_run(voc8, tmp_path / "run", workers=1, save_conditions=saved)
    # beside the folder datasets: the folder's run ledger and lock (hidden files)
    assert sorted(p.name for p in saved.iterdir() if not p.name.startswith(".")) == [
        "noise-20", "occluder-0.3"]
    run_evaluation(saved / "occluder-0.3", Settings(out=tmp_path / "again", workers=1,
                                                    bootstrap=200, formats=()))
    again = read_per_image(tmp_path / "again").set_index("image")
    table = pd.read_csv(tmp_path / "run" / "conditions.csv", dtype={"image": str})
    occluded = table[table["condition"] == "occluder"].set_index("image")
    assert (again["intersection"] == occluded["intersection"]).all()
    assert (again["union"] == occluded["union"]).all()


def test_derived_clash_and_unknown_adjustment_are_refused_before_any_image(
        voc8, tmp_path, voc_dataset):
    clash = tmp_path / "clash.csv"
    write_manifest(clash, voc_dataset, 3)
    frame = pd.read_csv(clash)
    frame["people"] = "1"
    frame.to_csv(clash, index=False)
    with pytest.raises(UsageError, match="already has a column 'people'"):
        run_evaluation(clash, Settings(out=tmp_path / "a", derive=("people",), workers=1))
    with pytest.raises(UsageError, match="--adjust-for: 'person_share' is not an attribute"):
        run_evaluation(voc8, Settings(out=tmp_path / "b", adjust_for="person_share",
                                      workers=1))
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


# --------------------------------------------------------------------------- results, card


def test_results_json_holds_the_conditions_and_adjustment_blocks(condition_run):
    from fairness_eval.results.document import read_results

    document = read_results(condition_run)
    assert document.settings.values["conditions"] == ["blur", "dark"]
    assert document.settings.values["derive"] == ["person_share"]
    record = document.conditions
    assert [d.condition for d in record.definitions] == ["blur", "dark"]
    assert record.evaluations_per_image == 7 and record.images == FIRST
    assert set(record.attributes) == {"bourdev_subcategory", "person_share"}
    # every image's change from clean is the mean of the per-image differences
    per_image = read_per_image(condition_run).set_index("image")
    table = pd.read_csv(condition_run / "conditions.csv", dtype={"image": str})
    for row in record.overall:
        part = table[(table["condition"] == row.condition)
                     & np.isclose(table["severity"], row.severity)].set_index("image")
        assert row.change == pytest.approx((part["iou"] - per_image["iou"]).mean())
        assert row.change_ci[0] <= row.change <= row.change_ci[1]
    # person_share: a row per group and one for the pool, per condition and severity
    shares = record.attributes["person_share"]
    groups = sorted(set(per_image["person_share"]))
    assert len(shares.rows) == 6 * (len(groups) + 1)
    assert record.threshold == pytest.approx(2 * (1 - document.inter_annotator_iou.value))
    # adjusted for person_share: bourdev_subcategory, not person_share itself
    assert set(document.adjustment.attributes) == {"bourdev_subcategory"}
    raw = document.adjustment.attributes["bourdev_subcategory"].groups
    annotated = per_image[per_image["bourdev_subcategory"].notna()
                          & (per_image["bourdev_subcategory"] != "")]
    for label, figures in raw.items():
        if label != "(not annotated)":
            mean = annotated[annotated["bourdev_subcategory"] == label]["iou"].mean()
            assert figures.raw == pytest.approx(mean)


def test_card_with_conditions_passes_the_browser_and_pdf_checks(condition_run):
    from axe_helpers import assert_accessible
    from chromium_cdp import find_chromium, load_page
    from report_helpers import pdf_pages, pdf_text_pages

    if find_chromium() is None:
        pytest.skip("headless Chromium not installed (apt-get install chromium)")
    html, pdf = condition_run / "model_card.html", condition_run / "model_card.pdf"
    report = load_page(html, {
        "scripts": "document.scripts.length",
        "sections": "document.querySelectorAll('section#conditions').length",
        "condition_tables": "document.querySelectorAll('table.conditions-table').length",
        "condition_charts": "document.querySelectorAll('figure.chart-small svg.chart').length",
        "overflow": "document.documentElement.scrollWidth - window.innerWidth",
    })
    assert report.console_errors == [] and report.exceptions == [] and report.dialogs == []
    assert [r for r in report.requests if not r.startswith("data:")] == [html.resolve().as_uri()]
    assert report.values["scripts"] == 0 and report.values["sections"] == 1
    # a table and a chart per condition for each attribute with an annotated group
    from fairness_eval.results.document import read_results

    judged = [a for a in read_results(condition_run).conditions.attributes.values() if a.rows]
    assert report.values["condition_tables"] == len(judged) >= 1
    assert report.values["condition_charts"] == 2 * len(judged)
    assert report.values["overflow"] <= 0
    assert_accessible(html)
    pages = pdf_text_pages(pdf)
    assert pdf_pages(pdf) == len(pages)
    assert all(f"Page {i} of {len(pages)}" in page for i, page in enumerate(pages, start=1))
    text = "\n".join(pages)
    assert "CAPTURE CONDITIONS" in text.upper() and "person_share" in text
