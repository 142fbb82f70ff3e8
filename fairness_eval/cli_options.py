"""The options the commands share, declared once.

`run`'s options are built from their catalogue (`config/options.py`: flags, help, metavar,
the value type) with the defaults of `Settings`; this module only groups them, in the order
`--help` lists them. Values are handed on as given (text for lists, fractions and
percentages): each setting is converted and checked once, by its rule in config/rules.py,
whoever gives it.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import click

from .config.options import BOOL, PATH, RUN_OPTION
from .config.settings import Settings


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


def _default(name: str) -> Any:
    """A Settings field's default as click shows it: lists as comma-separated text, a
    default computed at run time (--workers: the cores) as none."""
    item = next(f for f in fields(Settings) if f.name == name)
    if item.default is MISSING or RUN_OPTION[name].multiple:
        return None
    return ",".join(item.default) if isinstance(item.default, tuple) else item.default


def run_option(name: str) -> Any:
    """The click option of one of `run`'s options, from its catalogue entry."""
    entry = RUN_OPTION[name]
    default = _default(name)
    attrs: dict[str, Any] = {"default": default, "help": entry.help}
    if entry.kind == BOOL:
        if "/" not in entry.flags[0]:  # --redact-paths/--no-redact-paths is a flag already
            attrs["is_flag"] = True
    else:
        attrs["type"] = click.Path(path_type=Path) if entry.kind == PATH else str
    if entry.metavar is not None:
        attrs["metavar"] = entry.metavar
    if entry.multiple:
        attrs["multiple"] = True
    if default is not None and default is not False and default != "":
        attrs["show_default"] = True
    return click.option(*entry.flags, entry.name, **attrs)


def run_options(*names: str) -> list:
    """The click options of several of `run`'s options, in the order given."""
    return [run_option(name) for name in names]


CONFIG_OPTION = click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
    help="Configuration file (default: ./fairness-eval.toml, or [tool.fairness-eval] in "
         "./pyproject.toml).")
CRITERIA_OPTIONS = run_options("reference", "min_group_size", "sd_factor", "sd_ddof",
                               "familywise")
STATISTICS_OPTIONS = [
    *run_options("bootstrap", "confidence", "ci_method", "seed", "statistic"),
    *CRITERIA_OPTIONS,
    run_option("inter_annotator_iou"),
]
REPORT_OPTIONS = run_options("formats", "card")
REDACT_OPTION = run_option("redact_paths")
EXAMPLES_OPTION = run_option("examples")
CONDITION_OPTIONS = run_options("conditions", "save_conditions", "derive", "adjust_for",
                                "gate_on_conditions")
GATE_OPTIONS = run_options("gate", "strict", "allow_empty_gate")
EXECUTOR_OPTIONS = run_options("executor", "scheduler")
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
SUBSET_OPTIONS = run_options("limit", "sample")
# What a dataset may hold and how its images are read: `run` and `validate` alike.
IMAGE_OPTIONS = run_options("max_pixels", "exif", "mask_person_value")

# `run`: which model, where the run goes, what it evaluates and how it scores a mask.
RUN_OPTIONS = [
    *run_options("model", "model_spec", "predictions", "out", "overwrite", "resume",
                 "attributes", "intersect", "attribute_votes", "votes_image_key", "labels",
                 "skip_invalid", "mask_threshold", "threads", "workers", "save_masks"),
    *EXECUTOR_OPTIONS,
    *IMAGE_OPTIONS,
    *SUBSET_OPTIONS,
    *run_options("metric", "boundary_ratio"),
]
