"""model_card.json validates against the Model Card Toolkit schema v0.0.2, writes figures as the
card does, carries the forest plots as graphics, and reads back through the toolkit itself.

The schema is read from ../shared/reference; the validator below covers the JSON-schema
features that schema uses (type, properties, additionalProperties, items, $ref, oneOf,
required, format date/uri, contentEncoding base64 with contentMediaType image/png), so no
jsonschema dependency is needed. The round trip runs the toolkit's own `ModelCard.from_json`
(which validates with jsonschema against the toolkit's packaged schema) in the python of
FAIRNESS_EVAL_MCT_PYTHON, else ./.venv-mct (made by .ci/run; see MCT_SETUP).
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import subprocess
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest
from report_helpers import SHARED, fixture_results, mediapipe_table_results

from fairness_eval.report.card_text import CardText, load_card_text
from fairness_eval.report.charts import PNG_DPI, forest_plot_png
from fairness_eval.report.mct import model_card_document

SCHEMA_PATH = SHARED / "reference" / "model_card_toolkit.schema.v0.0.2.json"
TYPES = {"object": dict, "array": list, "string": str, "boolean": bool,
         "number": (int, float), "integer": int}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TESTS = Path(__file__).resolve().parent
MCT_SETUP = ("python3 -m venv .venv-mct && .venv-mct/bin/pip install --no-deps "
             "model-card-toolkit==2.0.0 && .venv-mct/bin/pip install 'jsonschema<4' "
             "'protobuf<4' 'jinja2<3.2'")


def schema_errors(value, schema, root, where="$") -> list[str]:
    """Violations of `schema` by `value`, each with its JSON path."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/definitions/")
        return schema_errors(value, root["definitions"][name], root, where)
    errors = []
    expected = schema.get("type")
    if expected and (not isinstance(value, TYPES[expected])
                     or (expected in ("number", "integer") and isinstance(value, bool))):
        return [f"{where}: expected {expected}, got {type(value).__name__}"]
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{where}: missing required {key!r}")
        for key, item in value.items():
            if key in properties:
                errors += schema_errors(item, properties[key], root, f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{where}: unknown key {key!r}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            errors += schema_errors(item, schema["items"], root, f"{where}[{index}]")
    if "oneOf" in schema:
        matches = sum(not schema_errors(value, option, root, where)
                      for option in schema["oneOf"])
        if matches != 1:
            errors.append(f"{where}: matches {matches} of oneOf, not exactly 1")
    if schema.get("format") == "date" and isinstance(value, str):
        try:
            date.fromisoformat(value)
        except ValueError:
            errors.append(f"{where}: {value!r} is not a date")
    if (schema.get("format") == "uri" and isinstance(value, str)
            and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$", value)):
        errors.append(f"{where}: {value!r} is not a URI")
    if schema.get("contentEncoding") == "base64" and isinstance(value, str):
        try:
            content = base64.b64decode(value, validate=True)
        except ValueError:
            return [*errors, f"{where}: not base64"]
        if schema.get("contentMediaType") == "image/png" and not content.startswith(
                PNG_SIGNATURE):
            errors.append(f"{where}: not a PNG image")
    return errors


@pytest.fixture(scope="module")
def schema() -> dict:
    if not SCHEMA_PATH.is_file():
        pytest.fail(f"shared reference missing: {SCHEMA_PATH}")
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def run_card() -> dict:
    """The fixture run's export (drawn once: each forest plot takes about half a second)."""
    return model_card_document(fixture_results(), load_card_text("selfie"))


@pytest.fixture(scope="module")
def table_card() -> dict:
    return model_card_document(mediapipe_table_results(), load_card_text(None))


def _percent(value: float) -> str:
    return f"{100 * value:.2f} %"


def _signed_points(value: float) -> str:
    return f"{100 * value:+.2f} pt".replace("-", "−")


def test_the_validator_catches_what_the_schema_forbids(schema):
    good = {"schema_version": "0.0.2", "model_details": {"name": "m"}}
    assert schema_errors(good, schema, schema) == []
    assert schema_errors({**good, "verdicts": []}, schema, schema) == ["$: unknown key 'verdicts'"]
    bad_metric = {"quantitative_analysis": {"performance_metrics": [{"type": "IoU",
                                                                     "value": 0.9}]}}
    assert schema_errors(bad_metric, schema, schema) == [
        "$.quantitative_analysis.performance_metrics[0].value: expected string, got float"]
    both = {"model_details": {"licenses": [{"identifier": "MIT", "custom_text": "x"}]}}
    assert "oneOf" in schema_errors(both, schema, schema)[0]
    assert schema_errors({"model_details": {"version": {"date": "Feb 2021"}}}, schema, schema)
    where = "$.quantitative_analysis.graphics.collection[0].image"
    for image, problem in (("not base64!", "not base64"),
                           (base64.b64encode(b"<svg/>").decode(), "not a PNG image")):
        graphic = {"quantitative_analysis": {"graphics": {"collection": [
            {"name": "g", "image": image}]}}}
        assert schema_errors(graphic, schema, schema) == [f"{where}: {problem}"]


def test_run_card_validates_and_writes_figures_as_the_card_does(schema, run_card):
    results = fixture_results()
    assert schema_errors(run_card, schema, schema) == []
    json.dumps(run_card)  # JSON-ready
    metrics = run_card["quantitative_analysis"]["performance_metrics"]
    for name, attribute in results["attributes"].items():
        for group, g in attribute["groups"].items():
            slice_name = f"{name}: {group}"
            iou = [m for m in metrics if m.get("slice") == slice_name and m["type"] == "mean IoU"]
            assert iou == [{"type": "mean IoU", "value": _percent(g["value"]), "slice": slice_name,
                            "confidence_interval": {"lower_bound": _percent(g["ci"][0]),
                                                    "upper_bound": _percent(g["ci"][1])}}]
            deviation = [m for m in metrics if m.get("slice") == slice_name
                         and m["type"] == "deviation from reference"]
            assert deviation[0]["value"] == _signed_points(g["deviation"])
            assert deviation[0]["confidence_interval"]["upper_bound"] == _signed_points(
                g["deviation_ci"][1])
            images = [m["value"] for m in metrics
                      if m.get("slice") == slice_name and m["type"] == "images"]
            assert images == [str(g["n"])]
    female = {m["type"]: m for m in metrics if m.get("slice") == "bourdev_subcategory: Female"}
    assert female["mean IoU"]["value"] == "70.83 %"  # 0.708276... as the card's table shows it
    assert female["mean IoU"]["confidence_interval"] == {"lower_bound": "60.30 %",
                                                         "upper_bound": "79.46 %"}
    assert female["deviation from reference"]["value"] == "−7.12 pt"
    overall = metrics[0]
    assert overall["value"] == _percent(results["overall"]["value"]) and "slice" not in overall
    verdicts = {m["slice"]: m["value"] for m in metrics if m["type"] == "fairness verdict"}
    assert verdicts == {n: a["verdict"] for n, a in results["attributes"].items()}
    thresholds = {m["slice"]: m["value"] for m in metrics
                  if m["type"] == "criterion (b) threshold"}
    threshold_b = results["attributes"]["scene"]["criteria"]["b"]["threshold"]
    assert thresholds["scene"] == f"{100 * threshold_b:.2f} pt"
    details = run_card["model_details"]
    assert details["licenses"] == [{"identifier": "Apache-2.0"}]
    assert details["version"]["date"] == "2021-02-16"
    assert run_card["model_parameters"]["input_format"] == "1x256x256x3 float32"


def test_each_model_parameter_is_filled_once(run_card):
    # The toolkit heads input_format and input_format_map both "Input Format" (and the
    # output pair "Output Format"): one form each, or the heading shows twice.
    parameters = run_card["model_parameters"]
    for name in ("input_format", "output_format"):
        assert name in parameters and f"{name}_map" not in parameters
    assert parameters["output_format"].startswith("1x256x256x")


def test_graphics_are_the_cards_forest_plots_as_png(run_card):
    results = fixture_results()
    graphics = run_card["quantitative_analysis"]["graphics"]
    collection = graphics["collection"]
    assert [g["name"] for g in collection] == [
        f"{name}: IoU per group with 95% interval" for name in results["attributes"]]
    for graphic, (name, attribute) in zip(collection, results["attributes"].items(),
                                          strict=True):
        image = base64.b64decode(graphic["image"], validate=True)
        assert image == forest_plot_png(name, attribute, "95%")[0]  # drawn from the document
        pixels = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
        groups = len(attribute["groups"])
        assert pixels.shape[1] == 7 * PNG_DPI  # the card's 7-inch width
        assert abs(pixels.shape[0] - (1.45 + 0.26 * groups) * PNG_DPI) < 1  # one row per group
    assert "95% interval" in graphics["description"]
    without = model_card_document(results, load_card_text("selfie"), graphics=False)
    assert "graphics" not in without["quantitative_analysis"]


def test_published_table_card_validates(schema, table_card):
    assert schema_errors(table_card, schema, schema) == []
    metrics = table_card["quantitative_analysis"]["performance_metrics"]
    region = [m for m in metrics if m.get("slice", "").startswith("region: ")
              and m["type"] == "mean IoU"]
    assert len(region) == 17 and all("confidence_interval" not in m for m in region)
    assert metrics[0] == {"type": "mean IoU", "value": "96.57 %"}  # --average 96.57
    assert {"type": "inter-annotator IoU", "value": "98.74 %"} in metrics
    shares = {m["slice"]: m["value"] for m in metrics if m["type"] == "share of the dataset"}
    assert shares["gender: female"] == "47.55 %"
    assert [g["name"] for g in table_card["quantitative_analysis"]["graphics"]["collection"]] \
        == ["region: IoU per group", "skin_tone: IoU per group", "gender: IoU per group"]
    data = table_card["model_parameters"]["data"]
    assert data[0]["name"] == "mediapipe_selfie_2021_card"
    assert data[0]["description"].startswith("25 rows; path ")


def test_free_text_licence_and_bad_dates_stay_valid(schema):
    results = copy.deepcopy(fixture_results())
    card = CardText(display_name="X", license="Internal use only", date="spring 2024",
                    references=("not a uri", "https://example.org/card"))
    document = model_card_document(results, card, graphics=False)
    assert schema_errors(document, schema, schema) == []
    assert document["model_details"]["licenses"] == [{"custom_text": "Internal use only"}]
    assert "date" not in document["model_details"].get("version", {})
    assert document["model_details"]["references"] == [{"reference": "https://example.org/card"}]


def _mct_python() -> str | None:
    given = os.environ.get("FAIRNESS_EVAL_MCT_PYTHON")
    if given:
        return given
    local = TESTS.parent / ".venv-mct" / "bin" / "python"
    return str(local) if local.is_file() else None


def test_model_card_toolkit_reads_and_renders_the_export(run_card):
    python = _mct_python()
    if python is None:
        pytest.skip(f"Model Card Toolkit not installed: set FAIRNESS_EVAL_MCT_PYTHON or run "
                    f"{MCT_SETUP}")
    done = subprocess.run([python, str(TESTS / "mct_roundtrip.py")], input=json.dumps(run_card),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    read = json.loads(done.stdout)
    # Every key survives the toolkit's schema validation and its own typed reader.
    assert read["card"] == {k: v for k, v in run_card.items() if k != "schema_version"}
    assert read["unknown_key"].startswith("ValidationError: Additional properties")
    html = read["html"]
    # The toolkit prints a value, then its interval: the card's figures, in percent.
    rows = dict(re.findall(r"<tr><td>\s*(.*?)\s*</td><td>\s*(.*?)\s*</td></tr>", html, re.S))
    assert rows["mean IoU, bourdev_subcategory: Female"] == "70.83 % (60.30 %, 79.46 %)"
    assert rows["deviation from reference, bourdev_subcategory: Female"] == \
        "−7.12 pt (−14.40 pt, −0.70 pt)"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    images = re.findall(r"<img src='data:image/[a-z]+;base64,([^']+)' alt='([^']*)'", html)
    assert [alt for _, alt in images] == [g["name"] for g in
                                          run_card["quantitative_analysis"]["graphics"]["collection"]]
    assert all(base64.b64decode(data).startswith(PNG_SIGNATURE) for data, _ in images)
    for heading in ("Input Format", "Output Format"):
        assert html.count(f"<h3>{heading}</h3>") == 1, heading
