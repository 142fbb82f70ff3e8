"""The words `fairness-eval init` adds to the catalogues it writes from (`init.py`).

Each key's meaning is its option's `--help` text where the option has one; these tables say
only what no help text says: a few meanings, example values for keys without a default,
section titles, and what each card field is for. `init.py` stops (a test catches it) when
a key of a catalogue has no meaning here or there, so a new key cannot be left out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Meanings of the keys whose option has no --help text.
MORE_HELP = {
    "gate-on": "Which verdicts the gate reads: the bootstrap verdict (statistical) or the "
               "card's point-estimate verdict (point).",
    "ci-method": "How each bootstrap interval is computed: bias-corrected and accelerated "
                 "(bca) or percentile.",
}

# Example values of the keys without a default a file could spell.
EXAMPLES: dict[str, Any] = {
    "dataset": "data/eval",
    "model-spec": "specs/model.toml",
    "predictions": "predictions/",
    "out": "reports/run",
    "limit": 100,
    "sample": 100,
    "mask-person-value": 1,
    "workers": 4,
    "scheduler": "tcp://127.0.0.1:8786",
    "save-conditions": "degraded/",
    "adjust-for": "person_share",
    "attribute-votes": "votes.csv",
    "inter-annotator-iou": 0.9874,
    "card": "card.toml",
    "gate-on": "statistical",
    "max-drop": 0.01,
}

# Section titles of the run's keys, each before the key that opens it.
RUN_SECTIONS = {
    "dataset": "What is evaluated, and what predicts its masks",
    "out": "The run folder",
    "attribute": "Attributes (see also [attributes.NAME] below)",
    "threshold": "How masks are read",
    "threads": "Where the work runs",
    "max-pixels": "Which images are accepted, and what is measured",
    "conditions": "Capture conditions and confounders",
    "bootstrap": "Statistics",
    "reference": "The fairness criteria",
    "format": "The card",
    "gate": "The gate: exit 1 when a gated criterion is violated",
}

# What the severity of each capture condition is ({} is its symbol).
CONDITION_MEANINGS = {
    "dark": "dark: light scaled by {} in linear light (0.1 is a tenth of the light).",
    "noise": "noise: Gaussian noise of standard deviation {} on the 0-255 scale.",
    "blur": "blur: horizontal motion blur {} times the image's width long.",
    "jpeg": "jpeg: re-encoded as JPEG at quality {}.",
    "occluder": "occluder: a grey box covering a share {} of the person's bounding box.",
}

# What each field of card.toml is for, by its key path.
CARD_MEANINGS = {
    "applies_to_models": "The models this text describes, by registered name. The built-in "
                         "text uses it to apply only to its own models; in your file it is "
                         "recorded and changes nothing.",
    "model.display_name": "The model's name as the card's title shows it.",
    "model.overview": "What the model does, in a few sentences.",
    "model.version": "Which version or variant was evaluated.",
    "model.date": "When this version was released (a date or text).",
    "model.authors": "Who made the model.",
    "model.contact": "Where to send questions or reports (an address or a link).",
    "model.license": "The model's licence (an SPDX identifier or a link).",
    "model.architecture": "How the model is built (network, input size).",
    "model.documentation": "A link to the model's documentation.",
    "model.references": "Links to papers, model cards or pages about the model.",
    "model.citation": "How to cite the model.",
    "intended_use.primary_uses": "What the model is for.",
    "intended_use.primary_users": "Who is meant to use it.",
    "intended_use.out_of_scope": "Uses the model is not for.",
    "considerations.limitations": "Where the model is known to fall short.",
    "considerations.tradeoffs": "What was given up for what (size, speed, accuracy).",
    "considerations.ethical": "Ethical risks: each a `[[considerations.ethical]]` table with "
                              "`risk` (the card's Risk column; `name`, the older spelling, is "
                              "read as `risk`) and optionally `mitigation` (its Mitigation "
                              "column).",
}

_TEXT_EXAMPLES = {
    "model.display_name": "My person segmentation model",
    "model.date": "2026-01-31",
    "model.contact": "https://example.com/issues",
    "model.license": "Apache-2.0",
    "model.documentation": "https://example.com/docs",
    "applies_to_models": "selfie",
    "model.references": "https://example.com/paper",
}


def card_example(path: str, kind: str, toml: Callable[[Any], str]) -> list[str]:
    """The example lines of one card field (to be commented out), by its kind."""
    key = path.rpartition(".")[2]
    if kind == "risks":
        return [f"[[{path}]]", f"risk = {toml('A risk to people')}",
                f"mitigation = {toml('How it is addressed')}"]
    text = _TEXT_EXAMPLES.get(path, "...")
    if kind == "text":
        return [f"{key} = {toml(text)}"]
    return [f"{key} = {toml([text])}"]


__all__ = ["CARD_MEANINGS", "CONDITION_MEANINGS", "EXAMPLES", "MORE_HELP", "RUN_SECTIONS",
           "card_example"]
