"""Fixtures shared across the test modules: the real model and real runs on shared data.

The shared datasets live beside the repository (`../shared/datasets`); they are used by
path and never copied. Runs are session-scoped: the model over 300 VOC images takes
seconds, and several test modules read the same run folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
VOC = SHARED / "datasets" / "voc2012_person"
CCP = SHARED / "datasets" / "ccp_fashion"


def pytest_configure(config: pytest.Config) -> None:
    # Under GitHub Actions the suite's own runs of `check` and `run --gate` would append to
    # the job's real step summary and outputs; each test that wants them sets its own.
    for name in ("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
        os.environ.pop(name, None)
    config.addinivalue_line("markers", "real_run: runs the real model over a shared dataset")
    config.addinivalue_line("markers", "slow: the real model, a browser, a Dask cluster, a "
                            "child Python, a PDF card or over half a second (tests/tiers.py)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark slow every test that tiers.is_slow finds slow (the rules are in its docstring)."""
    from tiers import is_slow

    for item in items:
        if isinstance(item, pytest.Function) and not item.get_closest_marker("slow") \
                and is_slow(item):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def voc_dataset() -> Path:
    if not VOC.is_dir():
        pytest.fail(f"shared dataset missing: {VOC}")
    return VOC


@pytest.fixture(scope="session")
def ccp_dataset() -> Path:
    if not CCP.is_dir():
        pytest.fail(f"shared dataset missing: {CCP}")
    return CCP


@pytest.fixture(scope="session")
def model_file():
    """The real MediaPipe selfie model, pulled into the user cache on first use."""
    from fairness_eval.models.registry import resolve_model

    return resolve_model("selfie")


@pytest.fixture(scope="session")
def voc_run(tmp_path_factory: pytest.TempPathFactory, voc_dataset: Path, model_file):
    """A real run over the 300 VOC images with saved masks: (run_dir, RunOutcome)."""
    from fairness_eval.config.settings import Settings
    from fairness_eval.workflow.run import run_evaluation

    run_dir = tmp_path_factory.mktemp("voc_run") / "run"
    settings = Settings(out=run_dir, attributes=("bourdev_subcategory",), save_masks=True,
                        workers=2, formats=())
    outcome = run_evaluation(voc_dataset, settings, command="pytest voc_run")
    return run_dir, outcome


# -- CI gate and compare: VOC runs with attributes derived from real properties --

def _write_voc_property_manifest(path: Path, voc: Path, keep: int | None = None) -> Path:
    """A manifest over the VOC images (absolute paths) with three attributes from meta.csv:
    `person_share` small (person < 5% of the frame) / large, `scene` multi (two or more
    persons of >= 5% of the person area) / single, and `random_split` A / B drawn with
    seed 0. `keep`: only the first `keep` images."""
    import numpy as np
    import pandas as pd

    meta = pd.read_csv(voc / "meta.csv", dtype={"image": str}).sort_values("image")
    if keep is not None:
        meta = meta.head(keep)
    random_split = np.random.default_rng(0).choice(["A", "B"], len(meta))
    rows = []
    for (_, item), split in zip(meta.iterrows(), random_split, strict=True):
        stem = item["image"]
        second = voc / "masks_annotator2" / f"{stem}.png"
        rows.append({
            "image": str(voc / "images" / f"{stem}.jpg"),
            "mask": str(voc / "masks" / f"{stem}.png"),
            "ignore": str(voc / "ignore" / f"{stem}.png"),
            "mask_annotator2": str(second) if second.exists() else "",
            "person_share": "small" if item["person_pixel_fraction"] < 0.05 else "large",
            "scene": "multi" if item["person_components_ge5pct"] >= 2 else "single",
            "random_split": split,
        })
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def voc_property_manifest(tmp_path_factory: pytest.TempPathFactory, voc_dataset: Path) -> Path:
    folder = tmp_path_factory.mktemp("voc_properties")
    return _write_voc_property_manifest(folder / "voc_properties.csv", voc_dataset)


@pytest.fixture(scope="session")
def voc_property_run(tmp_path_factory: pytest.TempPathFactory, voc_property_manifest: Path,
                     voc_dataset: Path, model_file):
    """run(attribute, threshold=0.5, keep=None) -> run folder of a real run over the VOC
    property manifest evaluating that one attribute; each distinct run is made once."""
    from fairness_eval.config.settings import Settings
    from fairness_eval.workflow.run import run_evaluation

    made: dict[tuple, Path] = {}

    def run(attribute: str, threshold: float = 0.5, keep: int | None = None) -> Path:
        key = (attribute, threshold, keep)
        if key not in made:
            folder = tmp_path_factory.mktemp(f"voc_{attribute}_{threshold}_{keep}")
            manifest = voc_property_manifest if keep is None else _write_voc_property_manifest(
                folder / "voc_properties_subset.csv", voc_dataset, keep)
            settings = Settings(out=folder / "run", attributes=(attribute,),
                                mask_threshold=threshold, workers=2, formats=())
            run_evaluation(manifest, settings, command=f"pytest {attribute} {threshold}")
            made[key] = folder / "run"
        return made[key]

    return run


@pytest.fixture
def cli(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch):
    """`fairness-eval ARGS` in this process (as the console script runs it): its exit code,
    stdout and stderr."""
    from fairness_eval.cli import main

    def invoke(*args: object) -> SimpleNamespace:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["fairness-eval", *map(str, args)])
        with pytest.raises(SystemExit) as exit_info:
            main()
        captured = capsys.readouterr()
        return SimpleNamespace(returncode=exit_info.value.code, stdout=captured.out,
                               stderr=captured.err)
    return invoke
