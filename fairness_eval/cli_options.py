"""The options the commands share, declared once.

Values are handed on as given (text for lists, fractions and percentages): each setting
is converted and checked once, by its rule in config/rules.py, whoever gives it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .config.rules import (
    CI_METHODS,
    DEFAULT_MAX_PIXELS,
    EXECUTORS,
    EXIF_CHOICES,
    FAMILYWISE,
    METRICS,
    REFERENCES,
    STATISTICS,
)
from .metrics.catalogue import BOUNDARY_RATIO
from .results.names import LABEL_POLICIES


def given_on_command_line(ctx: click.Context, names: Any) -> dict[str, Any]:
    """The options the user typed on the command line: only these override the config file."""
    from click.core import ParameterSource

    return {name: ctx.params[name] for name in names
            if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE}


def with_options(options: list) -> Any:
    def decorate(function: Any) -> Any:
        for option in reversed(options):
            function = option(function)
        return function
    return decorate


def choices_metavar(choices: tuple[str, ...]) -> str:
    """The metavar of a choice: the settings' rule, not click, refuses any other value."""
    return "[" + "|".join(choices) + "]"


CONFIG_OPTION = click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
    help="Configuration file (default: ./fairness-eval.toml, or [tool.fairness-eval] in "
         "./pyproject.toml).")
CRITERIA_OPTIONS = [
    click.option("--reference", type=str, metavar=choices_metavar(REFERENCES), default="overall",
                 show_default=True, help="The 'average' the criteria measure deviations from."),
    click.option("--min-group-size", type=str, metavar="INTEGER", default=30, show_default=True,
                 help="Smaller groups are shown but not gated."),
    click.option("--sd-factor", type=str, metavar="NUMBER", default=3.0, show_default=True,
                 help="Criterion (a): standard deviations from the reference."),
    click.option("--sd-ddof", type=str, metavar="INTEGER", default=0, show_default=True,
                 help="Criterion (a): 0 population SD, 1 sample SD."),
    click.option("--familywise", type=str, metavar=choices_metavar(FAMILYWISE), default="holm",
                 show_default=True,
                 help="Family-wise control of the statistical verdicts over all of a run's "
                      "gated checks: holm keeps the chance that a fair model fails anywhere "
                      "at or below 1 - confidence; none judges each check at --confidence."),
]
STATISTICS_OPTIONS = [
    click.option("--bootstrap", type=str, metavar="INTEGER", default=10_000, show_default=True,
                 help="Bootstrap resamples."),
    click.option("--confidence", type=str, metavar="NUMBER", default=0.95, show_default=True,
                 help="Confidence level of the intervals."),
    click.option("--ci-method", type=str, metavar=choices_metavar(CI_METHODS), default="bca",
                 show_default=True),
    click.option("--seed", type=str, metavar="INTEGER", default=0, show_default=True,
                 help="Seed of every random draw (recorded)."),
    click.option("--statistic", type=str, metavar=choices_metavar(STATISTICS), default="mean",
                 show_default=True,
                 help="mean of per-image IoU (the card's) or pooled sum I / sum U."),
    *CRITERIA_OPTIONS,
    click.option("--inter-annotator-iou", default=None,
                 help="Inter-annotator IoU for criterion (b), e.g. 0.9874 or 98.74; default: "
                      "computed from the dataset's masks_<annotator>/ folders."),
]
REPORT_OPTIONS = [
    click.option("--format", "formats", default="html,pdf", show_default=True,
                 help="Report formats: html, pdf, md, json (comma-separated)."),
    click.option("--card", type=click.Path(path_type=Path), default=None,
                 help="Card text (TOML) overriding the default intended uses, limitations, ..."),
]
REDACT_OPTION = click.option(
    "--redact-paths/--no-redact-paths", default=True, show_default=True,
    help="Published reports (cards, summary.md, model_card.json, comparison card and "
         "comparison.md) name files relative to the dataset or by name and SHA-256, never by "
         "an absolute local path; results.json and comparison.json keep the full paths.")
EXAMPLES_OPTION = click.option(
    "--examples", type=str, metavar="INTEGER", default=0, show_default=True,
    help="Add the N lowest-IoU images per group to the card (off by default: they are "
         "photographs of people; needs a run with --save-masks).")
CONDITION_OPTIONS = [
    click.option("--conditions", type=str, metavar="LIST", default="",
                 help="Evaluate every image again under capture conditions, each at three "
                      "severities: dark, noise, blur, jpeg, occluder (comma-separated; each "
                      "multiplies the model work; severities from [conditions] in the config)."),
    click.option("--save-conditions", type=click.Path(path_type=Path), default=None,
                 metavar="DIR",
                 help="Also write each degraded image (and its masks) under DIR, one folder "
                      "dataset per condition and severity."),
    click.option("--derive", type=str, metavar="LIST", default="",
                 help="Add attributes derived from the ground truth: person_share, people, "
                      "brightness (comma-separated)."),
    click.option("--adjust-for", type=str, metavar="ATTRIBUTE", default=None,
                 help="Beside each group's figure, its figure standardised to the whole "
                      "set's mix of this categorical attribute (e.g. person_share)."),
    click.option("--gate-on-conditions", is_flag=True,
                 help="With --gate, a group that degrades disparately under a condition "
                      "fails the gate too."),
]
GATE_OPTIONS = [
    click.option("--gate", is_flag=True,
                 help="Exit 1 when a gated fairness criterion is violated."),
    click.option("--strict", is_flag=True, help="With --gate, an inconclusive verdict fails too."),
    click.option("--allow-empty-gate", is_flag=True,
                 help="With --gate, pass when nothing could be gated (otherwise exit 2)."),
]
EXECUTOR_OPTIONS = [
    click.option("--executor", type=str, metavar=choices_metavar(EXECUTORS), default="local",
                 show_default=True,
                 help="Where images are evaluated: local processes, or a Dask cluster "
                      "(needs fairness-eval[dask])."),
    click.option("--scheduler", type=str, metavar="tcp://HOST:PORT", default=None,
                 help="With --executor dask: the scheduler of a running cluster (default: "
                      "start a local cluster of --workers processes)."),
]
# Where a dataset format's rows are (COCO, VOC devkit): `run` and `validate` alike.
DATASET_FORMAT_OPTIONS = [
    click.option("--images", type=click.Path(path_type=Path), default=None, metavar="DIR",
                 help="COCO: the folder the annotation file's file_names are relative to "
                      "(default: images/ beside the .json, else its folder)."),
    click.option("--image-set", type=str, metavar="NAME", default=None,
                 help="VOC devkit: evaluate the ids of ImageSets/Segmentation/NAME.txt (e.g. "
                      "val) instead of every SegmentationClass label."),
    click.option("--image-column", type=str, metavar="NAME", default=None,
                 help="Hugging Face dataset folder or Parquet: the column of images "
                      "(default: image)."),
    click.option("--mask-column", type=str, metavar="NAME", default=None,
                 help="Hugging Face dataset folder or Parquet: the column of ground-truth "
                      "masks (default: mask)."),
]
# The part of a dataset evaluated: `run` and `validate` alike (run: --seed is a statistics
# option, so only `validate` adds it here).
SUBSET_OPTIONS = [
    click.option("--limit", type=str, metavar="N", default=None,
                 help="Only the first N rows (clips for video) in dataset order (recorded; "
                      "a quick first look, not a fair sample)."),
    click.option("--sample", type=str, metavar="N", default=None,
                 help="Only N rows (clips) drawn without replacement with --seed (recorded)."),
]
# What a dataset may hold and how its images are read: `run` and `validate` alike.
IMAGE_OPTIONS = [
    click.option("--max-pixels", type=str, metavar="INTEGER", default=DEFAULT_MAX_PIXELS,
                 show_default=True,
                 help="Largest image (width x height) accepted; a larger one is a validation "
                      "problem, never decoded."),
    click.option("--exif", type=str, metavar=choices_metavar(EXIF_CHOICES), default="ignore",
                 show_default=True,
                 help="Images with an EXIF orientation: score the stored pixels (ignore) or "
                      "turn them upright first (rotate: masks drawn on the displayed image)."),
    click.option("--mask-person-value", type=str, metavar="N", default=None,
                 help="Masks are label indices (e.g. 0 and 1, as FiftyOne, CVAT and Label "
                      "Studio export them): person where the value is N, in ground-truth, "
                      "ignore, annotator and supplied prediction masks; the VOC devkit's "
                      "person class. Default: 8-bit masks, >= 128 is person."),
]

# `run`: which model, where the run goes, what it evaluates and how it scores a mask.
RUN_OPTIONS = [
    click.option("--model", default="selfie", show_default=True,
                 help="selfie, selfie-landscape, or a .tflite / .onnx segmentation model file "
                   "(fed as MediaPipe feeds its selfie models)."),
    click.option("--model-spec", type=click.Path(path_type=Path), default=None,
                 help="A model spec (TOML): the model file and how to feed it and read its "
                   "output (see examples/model-specs/). Instead of --model."),
    click.option("--predictions", type=click.Path(path_type=Path), default=None,
                 help="Folder of supplied predictions, <image id>.png (8-bit masks or "
                   "probability maps, person where value/255 > --threshold): no model runs."),
    click.option("--out", type=click.Path(path_type=Path), default=None,
                 help="Run folder (default reports/<dataset>-<model>-<UTC timestamp>/)."),
    click.option("--overwrite", is_flag=True, help="Replace the results in a non-empty --out."),
    click.option("--resume", is_flag=True, help="Continue an interrupted run in --out."),
    click.option("--attribute", "attributes", multiple=True,
                 help="Attribute column to evaluate (repeatable; default: the columns of a "
                      "standard vocabulary and those with an [attributes.NAME] table, or, "
                      "with neither, every attribute column)."),
    click.option("--intersect", multiple=True,
                 help="Cross attributes, e.g. region,skin_tone (repeatable)."),
    click.option("--attribute-votes", type=click.Path(path_type=Path), default=None,
                 metavar="FILE",
                 help="Several annotators' votes that make attribute columns: a table "
                      "image,annotator,attribute,value (.csv) or a Label Studio JSON export."),
    click.option("--votes-image-key", type=str, metavar="KEY", default="image",
                 show_default=True,
                 help="The key of a Label Studio task's data that names its image file."),
    click.option("--labels", type=str, metavar=choices_metavar(LABEL_POLICIES),
                 default="majority", show_default=True,
                 help="How votes become one label: majority (the value most chosen; a tie "
                      "is (disputed)) or unanimous (any disagreement is (disputed)); "
                      "(disputed) is never gated. resample is not drawn by run yet."),
    click.option("--skip-invalid", is_flag=True,
                 help="Evaluate the valid rows and record the invalid ones as skipped."),
    click.option("--threshold", "--mask-threshold", "mask_threshold", type=str, metavar="NUMBER",
                 default=0.5, show_default=True,
                 help="Person probability above which a pixel is person (the mask threshold)."),
    click.option("--threads", type=str, metavar="INTEGER", default=1, show_default=True,
                 help="LiteRT (XNNPack) threads per worker (1 to 1024)."),
    click.option("--workers", type=str, metavar="INTEGER", default=None,
                 help="Worker processes (default: the number of cores)."),
    click.option("--save-masks", is_flag=True, help="Write predicted masks to <out>/masks/."),
    *EXECUTOR_OPTIONS,
    *IMAGE_OPTIONS,
    *SUBSET_OPTIONS,
    click.option("--metric", type=str, metavar=choices_metavar(METRICS), default="iou",
                 show_default=True,
                 help="What the criteria judge; all are reported (flicker: video only, lower "
                   "is better)."),
    click.option("--boundary-ratio", type=str, metavar="NUMBER", default=BOUNDARY_RATIO,
                 show_default=True,
                 help="Boundary IoU's band width as a share of the image diagonal."),
]
