"""Our masks against MediaPipe's own graph on both shared datasets (required: mean IoU >= 0.995).

Needs a python with mediapipe==0.10.21 (its pins clash with ours, so it lives in another
venv): set FAIRNESS_EVAL_MEDIAPIPE_PYTHON. `.ci/run` creates one in `.venv-mediapipe`.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

MEDIAPIPE_PYTHON = os.environ.get("FAIRNESS_EVAL_MEDIAPIPE_PYTHON")
SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "mediapipe_parity.py"


@pytest.mark.skipif(not MEDIAPIPE_PYTHON,
                    reason="set FAIRNESS_EVAL_MEDIAPIPE_PYTHON to a mediapipe==0.10.21 python")
def test_masks_agree_with_mediapipe_on_both_datasets(voc_dataset, ccp_dataset, model_file,
                                                     tmp_path):
    report = tmp_path / "parity.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--dataset", str(voc_dataset), "--dataset",
         str(ccp_dataset), "--mediapipe-python", MEDIAPIPE_PYTHON, "--json", str(report)],
        capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    summaries = {s["dataset"]: s for s in json.loads(report.read_text())}
    assert set(summaries) == {"voc2012_person", "ccp_fashion"}
    for summary in summaries.values():
        assert summary["n"] == 300
        assert summary["mean_iou"] >= 0.995, summary
