"""Nothing private in what is published: the real CLI over a few VOC images, then every
published file (the card as HTML and as PDF text, summary.md, model_card.json, the
comparison card and comparison.md) searched for the run's absolute dataset path, the
model cache, the run folders and the user's home. results.json and comparison.json keep
the full paths; `--no-redact-paths` puts them back in the reports."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from report_helpers import pdf_text_pages

from fairness_eval.report.redaction import PathRedactor

EXE = Path(sys.executable).with_name("fairness-eval")
IMAGES = 12


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=600)


def _small_voc(voc: Path, folder: Path) -> Path:
    """The first VOC images with their masks and void bands, two groups of six."""
    for sub in ("images", "masks", "ignore"):
        (folder / sub).mkdir(parents=True)
    stems = sorted(p.stem for p in (voc / "images").iterdir())[:IMAGES]
    for stem in stems:
        shutil.copy(voc / "images" / f"{stem}.jpg", folder / "images")
        for sub in ("masks", "ignore"):
            shutil.copy(voc / sub / f"{stem}.png", folder / sub)
    with open(folder / "attributes.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "site"])
        writer.writerows([stem, "north" if i % 2 else "south"] for i, stem in enumerate(stems))
    return folder


def _published(folder: Path) -> dict[str, str]:
    """Every published file of a run or comparison folder, as text."""
    texts = {}
    for name in ("model_card.html", "summary.md", "model_card.json", "comparison.html",
                 "comparison.md"):
        if (folder / name).is_file():
            texts[name] = (folder / name).read_text()
    for name in ("model_card.pdf", "comparison.pdf"):
        if (folder / name).is_file():
            # pdftotext breaks a long line where the page does: join the lines as well
            pages = "\n".join(pdf_text_pages(folder / name))
            texts[name] = pages + "\n" + "".join(line.strip() for line in pages.splitlines())
    return texts


@pytest.fixture(scope="module")
def runs(tmp_path_factory, voc_dataset, model_file):
    base = tmp_path_factory.mktemp("private-place")
    dataset = _small_voc(voc_dataset, base / "my-data")
    common = ["--dataset", str(dataset), "--attribute", "site", "--min-group-size", "3",
              "--bootstrap", "200", "--workers", "1", "--inter-annotator-iou", "0.95"]
    first = base / "reports" / "selfie"
    done = cli("run", *common, "--out", str(first), "--format", "html,pdf,md,json",
               "--save-masks")
    assert done.returncode == 0, done.stderr
    supplied = base / "reports" / "supplied"
    done = cli("run", *common, "--predictions", str(first / "masks"), "--out", str(supplied),
               "--format", "md")
    assert done.returncode == 0, done.stderr
    strict = base / "reports" / "strict"
    done = cli("run", *common, "--threshold", "0.8", "--out", str(strict), "--format", "md")
    assert done.returncode == 0, done.stderr
    comparison = base / "comparison"
    done = cli("compare", str(first), str(supplied), str(strict), "--out", str(comparison))
    assert done.returncode == 0, done.stderr
    pair = base / "pair"
    done = cli("compare", str(first), str(strict), "--out", str(pair), "--format", "html")
    assert done.returncode == 0, done.stderr
    return {"base": base, "dataset": dataset, "model": Path(model_file.path),
            "runs": (first, supplied, strict), "comparison": comparison, "pair": pair}


def _private(runs) -> list[str]:
    return [str(runs["dataset"]), str(runs["model"].parent), str(Path.home()),
            str(runs["base"]), runs["base"].name]


def test_results_keep_the_paths_the_reports_leave_out(runs):
    first = runs["runs"][0]
    recorded = json.loads((first / "results.json").read_text())
    assert recorded["dataset"]["path"] == str(runs["dataset"])
    assert recorded["model"]["path"] == str(runs["model"])
    assert str(runs["base"]) in (runs["comparison"] / "comparison.json").read_text()
    texts = _published(first)
    assert set(texts) == {"model_card.html", "model_card.pdf", "summary.md", "model_card.json"}
    # What the card names instead: the dataset's folder name, the model file's name and hash.
    assert "my-data" in texts["model_card.html"]
    assert runs["model"].name in texts["model_card.html"]
    assert recorded["model"]["sha256"] in texts["model_card.html"]


def test_no_published_file_names_a_local_path(runs):
    folders = [*runs["runs"], runs["comparison"], runs["pair"]]
    checked = []
    for folder in folders:
        for name, text in _published(folder).items():
            for private in _private(runs):
                assert private not in text, f"{folder.name}/{name} names {private}"
            checked.append(f"{folder.name}/{name}")
    assert {"selfie/model_card.pdf", "supplied/summary.md", "comparison/comparison.html",
            "comparison/comparison.pdf", "comparison/comparison.md", "pair/comparison.html",
            "pair/comparison.md"} <= set(checked)


def test_no_redact_paths_shows_them_again(runs):
    first = runs["runs"][0]
    done = cli("report", str(first), "--format", "html", "--no-redact-paths", "--overwrite")
    assert done.returncode == 0, done.stderr
    html = (first / "model_card.html").read_text()
    assert str(runs["dataset"]) in html and str(runs["model"]) in html
    done = cli("report", str(first), "--format", "html", "--overwrite")
    assert done.returncode == 0, done.stderr
    assert str(runs["dataset"]) not in (first / "model_card.html").read_text()


# --------------------------------------------------------------------------- the rules


def test_a_path_is_named_relative_to_the_dataset_or_by_its_name():
    redactor = PathRedactor.of("/home/ann/data/faces", ["/tmp/x/run-1"])
    assert redactor.text("fairness-eval run --dataset /home/ann/data/faces --out /tmp/x/run-1"
                         ) == "fairness-eval run --dataset faces --out run-1"
    assert redactor.text("/home/ann/data/faces/images/a.gif: unreadable") == (
        "faces/images/a.gif: unreadable")
    assert redactor.text("/home/ann/.cache/fairness-eval/models/selfie.tflite") == (
        "selfie.tflite")
    assert redactor.text("/home/ann/data/faces-2/x.png") == "x.png"  # not the dataset
    manifest = PathRedactor.of("/srv/set/manifest.csv")
    assert manifest.text("--dataset /srv/set/manifest.csv, row 3: /srv/set/img/a.png") == (
        "--dataset manifest.csv, row 3: img/a.png")


def test_text_that_is_no_path_is_left_alone():
    redactor = PathRedactor.of("/data/set")
    for text in ("https://github.com/google/mediapipe/issues", "IoU = |P ∩ G| / |P ∪ G|",
                 "x = pixel / 255", "1/32 pixel", "north/south", "relative/path.png"):
        assert redactor.text(text) == text
