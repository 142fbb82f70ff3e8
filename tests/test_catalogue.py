"""The catalogues (metrics, report formats, model runtimes): every list the stages read is
derived from one record per entry, and the metric catalogue loads without OpenCV, pandas or
scipy (the settings read it before a run forks its workers)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fairness_eval.config import rules
from fairness_eval.data.clip_attributes import RESERVED_COLUMNS
from fairness_eval.errors import UsageError
from fairness_eval.fairness.rows import evaluated_rows
from fairness_eval.metrics.catalogue import METRICS, metric_info
from fairness_eval.models.runtime_kinds import MODEL_SUFFIXES, install_hint, runtime_kind
from fairness_eval.report import FILE_NAMES, FORMATS
from fairness_eval.report.charts import interval_axis
from fairness_eval.report.judged import METRIC_MEANINGS, metric_label
from fairness_eval.results import names
from fairness_eval.results.video_tables import CLIP_COLUMNS, FRAME_COLUMNS
from fairness_eval.stats.choices import CLIP_METRICS

pd = pytest.importorskip("pandas")


def test_the_catalogue_loads_with_numpy_alone():
    probe = ("import sys, fairness_eval.metrics.catalogue, fairness_eval.results.names, "
             "fairness_eval.stats.choices, fairness_eval.models.runtime_kinds; "
             "print(sorted(m for m in ('cv2', 'pandas', 'scipy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_every_list_of_metrics_follows_the_catalogue():
    every = [m.name for m in METRICS]
    per_image = [m.name for m in METRICS if m.per_image is not None]
    clip = [m.name for m in METRICS if m.clip]
    assert list(rules.METRICS) == every
    assert list(CLIP_METRICS) == clip
    start = names.PER_IMAGE_COLUMNS.index("union") + 1
    assert list(names.PER_IMAGE_COLUMNS[start:start + len(per_image)]) == per_image
    assert [c for c in FRAME_COLUMNS if metric_info(c)] == clip
    assert [c for c in CLIP_COLUMNS if metric_info(c)] == clip
    assert set(clip) <= set(RESERVED_COLUMNS)
    for metric in METRICS:
        assert metric_label(metric.name) == metric.label
        assert METRIC_MEANINGS[metric.name] == metric.meaning
        assert (metric.name in names.LOWER_IS_BETTER_METRICS) == metric.lower_is_better


def test_a_value_outside_the_metrics_bounds_is_refused_and_flicker_may_exceed_one():
    table = pd.DataFrame({"row": [1, 2], "image": ["a", "b"], "status": ["ok", "ok"],
                          "iou": [0.5, 0.6], "dice": [0.7, 1.2], "flicker": [0.1, 1.5]})
    with pytest.raises(UsageError, match=r"row 2 \(image b\): dice is 1.2"):
        evaluated_rows(table, metric="dice")
    assert len(evaluated_rows(table, metric="flicker")) == 2


def test_chart_axes_keep_to_the_bounds():
    assert interval_axis("dice", 90.0, 99.9) == (pytest.approx(90.0 - 0.792), 100.0)
    assert interval_axis("flicker", 1.0, 150.0)[1] > 150.0  # unbounded above
    assert interval_axis("iou", 0.1, 5.0)[0] == 0.0


def test_report_formats_and_model_runtimes_are_one_list_each():
    assert FORMATS == rules.REPORT_FORMATS == tuple(r.name for r in names.REPORT_FORMATS)
    assert FILE_NAMES == {"html": names.MODEL_CARD_HTML, "pdf": names.MODEL_CARD_PDF,
                          "md": names.SUMMARY_FILE, "json": names.MODEL_CARD_JSON}
    assert MODEL_SUFFIXES == (".tflite", ".onnx")
    assert runtime_kind("x/Model.ONNX").key == "onnx" and runtime_kind("m.pt") is None
    assert install_hint(runtime_kind("m.onnx")) == "pip install 'fairness-eval[onnx]'"
