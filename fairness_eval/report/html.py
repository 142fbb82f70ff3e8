"""The model card as one self-contained HTML page: jinja2 template, inline CSS, inline SVG.

Autoescape is on for every value; the only markup let through unescaped is the card's own
CSS and the chart SVGs that charts.py draws. The page fetches nothing: no scripts, fonts,
stylesheets or images from anywhere (a Content-Security-Policy meta tag enforces it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from .. import __version__

TEMPLATE = "card.html.j2"
STYLESHEET = "card.css"


def breakable(name: object) -> Markup:
    """`name` escaped, with a line-break opportunity after each underscore (narrow columns)."""
    return Markup("_<wbr>").join(Markup.escape(part) for part in str(name).split("_"))


def render_html(
    context: Mapping[str, Any],
    charts: Mapping[str, Mapping[str, str | None]] | None = None,
    examples: Sequence[Mapping[str, Any]] = (),
) -> str:
    """The card page. `charts`: per attribute name, {"forest": svg, "distribution": svg}."""
    environment = Environment(
        loader=PackageLoader("fairness_eval", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["breakable"] = breakable
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
