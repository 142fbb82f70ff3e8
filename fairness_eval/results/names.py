"""The names every stage agrees on: group and column names, run-folder files, criteria, verdicts.

They live here once, at the bottom of the package, so that the dataset reader, the
statistics, the reporters and the gate cannot drift apart on a spelling. The metrics'
names, words and columns are derived from the metric catalogue (metrics/catalogue.py, a
leaf module with numpy alone), which reporters read through here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..metrics.catalogue import CLIP_METRICS, IMAGE_METRICS, METRICS

SCHEMA_VERSION = "2.2"

# The group of images with no value for an attribute (an empty manifest cell).
NOT_ANNOTATED = "(not annotated)"
# The group of images whose annotators' votes name no label under the label policy
# (`--labels`: a tie for the majority, any disagreement for unanimous): reported, never gated.
DISPUTED = "(disputed)"
# How a voted attribute's label is chosen (--labels; data/label_policies.py).
LABEL_POLICIES = ("majority", "unanimous", "resample")
# Joins the values of crossed attributes ("female×dark") into one group label.
INTERSECTION_JOINER = "×"

# per_image.csv: the columns fairness-eval writes itself, in order. An attribute may not
# take their names, nor the prefix of the per-annotator IoU columns.
ROW_COLUMN = "row"
IMAGE_COLUMN = "image"
STATUS_COLUMN = "status"
REASON_COLUMN = "reason"
IOU_COLUMN = "iou"
BOUNDARY_IOU_COLUMN = "boundary_iou"  # Boundary IoU (metrics/boundary.py), stills and video
# What --metric may judge (results.json's bootstrap.metric; each a per_image / per_clip
# column), as every report names it; and those for which a higher value is the worse one.
# All read from the metric catalogue (metrics/catalogue.py), one record per metric.
METRIC_LABELS = {metric.name: metric.label for metric in METRICS}
METRIC_MEANINGS = {metric.name: metric.meaning for metric in METRICS}  # the card's words
LOWER_IS_BETTER_METRICS = tuple(metric.name for metric in METRICS if metric.lower_is_better)
# The range of each metric's values (upper None: unbounded), which the charts' axes keep to.
METRIC_BOUNDS = {metric.name: metric.bounds for metric in METRICS}
# per_image.csv's metric columns: those a still image has, in the catalogue's order.
IMAGE_METRIC_COLUMNS = tuple(metric.name for metric in IMAGE_METRICS)
INTER_ANNOTATOR_COLUMN = "inter_annotator_iou"
ANNOTATOR_IOU_PREFIX = "iou_"
PER_IMAGE_COLUMNS = (ROW_COLUMN, IMAGE_COLUMN, STATUS_COLUMN, REASON_COLUMN, "intersection",
                     "union", *IMAGE_METRIC_COLUMNS, "gt_area", "pred_area",
                     "ignored_pixels",
                     "both_empty", "content_sha256", INTER_ANNOTATOR_COLUMN)
# Integer and real columns of per_image.csv (read back as numbers, "" as missing).
COUNT_COLUMNS = ("intersection", "union", "gt_area", "pred_area", "ignored_pixels")
NUMBER_COLUMNS = (*COUNT_COLUMNS[:2], *IMAGE_METRIC_COLUMNS, *COUNT_COLUMNS[2:])
# A video run's tables (results/video_tables.py): per_frame.csv's and per_clip.csv's
# columns, the metrics a clip's mean summarises in the catalogue's order.
CLIP_METRIC_COLUMNS = tuple(metric.name for metric in CLIP_METRICS)
PER_FRAME_COLUMNS = ("clip", "frame", STATUS_COLUMN, REASON_COLUMN, "intersection", "union",
                     *CLIP_METRIC_COLUMNS, "gt_area", "pred_area")
PER_CLIP_COLUMNS = ("clip", "frames", "scored_frames", *CLIP_METRIC_COLUMNS)
# The status of a row that was scored; any other status (skipped) has no IoU.
STATUS_OK = "ok"
# conditions.csv: one row per image, capture condition and severity.
CONDITION_COLUMNS = ("image", "condition", "severity", "intersection", "union", "iou")

# Files of a run folder.
RESULTS_FILE = "results.json"
PER_IMAGE_FILE = "per_image.csv"
# A video run's tables (results/video_tables.py) instead of per_image.csv.
PER_FRAME_FILE = "per_frame.csv"
PER_CLIP_FILE = "per_clip.csv"
CONDITIONS_FILE = "conditions.csv"
PROGRESS_FILE = "progress.sqlite"
SUMMARY_FILE = "summary.md"
JUNIT_FILE = "junit.xml"
MODEL_CARD_HTML = "model_card.html"
MODEL_CARD_PDF = "model_card.pdf"
MODEL_CARD_JSON = "model_card.json"
COMPARISON_JSON = "comparison.json"
COMPARISON_MD = "comparison.md"


@dataclass(frozen=True)
class ReportFormat:
    """One report `--format` may ask for: its name, the file it writes into the run folder,
    and what it is."""

    name: str
    file: str
    description: str


# The report formats, in the order they are written; `--format`'s check (config/rules.py)
# and the renderer (report/__init__.py) both read this one list.
REPORT_FORMATS = (
    ReportFormat("html", MODEL_CARD_HTML, "the model card as a self-contained HTML page"),
    ReportFormat("pdf", MODEL_CARD_PDF, "the model card as a PDF (WeasyPrint)"),
    ReportFormat("md", SUMMARY_FILE, "summary.md: the verdicts as Markdown"),
    ReportFormat("json", MODEL_CARD_JSON, "the card as Model Card Toolkit JSON"),
)
REPORT_FORMAT_NAMES = tuple(report.name for report in REPORT_FORMATS)
# Which reports the last render wrote, so a later `report` replaces them and only them.
RENDERED_REPORTS_FILE = ".fairness-eval-reports.json"
# Everything fairness-eval may write into a run folder (SQLite adds -wal and -shm files).
RUN_OUTPUTS = (RESULTS_FILE, PER_IMAGE_FILE, CONDITIONS_FILE, PROGRESS_FILE,
               PROGRESS_FILE + "-wal", PROGRESS_FILE + "-shm", JUNIT_FILE, SUMMARY_FILE,
               MODEL_CARD_HTML, MODEL_CARD_PDF, MODEL_CARD_JSON, COMPARISON_JSON,
               COMPARISON_MD, RENDERED_REPORTS_FILE)

# The model card's two fairness criteria: (a) SD-based, (b) inter-annotator-based.
CRITERIA = ("a", "b")

# Verdicts, from best to worst; an attribute's verdict is the worst of its groups'.
PASS = "pass"
INCONCLUSIVE = "inconclusive"
VIOLATION = "violation"
NOT_EVALUATED = "not evaluated"  # the criterion could not be applied (no interval, k < 2)
NOT_GATED = "not gated"  # small and not-annotated groups: reported, never judged
VERDICT_ORDER = (PASS, INCONCLUSIVE, VIOLATION)
VERDICT_RANK = {verdict: rank for rank, verdict in enumerate(VERDICT_ORDER)}
# Everything a group's point or statistical verdict may say.
GROUP_VERDICTS = (*VERDICT_ORDER, NOT_EVALUATED, NOT_GATED)
# The two readings of a criterion: the card's literal one and the one with the interval.
VERDICT_FORMS = ("statistical", "point")
