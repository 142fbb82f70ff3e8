"""The model card as one self-contained HTML page: jinja2 template, inline CSS, inline SVG.

Autoescape is on for every value, and every value is printed through `shown`: invisible
characters (a right-to-left override, control characters) appear as their escapes
(text.py). The only markup let through unescaped is the card's own CSS and the chart SVGs
that charts.py draws, whose text is made visible the same way. The page fetches nothing:
no scripts, fonts, stylesheets or images from anywhere (a Content-Security-Policy meta tag
enforces it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from .. import __version__
from .text import visible

TEMPLATE = "card.html.j2"
STYLESHEET = "card.css"


def breakable(name: object) -> Markup:
    """`name` escaped, with a line-break opportunity after each underscore (narrow columns)."""
    return Markup("_<wbr>").join(Markup.escape(part) for part in visible(name).split("_"))


def shown(value: Any) -> Any:
    """A template value as printed (the environments' finalize): text with its invisible
    characters as escapes; markup the card built itself, numbers and None as they are."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return visible(value)


def card_environment() -> Environment:
    """The Jinja environment of the cards: autoescape, `shown` on every value, `breakable`."""
    environment = Environment(
        loader=PackageLoader("fairness_eval", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=shown,
    )
    environment.filters["breakable"] = breakable
    return environment


def render_html(
    context: Mapping[str, Any],
    charts: Mapping[str, Mapping[str, str | None]] | None = None,
    examples: Sequence[Mapping[str, Any]] = (),
) -> str:
    """The card page. `charts`: per attribute name, {"forest": svg, "distribution": svg}."""
    environment = card_environment()
    css = resources.files("fairness_eval").joinpath(f"templates/{STYLESHEET}").read_text("utf-8")
    safe_charts = {
        name: {kind: Markup(svg) for kind, svg in kinds.items() if svg}
        for name, kinds in (charts or {}).items()
    }
    return environment.get_template(TEMPLATE).render(
        **context,
        css=Markup(css),
        charts=safe_charts,
        examples=list(examples),
        generator_version=__version__,
    )
