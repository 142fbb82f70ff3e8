"""`fairness-eval init`: a new project's starting files, generated from the readers' catalogues.

`init_project(folder)` writes three files and nothing else:

- `fairness-eval.toml`: every key of the configuration file, commented out, with its
  meaning and default. The keys come from the key tables the configuration reader uses
  (`config/file_keys.py`), each meaning from the `--help` text of the option the key sets,
  each default from the settings record the reader fills, so the file cannot list a key the
  reader refuses, nor miss one it accepts. Only `card = "card.toml"` is set.
- `card.toml`: every field of the card text (`report/card_text.py`'s catalogue), commented
  out, with its meaning; left as it is, the card keeps its built-in text.
- `.github/workflows/fairness.yml`: installs fairness-eval, runs the gate on each pull
  request, uploads the card and relies on the run's own step summary.

A file already there is never replaced: if any of the three exists, nothing is written.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any

from .. import __version__
from ..config.files import CONFIG_FILE_NAME
from ..errors import UsageError
from .init_texts import (
    CARD_MEANINGS,
    CONDITION_MEANINGS,
    EXAMPLES,
    MORE_HELP,
    RUN_SECTIONS,
    card_example,
)
from .outcomes import EXIT_OK

CARD_FILE = "card.toml"
WORKFLOW_FILE = ".github/workflows/fairness.yml"
DEFAULT_DATASET = "data/eval"
WIDTH = 88  # comment lines are wrapped here


@dataclass(frozen=True)
class InitResult:
    """The files `init` wrote, in the order written."""

    folder: Path
    written: tuple[Path, ...]
    exit_code: int = EXIT_OK


def init_project(folder: Path | str = ".", *, dataset: str | None = None,
                 echo: Callable[[str], None] = print) -> InitResult:
    """Write fairness-eval.toml, card.toml and .github/workflows/fairness.yml into `folder`.

    `dataset` is the dataset the CI workflow evaluates (default `data/eval`, relative to
    the repository root). UsageError, before anything is written, when any of the files
    already exists.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"init: {folder} is not a folder")
    files = {
        folder / CONFIG_FILE_NAME: config_file_text(dataset or DEFAULT_DATASET),
        folder / CARD_FILE: card_file_text(),
        folder / WORKFLOW_FILE: workflow_file_text(dataset or DEFAULT_DATASET),
    }
    for path in files:
        if path.exists() or path.is_symlink():
            raise UsageError(f"init: {path} already exists; nothing was written (move it "
                             "away, or init another folder)")
    written: list[Path] = []
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            # "x": a file that appeared since the check above is not replaced either.
            with open(path, "x", encoding="utf-8") as handle:
                written.append(path)
                handle.write(text)
    except OSError as error:
        for path in written:  # all or nothing: a half-made project is harder to read
            path.unlink(missing_ok=True)
        where = error.filename or folder
        raise UsageError(f"init: cannot write {where}: {error.strerror or error}; nothing "
                         "was kept") from None
    for path in written:
        echo(f"wrote {path}")
    echo(f"next: fairness-eval run --dataset DATASET (in {folder}), or commit the files "
         "and open a pull request")
    return InitResult(folder=folder, written=tuple(written))


# --- fairness-eval.toml ---------------------------------------------------------------


def config_file_text(dataset: str = DEFAULT_DATASET) -> str:
    """The commented `fairness-eval.toml`: every key of every table, with meaning and default
    (`dataset`: the example value of its `dataset` key)."""
    from ..config.command_options import CheckOptions, CompareOptions
    from ..config.file_keys import ATTRIBUTE_KEYS, CHECK_KEYS, COMPARE_KEYS, RUN_KEYS
    from ..config.settings import Settings

    helps = _option_help()
    lines = [
        "# fairness-eval's settings for this project (written by `fairness-eval init`).",
        "# Every key is an option of `fairness-eval run` by its long name, shown with its",
        "# default: uncomment a key to set it. An option typed on the command line wins",
        "# over this file. Relative paths are relative to this file's folder.",
        "",
    ]
    for key, (field_name, _) in _unique(RUN_KEYS).items():
        if key in RUN_SECTIONS:
            lines += _heading(RUN_SECTIONS[key])
        if key == "card":  # the one key set: the card.toml written beside this file
            lines += _comment("The card.toml beside this file: its fields, once set, "
                              "replace the card's built-in text.")
        value = CARD_FILE if key == "card" else None
        lines += _key_lines(key, field_name, Settings, helps["run"], set_value=value,
                            aliases=_aliases(RUN_KEYS, field_name, key),
                            example=dataset if key == "dataset" else None)
        if key == "model-spec":
            lines += [*_comment("A [model] table (the keys of a model spec) may stand "
                                "instead of model-spec; give only one of model, "
                                "model-spec and predictions."), ""]
    lines += _attribute_lines(ATTRIBUTE_KEYS)
    lines += _condition_lines()
    for table, keys, record in (("check", CHECK_KEYS, CheckOptions),
                                ("compare", COMPARE_KEYS, CompareOptions)):
        lines += _heading(f"[{table}]: options of `fairness-eval {table}`")
        lines.append(f"[{table}]")
        for key, (field_name, _) in _unique(keys).items():
            lines += _key_lines(key, field_name, record, helps[table],
                                aliases=_aliases(keys, field_name, key))
    return "\n".join(lines).rstrip() + "\n"


def _option_help() -> dict[str, dict[str, tuple[str, str | None]]]:
    """command -> option name -> (its --help text, its choices metavar): one source of
    meaning for the command line and this file."""
    import click

    from ..cli import cli  # imported here: cli imports the workflow package

    out: dict[str, dict[str, tuple[str, str | None]]] = {}
    for command in ("run", "check", "compare"):
        helps: dict[str, tuple[str, str | None]] = {}
        for param in cli.commands[command].params:
            if isinstance(param, click.Option):
                metavar = param.metavar if (param.metavar or "").startswith("[") else None
                for name in param.opts:
                    helps[name.lstrip("-")] = (param.help or "", metavar)
        out[command] = helps
    return out


def _unique(keys: Mapping[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """The first key of each field (`threshold`, not its alias `mask-threshold`)."""
    seen: set[str] = set()
    out = {}
    for key, (field_name, kind) in keys.items():
        if field_name not in seen:
            seen.add(field_name)
            out[key] = (field_name, kind)
    return out


def _aliases(keys: Mapping[str, tuple[str, str]], field_name: str, key: str) -> list[str]:
    return [other for other, (name, _) in keys.items() if name == field_name and other != key]


def _key_lines(key: str, field_name: str, record: type, helps: Mapping[str, Any], *,
               set_value: Any = None, aliases: list[str] | None = None,
               example: Any = None) -> list[str]:
    text, metavar = helps.get(key, ("", None))
    text = text or MORE_HELP.get(key, "")
    if not text:
        raise AssertionError(f"init: no meaning for the configuration key {key!r}: give its "
                             "option a --help text, or the key a line in MORE_HELP")
    if metavar:
        text += f" One of: {', '.join(metavar.strip('[]').split('|'))}."
    if aliases:
        text += f" Also spelled {', '.join(aliases)}."
    default = _default(record, field_name)
    if default is MISSING:
        if "default" not in text.lower():  # the help text says what unset means
            text += " Default: unset."
        example = EXAMPLES.get(key) if example is None else example
        if example is None:
            raise AssertionError(f"init: no example value for the configuration key {key!r}")
    else:
        text += f" Default: {_toml(default)}."
        example = default
    value_line = (f"{key} = {_toml(set_value)}" if set_value is not None
                  else f"# {key} = {_toml(example)}")
    return [*_comment(text), value_line, ""]


def _default(record: type, field_name: str) -> Any:
    """A record field's default, or MISSING when it has none a file could spell (None, or
    one computed when the record is made: the number of cores)."""
    item = next((f for f in fields(record) if f.name == field_name), None)
    if item is None or item.default is MISSING or item.default is None:
        return MISSING
    return item.default


def _attribute_lines(keys: Mapping[str, tuple[str, str]]) -> list[str]:
    from ..results.names import CRITERIA
    from ..results.vocabularies import standard_vocabularies

    lines = _heading("[attributes.NAME]: settings of one attribute (a column of the dataset)")
    lines += _comment("Any column of attributes.csv (or of a manifest) is an attribute. The "
                      "standard ones are checked against their vocabularies (values are "
                      "matched case-insensitively; a value outside them is a problem of its "
                      "row):")
    for vocabulary in standard_vocabularies().values():
        lines += _comment(f"{vocabulary.name}: {vocabulary.description}", indent="  ")
        width = max(len(value) for value in vocabulary.values)
        lines += [f"#     {value.ljust(width)}  {meaning}"
                  for value, meaning in vocabulary.values.items()]
    meanings = {
        "gate": f"The criteria the gate checks for this attribute, of {', '.join(CRITERIA)}: (a) "
                "a group further than sd-factor standard deviations from the reference, (b) "
                "a group further than the inter-annotator IoU's shortfall from it; [] "
                "reports the attribute without gating it.",
        "min-group-size": "This attribute's own minimum group size (default: min-group-size).",
        "intersect": "Also evaluate this attribute crossed with each of these.",
        "votes": "\"counts\": the attribute's labels come from count columns NAME_VALUE of "
                 "attributes.csv, each holding how many annotators chose VALUE (FACET's way); "
                 "--labels says how the votes become one label.",
        "vocabulary": "The vocabulary the values follow, when not the attribute's own name's "
                      "(e.g. mst, the Monk Skin Tone scale, for a column skin_tone).",
        "bins": "Groups of an ordinal scale's values, each a range LOW-HIGH or one value, "
                "covering the scale once in order; the groups are judged instead of the "
                "values.",
    }
    examples = {"gate": list(CRITERIA), "min-group-size": 30, "intersect": ["skin_tone"],
                "votes": "counts", "vocabulary": "mst", "bins": ["1-3", "4-7", "8-10"]}
    lines += ["#", "# Uncomment the table's header line with its keys:", "#",
              "# [attributes.region]"]
    for key in keys:
        if key not in meanings:
            raise AssertionError(f"init: no meaning for the key 'attributes.NAME.{key}'")
        lines += _comment(meanings[key]) + [f"# {key} = {_toml(examples[key])}"]
    return lines


def _condition_lines() -> list[str]:
    from ..conditions.perturb import CONDITIONS, DEFAULT_SEVERITIES, SEVERITY_NAMES

    lines = _heading("[conditions]: the severities of each capture condition")
    lines += _comment("Each condition listed is evaluated at these severities (instead of "
                      "`conditions = [...]`, which takes the defaults shown). Uncomment the "
                      "header line with the conditions you want:")
    lines += ["#", "# [conditions]"]
    for name in CONDITIONS:
        if name not in CONDITION_MEANINGS:
            raise AssertionError(f"init: no meaning for the condition {name!r}")
        meaning = CONDITION_MEANINGS[name].format(SEVERITY_NAMES[name])
        lines += _comment(meaning) + [f"# {name} = {_toml(list(DEFAULT_SEVERITIES[name]))}"]
    return lines


def _heading(title: str) -> list[str]:
    return ["", "# " + "-" * (WIDTH - 2), f"# {title}", "# " + "-" * (WIDTH - 2), ""]


def _comment(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent="# " + indent,
                         subsequent_indent="# " + indent + ("  " if indent else ""),
                         break_on_hyphens=False, break_long_words=False)


def _toml(value: Any) -> str:
    """A value as TOML writes it (basic strings are JSON strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (str, Path)):
        return json.dumps(str(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")  # pragma: no cover


# --- card.toml --------------------------------------------------------------------------


def card_file_text() -> str:
    """The commented `card.toml`: every field the card reader accepts, with its meaning."""
    from ..report.card_text import CARD_KEYS

    lines = [
        "# The card's words (written by `fairness-eval init`): what the model is, what it is",
        "# for and where it falls short. The numbers come from the run; these fields say",
        "# what they cannot. Uncomment a field to set it: it replaces the built-in text (the",
        "# MediaPipe selfie model's, used when that model is evaluated) field by field; a",
        "# field left commented keeps it, or reads \"not provided\" for any other model.",
        "# Used by `fairness-eval run` through `card = \"card.toml\"` in fairness-eval.toml,",
        "# or by any command with --card card.toml.",
    ]
    sections: dict[str, list[tuple[str, str]]] = {}
    for path, (_, kind) in CARD_KEYS.items():
        section, _, key = path.rpartition(".")
        sections.setdefault(section, []).append((key, kind))
    for section, keys in sections.items():
        lines.append("")
        if section:
            lines.append(f"[{section}]")
        # An array of tables closes its section: keys after it would belong to it.
        for key, kind in sorted(keys, key=lambda item: item[1] == "risks"):
            path = f"{section}.{key}" if section else key
            if path not in CARD_MEANINGS:
                raise AssertionError(f"init: no meaning for the card field {path!r}")
            lines += _comment(CARD_MEANINGS[path])
            lines += [f"# {line}" for line in card_example(path, kind, _toml)]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# --- .github/workflows/fairness.yml -----------------------------------------------------


def workflow_file_text(dataset: str) -> str:
    """The GitHub Actions workflow that gates each pull request on the dataset."""
    if any(char in dataset for char in "\"\n\r\\$`") or dataset.strip() != dataset:
        raise UsageError(f"init: --dataset {dataset!r}: use a plain relative path (no quotes, "
                         "backslashes, $ or line breaks) for the workflow file")
    dataset_path = Path(dataset)
    if dataset_path.is_absolute():
        raise UsageError(f"init: --dataset {dataset}: give a path relative to the repository "
                         "root (CI checks the repository out elsewhere)")
    return WORKFLOW_TEMPLATE.format(version=__version__, dataset=dataset.replace(os.sep, "/"))


WORKFLOW_TEMPLATE = """\
# Gates every pull request on the fairness criteria (written by `fairness-eval init`).
# The run reads ./fairness-eval.toml (attributes, criteria, what is gated), fails this
# job when a gated criterion is violated (exit 1) or nothing could be gated (exit 2),
# writes its verdict table into the job's summary, and the card is kept as an artifact.
name: fairness

on:
  pull_request:
  workflow_dispatch:

permissions:
  contents: read

jobs:
  fairness:
    runs-on: ubuntu-latest
    timeout-minutes: 60
    env:
      # The evaluation set, relative to the repository root.
      DATASET: "{dataset}"
      RUN_DIR: reports/fairness
      # What pip installs. fairness-eval is not on PyPI: point this at your copy, e.g.
      # "fairness-eval @ git+https://github.com/YOUR-ORG/fairness-eval@v{version}".
      FAIRNESS_EVAL: "fairness-eval=={version}"
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install fairness-eval
        run: |
          # WeasyPrint draws the PDF card with pango.
          sudo apt-get update -qq
          sudo apt-get install -y -qq --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0
          python -m pip install "$FAIRNESS_EVAL"
      - uses: actions/cache@v4  # the pulled model files
        with:
          path: ~/.cache/fairness-eval
          key: fairness-eval-models-{version}
      - name: Fairness gate
        # Under GitHub Actions the run also prints the failing groups as annotations and
        # appends its verdict table to the step summary.
        run: fairness-eval run --dataset "$DATASET" --out "$RUN_DIR" --gate
      - name: Upload the model card
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: model-card
          path: |
            ${{{{ env.RUN_DIR }}}}/model_card.html
            ${{{{ env.RUN_DIR }}}}/model_card.pdf
            ${{{{ env.RUN_DIR }}}}/results.json
            ${{{{ env.RUN_DIR }}}}/junit.xml
          if-no-files-found: warn
"""


__all__ = ["CARD_FILE", "DEFAULT_DATASET", "WORKFLOW_FILE", "InitResult", "card_file_text",
           "config_file_text", "init_project", "workflow_file_text"]
