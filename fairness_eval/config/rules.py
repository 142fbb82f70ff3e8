"""The rules every setting obeys: one conversion, one range and one message per option.

The settings records (`settings.py`, `command_options.py`) pass each value through the
rule of its field (`field_rules.py`) when they are constructed, so a value from the
command line (text such as "2000"), from a configuration file or from a notebook (2000)
meets the same rule and, when it breaks it, the same one-line message: "OPTION: VALUE
REASON", naming the option as on the command line. Nothing downstream checks a setting
again.

A rule takes the value and the option's name and returns the value converted (text to a
number, a percentage to a fraction, "a,b" to a tuple) or raises UsageError.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError
from ..results.names import CRITERIA, REPORT_FORMAT_NAMES
from ..stats.choices import CI_METHODS, FAMILYWISE, METRICS, REFERENCES, STATISTICS

GATE_ON = ("statistical", "point")
# What --metric may choose for the criteria to judge (flicker: video only): METRICS, the
# metric catalogue's names (metrics/catalogue.py).
REPORT_FORMATS = REPORT_FORMAT_NAMES  # results/names.py's report-format catalogue
UNITS = ("auto", "percent", "fraction")  # of a published table's values
EXECUTORS = ("local", "dask")  # where the per-image work runs (evaluation/executors.py)
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")  # Dask's comm protocols

# Fewer resamples make the BCa interval's tail quantiles unreliable; more than a million
# buys no precision a card can show, and the resampled statistics are held in memory.
MIN_BOOTSTRAP = 100
MAX_BOOTSTRAP = 1_000_000

# Decoding costs several bytes per pixel: a 30000x30000 PNG of under 1 MB takes 5 GB. Images
# above --max-pixels are a validation problem. OpenCV refuses to decode more than 2**30
# pixels (CV_IO_MAX_IMAGE_PIXELS), so a larger cap would only move the failure to the run.
DEFAULT_MAX_PIXELS = 100_000_000
MAX_PIXELS_LIMIT = 1 << 30
# How an image's EXIF orientation is treated (data/orientation.py).
EXIF_CHOICES = ("ignore", "rotate")
# Attribute names and values are group labels on every page of the card; a label of
# 100,000 characters made PDF layout run for more than ten minutes.
MAX_ATTRIBUTE_LENGTH = 200
# results.json and card files are read whole: a document far larger than any real run's
# (or /dev/zero) is refused before it is read.
MAX_RESULTS_BYTES = 256 * 1024 * 1024
MAX_CARD_BYTES = 1024 * 1024
# A dataset's tables (manifest, attributes.csv, COCO JSON) are read whole too; COCO's
# largest file (train2017 instances) is 448 MB. A link to /dev/zero is refused, not read.
MAX_TABLE_BYTES = 1024 * 1024 * 1024
# Model threads per worker. A fixed bound, not one from this machine's cores: the value is
# recorded and part of the resume key, and a configuration valid on a laptop must not be
# refused on a smaller CI runner. Above it a thread count is a typo (each thread reserves
# a stack: 100,000 of them exhaust the address space before the model runs).
MAX_THREADS = 1024

Rule = Callable[[Any, str], Any]


def fail(option: str, value: object, reason: str) -> UsageError:
    """The one-line error of an option: "OPTION: VALUE REASON"."""
    return UsageError(f"{option}: {value!r} {reason}")


# --------------------------------------------------------------------------- kinds


def integer(value: Any, option: str, *, least: int, most: int | None = None) -> int:
    """A whole number in [least, most]; text is read as the command line gives it."""
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise fail(option, value, "is not an integer") from None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise fail(option, value, "is not an integer")
    value = int(value)
    if value < least:
        raise fail(option, value, f"must be at least {least}")
    if most is not None and value > most:
        raise fail(option, value, f"must be at most {most}")
    return value


def number(value: Any, option: str) -> float:
    """A finite real number; text is read as the command line gives it."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise fail(option, value, "is not a number") from None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise fail(option, value, "is not a number")
    value = float(value)
    if not math.isfinite(value):
        raise fail(option, value, "is not a finite number")
    return value


def choice(value: Any, option: str, choices: Iterable[str]) -> str:
    """One of `choices`, exactly as spelled there."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise fail(option, value, f"is not one of {', '.join(choices)}")
    return value


def flag(value: Any, option: str) -> bool:
    """True or False (numpy's bool too); nothing else is read as a flag."""
    if not isinstance(value, (bool, np.bool_)):
        raise fail(option, value, "must be true or false")
    return bool(value)


def path(value: Any, option: str) -> Path | None:
    """A path (None stays None)."""
    if value is None:
        return None
    if not isinstance(value, (str, Path)) or not str(value):
        raise fail(option, value, "is not a path")
    return Path(value)


def parse_fraction(value: Any, option: str) -> float:
    """A fraction in [0, 1] from a fraction (0.9874), a percentage (98.74) or "98.74%".

    Numbers above 1 and up to 100 are read as percentages. UsageError names the option
    for anything else (text that is not a number, NaN, negative, above 100).
    """
    text = str(value).strip()
    percent = isinstance(value, str) and text.endswith("%")
    try:
        if isinstance(value, bool):
            raise TypeError
        found = float(text.rstrip("%").strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise fail(option, value, "is not a number") from None
    # Past this point the message shows the number read, so that "300" typed and 300
    # passed are refused in the same words.
    if not math.isfinite(found):
        raise fail(option, found, "is not a finite number")
    if percent or found > 1.0:
        if not 0.0 <= found <= 100.0:
            raise fail(option, found, "is not a percentage in [0, 100]")
        return found / 100.0
    if found < 0.0:
        raise fail(option, found, "is negative; give a fraction or percentage")
    return found


# --------------------------------------------------------------------------- options


def mask_threshold(value: Any, option: str = "--threshold") -> float:
    """The probability above which a predicted pixel is person."""
    cut = number(value, option)
    if not 0.0 < cut < 1.0:
        raise fail(option, cut, "must lie in (0, 1)")
    return cut


def mask_person_value(value: Any, option: str = "--mask-person-value") -> int | None:
    """The label of person in label-index masks (1..255); None: 8-bit masks, >= 128."""
    return None if value is None else integer(value, option, least=1, most=255)


def threads(value: Any, option: str = "--threads") -> int:
    return integer(value, option, least=1, most=MAX_THREADS)


def bootstrap(value: Any, option: str = "--bootstrap") -> int:
    return integer(value, option, least=MIN_BOOTSTRAP, most=MAX_BOOTSTRAP)


def max_pixels(value: Any, option: str = "--max-pixels") -> int:
    """The largest image (width x height) a dataset may hold."""
    return integer(value, option, least=1, most=MAX_PIXELS_LIMIT)


def confidence(value: Any, option: str = "--confidence") -> float:
    level = number(value, option)
    if not 0.5 < level < 1.0:
        raise fail(option, level, "must lie in (0.5, 1)")
    return level


def at_least(least: int) -> Rule:
    """The rule of a count: an integer of at least `least`."""
    def rule(value: Any, option: str) -> int:
        return integer(value, option, least=least)
    return rule


def row_count(value: Any, option: str) -> int | None:
    """How many of a dataset's rows to take (--limit, --sample): a positive integer; None:
    every row."""
    return None if value is None else integer(value, option, least=1)


def gate_on(value: Any, option: str = "--gate-on") -> str | None:
    """Which verdicts the gate reads; None: the ones the results document itself names."""
    return None if value is None else choice(value, option, GATE_ON)


def one_of(choices: Iterable[str]) -> Rule:
    choices = tuple(choices)

    def rule(value: Any, option: str) -> str:
        return choice(value, option, choices)
    return rule


def boundary_ratio(value: Any, option: str = "--boundary-ratio") -> float:
    """Boundary IoU's band width as a share of the image diagonal (0.02 in the paper)."""
    ratio = number(value, option)
    if not 0.0 < ratio < 1.0:
        raise fail(option, ratio, "must lie in (0, 1) (a share of the image diagonal)")
    return ratio


def sd_factor(value: Any, option: str = "--sd-factor") -> float:
    factor = number(value, option)
    if not factor > 0:
        raise fail(option, factor, "must be a positive number")
    return factor


def sd_ddof(value: Any, option: str = "--sd-ddof") -> int:
    ddof = integer(value, option, least=0)
    if ddof not in (0, 1):
        raise fail(option, ddof, "must be 0 (population SD) or 1 (sample SD)")
    return ddof


def inter_annotator_iou(value: Any, option: str = "--inter-annotator-iou") -> float | None:
    """A fraction in (0, 1] or a percentage in (1, 100]; None: from the dataset, or none."""
    if value is None:
        return None
    found = parse_fraction(value, option)
    if not found > 0:
        raise fail(option, found, "must be above 0")
    return found


def average(value: Any, option: str = "--average") -> float | None:
    """A published average IoU as a fraction or percentage; None: derived from the groups."""
    return None if value is None else parse_fraction(value, option)


def max_drop(value: Any, option: str = "--max-drop") -> float | None:
    if value is None:
        return None
    drop = number(value, option)
    if drop < 0:
        raise fail(option, drop, "must be at least 0")
    return drop


def scheduler(value: Any, option: str = "--scheduler") -> str | None:
    """A Dask scheduler address, SCHEME://HOST:PORT (None: start a local cluster)."""
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else value
    scheme, _, rest = text.partition("://") if isinstance(text, str) else ("", "", "")
    host, _, port = rest.rpartition(":")
    if scheme not in SCHEDULER_SCHEMES or not host or not port.isdigit():
        raise fail(option, value, "is not a Dask scheduler address such as "
                                  "tcp://HOST:8786")
    return text


def model(value: Any, option: str = "--model") -> str:
    if isinstance(value, Path):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise fail(option, value, "is not a model name or a path to a .tflite or .onnx file")
    return value


def model_spec(value: Any, option: str = "--model-spec") -> Any:
    """A ModelSpec, or the path of a spec file (read and checked here); None: no spec."""
    from ..models.spec import ModelSpec, load_model_spec

    if value is None or isinstance(value, ModelSpec):
        return value
    if not isinstance(value, (str, Path)) or not str(value).strip():
        raise fail(option, value, "is not a path to a model spec (.toml)")
    return load_model_spec(value)


def folder(value: Any, option: str) -> Path | None:
    """An existing folder (None stays None)."""
    found = path(value, option)
    if found is not None and not found.is_dir():
        raise fail(option, str(found), "is not a folder" if found.exists() else "does not exist")
    return found


def key_text(value: Any, option: str) -> str:
    """A key of a file's records (a JSON key): non-empty text without surrounding blanks."""
    if not isinstance(value, str) or not value or value != value.strip():
        raise fail(option, value, "is not a key (non-empty text)")
    return value


def names(value: Any, option: str) -> tuple[str, ...]:
    """Column names: a sequence of strings (a single string is one name)."""
    items = (value,) if isinstance(value, str) else value
    try:
        items = tuple(items)
    except TypeError:
        raise fail(option, value, "is not a list of names") from None
    if not all(isinstance(item, str) and item.strip() for item in items):
        raise fail(option, value, "is not a list of names")
    return items


def formats(value: Any, option: str = "--format") -> tuple[str, ...]:
    """Report formats: "html,pdf" or a sequence of names; "" means none."""
    if isinstance(value, str):
        chosen = tuple(f.strip() for f in value.split(",") if f.strip())
    else:
        chosen = names(value, option)
    unknown = [f for f in chosen if f not in REPORT_FORMATS]
    if unknown:
        raise UsageError(f"{option}: unknown format(s) {', '.join(unknown)} "
                         f"(choose from {', '.join(REPORT_FORMATS)})")
    return chosen


def crossing(value: Any, option: str = "--intersect") -> tuple[str, ...]:
    """One crossing of attributes: "region,skin_tone" or ("region", "skin_tone")."""
    if isinstance(value, str):
        parts = tuple(c.strip() for c in value.split(",") if c.strip())
    else:
        parts = names(value, option)
    if len(parts) < 2 or len(set(parts)) != len(parts):
        raise fail(option, value, "crosses fewer than two attributes; name two or more "
                                  "attributes, comma-separated (e.g. region,skin_tone)")
    return parts


def crossings(value: Any, option: str = "--intersect") -> tuple[tuple[str, ...], ...]:
    """Crossings of attributes; a single "a,b" string is one crossing."""
    if isinstance(value, str):
        return (crossing(value, option),)
    try:
        items = tuple(value)
    except TypeError:
        raise fail(option, value, "is not a list of crossings such as region,skin_tone"
                   ) from None
    return tuple(crossing(item, option) for item in items)


def criteria(value: Any, option: str) -> tuple[str, ...]:
    """Gated criteria: a list drawn from CRITERIA ([] : reported, not gated)."""
    listed = names(value, option)
    bad = [c for c in listed if c not in CRITERIA]
    if bad:
        raise fail(option, bad[0], f"is not a criterion; criteria are {list(CRITERIA)}")
    return listed




__all__ = [
    "EXECUTORS", "SCHEDULER_SCHEMES", "scheduler",
    "CI_METHODS", "FAMILYWISE", "GATE_ON", "MAX_BOOTSTRAP", "METRICS", "MIN_BOOTSTRAP",
    "REFERENCES",
    "REPORT_FORMATS",
    "STATISTICS", "UNITS", "at_least", "average", "bootstrap", "choice", "confidence",
    "crossing", "crossings", "criteria", "fail", "flag",
    "folder", "formats", "integer", "inter_annotator_iou", "mask_threshold", "max_drop", "model",
    "mask_person_value",
    "model_spec", "names",
    "number", "one_of", "parse_fraction", "path", "sd_ddof", "sd_factor",
    "DEFAULT_MAX_PIXELS", "EXIF_CHOICES", "MAX_ATTRIBUTE_LENGTH", "MAX_CARD_BYTES",
    "MAX_PIXELS_LIMIT", "MAX_RESULTS_BYTES", "max_pixels",
]
