"""`compare RUN_A RUN_B [RUN_C ...]`: several models over the same images, each against the
baseline, the gate, the written files, and the comparison card in a real browser and as a
PDF (a three-model comparison over real CCP runs)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_compare import base_table, degrade, region_results, write_run

from fairness_eval.config.command_options import CompareOptions
from fairness_eval.errors import UsageError
from fairness_eval.report.comparison_card import comparison_context
from fairness_eval.results.model_comparison_record import unique_labels
from fairness_eval.workflow.compare import (
    compare_model_runs,
    compare_runs,
    run_compare,
    write_model_comparison,
)

REPO = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).with_name("fairness-eval")
SPECS = REPO / "examples" / "model-specs"
CCP_IMAGES = 40


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=600)


@pytest.fixture
def three_runs(tmp_path):
    """A baseline, a candidate 5 points worse on `south`, and one identical to the baseline."""
    base = write_run(tmp_path / "base", base_table(), region_results())
    worse = write_run(tmp_path / "worse", degrade(base_table(), "south", 0.05),
                      region_results())
    same = write_run(tmp_path / "same", base_table(), region_results())
    return base, worse, same


# --------------------------------------------------------------------------- the record


def test_each_model_is_compared_with_the_baseline_as_two_runs_are(three_runs):
    base, worse, same = three_runs
    options = CompareOptions(max_drop=0.01)
    found = compare_model_runs([base, worse, same], options)
    assert [p.to_json() for p in found.pairs] == [compare_runs(base, worse, options).to_json(),
                                                  compare_runs(base, same, options).to_json()]
    assert found.images == 100 and found.baseline.run.run_dir == str(base)
    south = found.pairs[0].attributes["region"].groups["south"]
    assert south.drop_beyond_tolerance and south.change < -0.04
    assert found.pairs[1].overall.change == 0.0 and not found.pairs[1].failures
    assert found.exit_code == 1
    assert found.failures and all(line.startswith(f"{found.models[1].label}: ")
                                  for line in found.failures)
    # Each model carries the figures its own run recorded.
    assert found.models[1].attributes["region"].groups["south"].value == 0.8


def test_three_runs_write_a_model_comparison_document(three_runs, tmp_path):
    base, worse, same = three_runs
    found = compare_model_runs([base, worse, same], CompareOptions(max_drop=0.01))
    written = write_model_comparison(found, tmp_path / "out", formats=())
    assert [p.name for p in written] == ["comparison.json", "comparison.md"]
    document = json.loads(written[0].read_text())
    assert document["kind"] == "model_comparison" and document["exit_code"] == 1
    assert [m["run"]["run_dir"] for m in document["models"]] == [str(base), str(worse),
                                                                  str(same)]
    assert [c["candidate_label"] for c in document["comparisons"]] == [
        m.label for m in found.models[1:]]
    assert document["comparisons"][0]["attributes"] == found.pairs[0].to_json()["attributes"]
    markdown = written[1].read_text()
    assert markdown.startswith("# Comparison of 3 models")
    south = found.pairs[0].attributes["region"].groups["south"]
    assert f"{100 * south.change:+.2f}" in markdown and "**drop beyond tolerance**" in markdown


def test_two_runs_write_exactly_the_files_two_runs_always_wrote(three_runs, tmp_path):
    base, worse, _ = three_runs
    options = CompareOptions(max_drop=0.01, out=tmp_path / "before")
    assert run_compare(base, worse, options, echo=lambda _: None) == 1
    found = compare_model_runs([base, worse], options)
    write_model_comparison(found, tmp_path / "now", formats=())
    for name in ("comparison.json", "comparison.md"):
        assert (tmp_path / "now" / name).read_bytes() == (tmp_path / "before" / name).read_bytes()


def test_fewer_than_two_runs_or_other_images_are_refused(three_runs, tmp_path):
    base, worse, _ = three_runs
    with pytest.raises(UsageError, match="at least two run folders"):
        compare_model_runs([base])
    other = write_run(tmp_path / "other", base_table().head(60), region_results())
    with pytest.raises(UsageError, match="not runs over the same images"):
        compare_model_runs([base, worse, other])


def test_labels_are_model_names_made_unique_by_run_folder():
    assert unique_labels(["selfie", "PrismaNet"], ["/r/a", "/r/b"]) == ["selfie", "PrismaNet"]
    assert unique_labels(["selfie", "selfie", None], ["/r/t05", "/r/t03", "/r/x"]) == [
        "selfie (t05)", "selfie (t03)", "unnamed model"]
    assert unique_labels(["m", "m"], ["/a/run", "/b/run"]) == ["m (run) #1", "m (run) #2"]


def test_the_card_context_shows_every_models_figures_and_changes(three_runs):
    base, worse, same = three_runs
    found = compare_model_runs([base, worse, same], CompareOptions(max_drop=0.01))
    context = comparison_context(found)
    assert context["headline"]["gate_label"] == "failed"
    region = context["attributes"][0]
    assert [row["label"] for row in region["summary"]] == [m.label for m in found.models]
    south = next(g for g in region["changes"] if g["name"] == "south")
    change = found.pairs[0].attributes["region"].groups["south"]
    assert south["cells"][0]["change"] == f"{100 * change.change:+.2f} pt".replace("-", "−")
    assert south["cells"][0]["beyond"] and not south["cells"][1]["beyond"]
    assert region["chart"].count("<title>") == 1


def test_one_run_on_the_command_line_is_one_line_and_exit_2(three_runs):
    done = cli("compare", str(three_runs[0]))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "fairness-eval: error: compare: give at least two run folders (the baseline first)"]


# --------------------------------------------------------------------------- real runs


@pytest.fixture(scope="module")
def ccp_runs(tmp_path_factory, ccp_dataset: Path, model_file) -> list[Path]:
    """selfie, MobileNetV3 (float) and PrismaNet, each by its spec, over the first 40 CCP
    images split by the person's share of the frame."""
    folder = tmp_path_factory.mktemp("ccp_models")
    meta = pd.read_csv(ccp_dataset / "meta.csv", dtype={"image": str}).sort_values("image")
    meta = meta.head(CCP_IMAGES)
    median = meta["person_pixel_fraction"].median()
    manifest = folder / "ccp.csv"
    pd.DataFrame([{"image": str(ccp_dataset / "images" / f"{stem}.jpg"),
                   "mask": str(ccp_dataset / "masks" / f"{stem}.png"),
                   "person_share": "large" if share >= median else "small"}
                  for stem, share in zip(meta["image"], meta["person_pixel_fraction"],
                                         strict=True)]).to_csv(manifest, index=False)
    runs = []
    for name, choice in (("selfie", ["--model", "selfie"]),
                         ("mnv3", ["--model-spec", str(SPECS / "mnv3_seg_float.toml")]),
                         ("prisma", ["--model-spec", str(SPECS / "prisma_net.toml")])):
        out = folder / name
        done = cli("run", "--dataset", str(manifest), *choice, "--out", str(out), "--format",
                   "", "--bootstrap", "500", "--min-group-size", "10", "--workers", "2",
                   "--inter-annotator-iou", "0.95")
        assert done.returncode == 0, done.stderr
        runs.append(out)
    return runs


@pytest.mark.real_run
def test_a_three_model_comparison_card_over_ccp_renders(ccp_runs, tmp_path):
    from axe_helpers import assert_accessible
    from chromium_cdp import find_chromium, load_page
    from report_helpers import pdf_text_pages

    out = tmp_path / "comparison"
    done = cli("compare", *map(str, ccp_runs), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("comparison gate: passed (3 models")
    document = json.loads((out / "comparison.json").read_text())
    labels = [m["label"] for m in document["models"]]
    assert labels == ["selfie", "MobileNetV3 seg (float)", "PrismaNet"]
    overall = [m["overall"]["value"] for m in document["models"]]

    if find_chromium() is None:
        pytest.skip("headless Chromium not installed (apt-get install chromium)")
    html = out / "comparison.html"
    report = load_page(html, {
        "scripts": "document.scripts.length",
        "title": "document.title",
        "charts": "[...document.querySelectorAll('svg.chart')]"
                  ".map(s => s.querySelector(':scope > title').textContent)",
        "group_rows": "document.querySelectorAll('table.results-table tbody tr').length",
        "model_rows": "[...document.querySelectorAll('#models tbody tr td.group')]"
                      ".map(td => td.textContent.trim())",
        "overflow": "document.documentElement.scrollWidth - window.innerWidth",
    })
    assert report.console_errors == [] and report.exceptions == [] and report.dialogs == []
    assert [r for r in report.requests if not r.startswith("data:")] == [html.resolve().as_uri()]
    assert report.values["scripts"] == 0 and report.values["overflow"] <= 0
    assert report.values["title"] == "Model comparison: " + ", ".join(labels)
    assert report.values["model_rows"] == labels
    assert report.values["charts"] == [
        "person_share: IoU per group and model with 95% interval"]
    assert report.values["group_rows"] == 4  # 2 groups: IoU per model, change per candidate
    assert_accessible(html)

    pages = pdf_text_pages(out / "comparison.pdf")
    text = re.sub(r"\s+", " ", " ".join(pages))
    for label, value in zip(labels, overall, strict=True):
        assert label in text
        assert f"{100 * value:.2f}" in text  # each model's overall IoU, as comparison.json has it
    assert "Change against selfie" in text
