"""model_card.json validates against the Model Card Toolkit schema v0.0.2.

The schema is read from ../shared/reference; the validator below covers the JSON-schema
features that schema uses (type, properties, additionalProperties, items, $ref, oneOf,
required, format date/uri), so no jsonschema dependency is needed.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date

import pytest
from report_helpers import SHARED, fixture_results, mediapipe_table_results

from fairness_eval.report.card_text import CardText, load_card_text
from fairness_eval.report.mct import model_card_document

SCHEMA_PATH = SHARED / "reference" / "model_card_toolkit.schema.v0.0.2.json"
TYPES = {"object": dict, "array": list, "string": str, "boolean": bool,
         "number": (int, float), "integer": int}


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
    return errors


@pytest.fixture(scope="module")
def schema() -> dict:
    if not SCHEMA_PATH.is_file():
        pytest.fail(f"shared reference missing: {SCHEMA_PATH}")
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


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


def test_run_card_validates_and_carries_every_group(schema):
    results = fixture_results()
    document = model_card_document(results, load_card_text("selfie"))
    assert schema_errors(document, schema, schema) == []
    json.dumps(document)  # JSON-ready
    metrics = document["quantitative_analysis"]["performance_metrics"]
    for name, attribute in results["attributes"].items():
        for group, g in attribute["groups"].items():
            iou = [m for m in metrics
                   if m.get("slice") == f"{name}: {group}" and m["type"] == "mean IoU"]
            assert len(iou) == 1
            assert float(iou[0]["value"]) == g["value"]
            bounds = iou[0]["confidence_interval"]
            assert [float(bounds["lower_bound"]), float(bounds["upper_bound"])] == g["ci"]
    verdicts = {m["slice"]: m["value"] for m in metrics if m["type"] == "fairness verdict"}
    assert verdicts == {n: a["verdict"] for n, a in results["attributes"].items()}
    details = document["model_details"]
    assert details["licenses"] == [{"identifier": "Apache-2.0"}]
    assert details["version"]["date"] == "2021-02-16"
    assert document["model_parameters"]["input_format"] == "1x256x256x3 float32"


def test_published_table_card_validates(schema):
    document = model_card_document(mediapipe_table_results(), load_card_text(None))
    assert schema_errors(document, schema, schema) == []
    metrics = document["quantitative_analysis"]["performance_metrics"]
    region = [m for m in metrics if m.get("slice", "").startswith("region: ")
              and m["type"] == "mean IoU"]
    assert len(region) == 17 and all("confidence_interval" not in m for m in region)


def test_free_text_licence_and_bad_dates_stay_valid(schema):
    results = copy.deepcopy(fixture_results())
    card = CardText(display_name="X", license="Internal use only", date="spring 2024",
                    references=("not a uri", "https://example.org/card"))
    document = model_card_document(results, card)
    assert schema_errors(document, schema, schema) == []
    assert document["model_details"]["licenses"] == [{"custom_text": "Internal use only"}]
    assert "date" not in document["model_details"].get("version", {})
    assert document["model_details"]["references"] == [{"reference": "https://example.org/card"}]
