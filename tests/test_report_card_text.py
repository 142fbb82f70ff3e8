"""Card text: the built-in MediaPipe default, user overrides field by field, strict keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from fairness_eval.errors import UsageError
from fairness_eval.report.card_text import Risk, load_card_text


def write(tmp_path: Path, text: str, name: str = "card.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_default_text_applies_to_the_selfie_models_and_to_tables_without_a_model():
    for name in ("selfie", "selfie-landscape", None):
        card = load_card_text(name)
        assert card.display_name == "MediaPipe Selfie Segmentation"
        assert card.license == "Apache-2.0"
        assert card.date == "2021-02-16"
        assert len(card.limitations) >= 3 and len(card.ethical) >= 2
        assert all(isinstance(r, Risk) and r.name for r in card.ethical)


def test_default_text_does_not_describe_another_model():
    card = load_card_text("my_segmenter.tflite")
    assert card.display_name is None and card.limitations == () and card.sources == ()


def test_user_file_overrides_only_the_fields_it_gives(tmp_path):
    path = write(tmp_path, """
[model]
display_name = "Selfie v2 (internal)"
date = 2024-05-01

[considerations]
limitations = ["Only tested indoors."]
""")
    card = load_card_text("selfie", path)
    assert card.display_name == "Selfie v2 (internal)"
    assert card.date == "2024-05-01"  # a TOML date becomes ISO text
    assert card.limitations == ("Only tested indoors.",)
    assert card.license == "Apache-2.0"  # kept from the default
    assert card.sources[0].startswith("built-in") and card.sources[1].startswith("card.toml")


def test_a_risk_is_keyed_risk_as_the_card_column_and_name_still_reads(tmp_path):
    path = write(tmp_path, """
[[considerations.ethical]]
risk = "Misuse"
mitigation = "Licence terms"

[[considerations.ethical]]
name = "Bias"
""")
    card = load_card_text("acme.tflite", path)
    assert card.ethical == (Risk("Misuse", "Licence terms"), Risk("Bias", None))


def test_user_file_alone_describes_another_model(tmp_path):
    path = write(tmp_path, """
[model]
display_name = "Acme Seg"

[[considerations.ethical]]
name = "Bias"
mitigation = "Evaluated per group"
""")
    card = load_card_text("acme.tflite", path)
    assert card.display_name == "Acme Seg"
    assert card.ethical == (Risk("Bias", "Evaluated per group"),)
    assert card.license is None


@pytest.mark.parametrize(("text", "key"), [
    ("[model]\nautors = ['x']\n", "model.autors"),
    ("colour = 'red'\n", "colour"),
    ("[[considerations.ethical]]\nname = 'a'\nseverity = 'high'\n",
     "considerations.ethical.severity"),
])
def test_unknown_keys_are_errors_naming_key_and_file(tmp_path, text, key):
    path = write(tmp_path, text)
    with pytest.raises(UsageError) as error:
        load_card_text("selfie", path)
    message = str(error.value)
    assert f"'{key}'" in message and str(path) in message and "\n" not in message


@pytest.mark.parametrize(("text", "fragment"), [
    ("[model]\nauthors = 'one person'\n", "'model.authors' must be a list of strings"),
    ("[model]\nlicense = 3\n", "'model.license' must be a string, not int"),
    ("model = 'x'\n", "'model' must be a table"),
    ("[considerations]\nethical = ['x']\n", "must be an array of tables"),
    ("[[considerations.ethical]]\nmitigation = 'm'\n", "has no 'risk'"),
    ("[[considerations.ethical]]\nrisk = 'a'\nname = 'b'\n", "has both 'risk' and 'name'"),
    ("[model\n", "not valid TOML"),
])
def test_malformed_values_are_errors(tmp_path, text, fragment):
    with pytest.raises(UsageError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        load_card_text("selfie", write(tmp_path, text))


def test_yaml_and_missing_files_are_refused_with_the_reason(tmp_path):
    with pytest.raises(UsageError, match="looks like YAML; card files are TOML"):
        load_card_text("selfie", write(tmp_path, "model: {}\n", "card.yaml"))
    with pytest.raises(UsageError, match="cannot read"):
        load_card_text("selfie", tmp_path / "absent.toml")
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('[model]\ndisplay_name = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(UsageError, match="not UTF-8"):
        load_card_text("selfie", bad)
