"""Fixtures shared across the test modules: the real model and real runs on shared data.

The shared datasets live beside the repository (`../shared/datasets`); they are used by
path and never copied. Runs are session-scoped: the model over 300 VOC images takes
seconds, and several test modules read the same run folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
VOC = SHARED / "datasets" / "voc2012_person"
CCP = SHARED / "datasets" / "ccp_fashion"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "real_run: runs the real model over a shared dataset")


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
    from fairness_eval.models import resolve_model

    return resolve_model("selfie")


@pytest.fixture(scope="session")
def voc_run(tmp_path_factory: pytest.TempPathFactory, voc_dataset: Path, model_file):
    """A real run over the 300 VOC images with saved masks: (run_dir, RunOutcome)."""
    from fairness_eval.config import Settings
    from fairness_eval.pipeline import run_evaluation

    run_dir = tmp_path_factory.mktemp("voc_run") / "run"
    settings = Settings(out=run_dir, attributes=("bourdev_subcategory",), save_masks=True,
                        workers=2, formats=())
    outcome = run_evaluation(voc_dataset, settings, command="pytest voc_run")
    return run_dir, outcome
