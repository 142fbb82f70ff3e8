"""Run by the Model Card Toolkit's own python (tests/test_report_mct.py): read a
model_card.json from stdin with `ModelCard().from_json` (which validates it against the
toolkit's packaged schema), render the toolkit's default HTML template, and print JSON:
{"card": the toolkit's to_dict() of what it read, "html": the rendered template,
"unknown_key": the toolkit's error for a document with a key the schema does not know}.

The toolkit is installed with --no-deps (its TensorFlow dependencies are not needed to read
a card), so its package __init__ (which imports them) is bypassed: only `model_card` and
the `utils.validation` it needs are loaded. The default template is rendered as the
toolkit's `ModelCardToolkit.export_format` renders it.
"""

import importlib
import importlib.util
import json
import sys
from pathlib import Path

for package in ("model_card_toolkit", "model_card_toolkit.utils"):
    sys.modules[package] = importlib.util.module_from_spec(importlib.util.find_spec(package))
model_card = importlib.import_module("model_card_toolkit.model_card")

import jinja2  # noqa: E402

document = json.load(sys.stdin)
card = model_card.ModelCard()
card.from_json(document)

root = Path(importlib.util.find_spec("model_card_toolkit").submodule_search_locations[0])
environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(root / "template/html")),
                                 autoescape=True)
html = environment.get_template("default_template.html.jinja").render(
    model_details=card.model_details, model_parameters=card.model_parameters,
    quantitative_analysis=card.quantitative_analysis, considerations=card.considerations)

try:
    model_card.ModelCard().from_json({**document, "verdicts": []})
    unknown_key = None
except Exception as error:  # jsonschema's ValidationError
    unknown_key = f"{type(error).__name__}: {str(error).splitlines()[0]}"

json.dump({"card": card.to_dict(), "html": html, "unknown_key": unknown_key}, sys.stdout)
