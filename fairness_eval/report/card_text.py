"""The card's prose: model description, intended uses, limitations, ethical considerations.

Numbers come from results.json; words come from a card file. The card file is TOML (read
with the standard library's tomllib; PyYAML is not a dependency of fairness-eval). The
default text for MediaPipe Selfie Segmentation ships as `templates/selfie_card.toml` and
applies when the evaluated model is one it names; a user's file (`--card card.toml`)
overrides any field of it, field by field. A key the default file does not know, or a
value of the wrong type, is a UsageError naming the key and the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

DEFAULT_CARD = "templates/selfie_card.toml"

# TOML key path -> (CardText field, kind). Kinds: "text", "texts" (list of strings),
# "risks" (list of tables with `risk` and optional `mitigation`; RISK_KEYS).
_FIELDS: dict[str, tuple[str, str]] = {
    "applies_to_models": ("applies_to_models", "texts"),
    "model.display_name": ("display_name", "text"),
    "model.overview": ("overview", "text"),
    "model.version": ("version", "text"),
    "model.date": ("date", "text"),
    "model.authors": ("authors", "texts"),
    "model.contact": ("contact", "text"),
    "model.license": ("license", "text"),
    "model.architecture": ("architecture", "text"),
    "model.documentation": ("documentation", "text"),
    "model.references": ("references", "texts"),
    "model.citation": ("citation", "text"),
    "intended_use.primary_uses": ("primary_uses", "texts"),
    "intended_use.primary_users": ("primary_users", "texts"),
    "intended_use.out_of_scope": ("out_of_scope", "texts"),
    "considerations.limitations": ("limitations", "texts"),
    "considerations.tradeoffs": ("tradeoffs", "texts"),
    "considerations.ethical": ("ethical", "risks"),
}
CARD_KEYS = _FIELDS  # the catalogue `fairness-eval init` writes card.toml from
_SECTIONS = {path.split(".")[0] for path in _FIELDS if "." in path}
# The keys of a [[considerations.ethical]] table, named as the card's columns: Risk,
# Mitigation. `name`, what card files said before, is read as `risk`.
RISK_KEYS = ("risk", "mitigation")
RISK_ALIASES = {"name": "risk"}


@dataclass(frozen=True)
class Risk:
    """An ethical consideration and how it is addressed."""

    name: str
    mitigation: str | None = None


@dataclass(frozen=True)
class CardText:
    """Every prose field of the card; None or empty where no text was given."""

    display_name: str | None = None
    overview: str | None = None
    version: str | None = None
    date: str | None = None
    authors: tuple[str, ...] = ()
    contact: str | None = None
    license: str | None = None
    architecture: str | None = None
    documentation: str | None = None
    references: tuple[str, ...] = ()
    citation: str | None = None
    primary_uses: tuple[str, ...] = ()
    primary_users: tuple[str, ...] = ()
    out_of_scope: tuple[str, ...] = ()
    limitations: tuple[str, ...] = ()
    tradeoffs: tuple[str, ...] = ()
    ethical: tuple[Risk, ...] = ()
    applies_to_models: tuple[str, ...] = ()
    # Where the text came from, for the reproducibility section: ("built-in default", ...)
    sources: tuple[str, ...] = field(default=())


def load_card_text(model_name: str | None, card: Path | None = None) -> CardText:
    """The card text for a model: the built-in default where it applies, then `card` over it.

    The default applies when `model_name` is one of its `applies_to_models`, or when the
    results name no model (a published table of the default model). Raises UsageError for
    an unreadable or malformed card file, naming the file and the key at fault.
    """
    default_source = resources.files("fairness_eval").joinpath(DEFAULT_CARD)
    default_values = _parse(default_source.read_bytes(), "built-in " + DEFAULT_CARD)
    default_models = tuple(default_values.get("applies_to_models", ()))
    values: dict[str, Any] = {}
    sources: list[str] = []
    if model_name is None or model_name in default_models:
        values.update(default_values)
        sources.append("built-in default text for MediaPipe Selfie Segmentation")
    if card is not None:
        card = Path(card)
        if card.suffix.lower() in (".yaml", ".yml"):
            raise UsageError(
                f"--card: {card} looks like YAML; card files are TOML "
                f"(see {DEFAULT_CARD} in the fairness_eval package for the keys)"
            )
        from ..config.rules import MAX_CARD_BYTES
        from ..userfiles import check_user_file

        check_user_file(card, MAX_CARD_BYTES, "--card")  # not /dev/zero, nor 1 GB, whole
        try:
            raw = card.read_bytes()
        except OSError as error:
            raise UsageError(f"--card: cannot read {card}: {error.strerror}") from error
        values.update(_parse(raw, str(card)))
        sources.append(f"{card.name} (sha256 {hashlib.sha256(raw).hexdigest()[:12]})")
    return CardText(**values, sources=tuple(sources))


def _parse(raw: bytes, where: str) -> dict[str, Any]:
    """Parse and check a card file into CardText keyword arguments (only the keys it sets)."""
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        reason = f"{error.reason} at byte {error.start}"
        raise UsageError(f"{where}: not UTF-8 text ({reason})") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{where}: not valid TOML: {error}") from None
    values: dict[str, Any] = {}
    for key, value in document.items():
        if key in _SECTIONS:
            if not isinstance(value, dict):
                raise UsageError(f"{where}: key '{key}' must be a table ([{key}])")
            for sub_key, sub_value in value.items():
                _set(values, f"{key}.{sub_key}", sub_value, where)
        else:
            _set(values, key, value, where)
    return values


def _set(values: dict[str, Any], path: str, value: Any, where: str) -> None:
    if path not in _FIELDS:
        known = ", ".join(sorted(_FIELDS))
        raise UsageError(f"{where}: unknown key '{path}' (known keys: {known})")
    name, kind = _FIELDS[path]
    if kind == "text":
        values[name] = _text(value, path, where)
    elif kind == "texts":
        if not isinstance(value, list):
            raise UsageError(f"{where}: key '{path}' must be a list of strings")
        values[name] = tuple(_text(item, path, where) for item in value)
    else:
        values[name] = tuple(_risk(item, path, where) for item in _tables(value, path, where))


def _text(value: Any, path: str, where: str) -> str:
    # TOML has a native date type; the card stores dates as ISO text.
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise UsageError(f"{where}: key '{path}' must be a string, not {type(value).__name__}")
    return value.strip()


def _tables(value: Any, path: str, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise UsageError(f"{where}: key '{path}' must be an array of tables ([[{path}]])")
    return value


def _risk(table: dict[str, Any], path: str, where: str) -> Risk:
    for key in table:
        if key not in RISK_KEYS and key not in RISK_ALIASES:
            raise UsageError(f"{where}: unknown key '{path}.{key}' (known: risk, mitigation)")
    given = [key for key in ("risk", *RISK_ALIASES) if key in table]
    if not given:
        raise UsageError(f"{where}: an entry of '{path}' has no 'risk'")
    if len(given) > 1:
        raise UsageError(f"{where}: an entry of '{path}' has both 'risk' and 'name' (its "
                         "older spelling): keep 'risk'")
    mitigation = table.get("mitigation")
    return Risk(
        name=_text(table[given[0]], f"{path}.{given[0]}", where),
        mitigation=None if mitigation is None else _text(mitigation, f"{path}.mitigation", where),
    )
