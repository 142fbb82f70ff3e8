"""Configuration files: discovery, layout, type and key errors, precedence, and the hash."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from fairness_eval.config.files import find_config_file, load_config
from fairness_eval.config.merge import (
    merge_check_options,
    merge_compare_options,
    merge_run_settings,
    resolve_dataset,
)
from fairness_eval.config.recording import config_entry, config_sha256, effective_config
from fairness_eval.config.settings import Settings
from fairness_eval.errors import UsageError

FULL = """
dataset = "data/voc"
model = "models/mine.tflite"
attribute = ["region", "skin_tone"]
threshold = 0.4
seed = 7
bootstrap = 2000
ci-method = "percentile"
min_group_size = 40
inter-annotator-iou = 98.74
format = ["html", "md"]
gate = true
strict = false
gate-on = "point"

[check]
strict = true

[compare]
max-drop = 0.01
out = "comparisons"

[attributes.region]
gate = ["b"]
min-group-size = 50
intersect = ["skin_tone"]

[attributes.gender]
gate = []
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_full_file_is_read_converted_and_resolved_relative_to_its_folder(tmp_path):
    path = write(tmp_path, "fairness-eval.toml", FULL)
    config = load_config(cwd=tmp_path)
    assert config.source == path and config.label == "fairness-eval.toml"
    assert config.dataset == tmp_path / "data" / "voc"
    settings = merge_run_settings(config, {})
    assert settings.model == str(tmp_path / "models" / "mine.tflite")
    assert settings.attributes == ("region", "skin_tone")
    assert settings.mask_threshold == 0.4 and settings.seed == 7 and settings.bootstrap == 2000
    assert settings.ci_method == "percentile" and settings.min_group_size == 40
    assert settings.inter_annotator_iou == pytest.approx(0.9874)  # percentage accepted
    assert settings.formats == ("html", "md") and settings.gate and settings.gate_on == "point"
    assert settings.intersect == (("region", "skin_tone"),)
    assert settings.min_group_size_for("region") == 50
    assert settings.min_group_size_for("skin_tone") == 40
    assert settings.gated_criteria_for("region") == ("b",)
    assert settings.gated_criteria_for("gender") == ()
    assert settings.gated_criteria_for("skin_tone") == ("a", "b")
    compare = merge_compare_options(config, {})
    assert compare.max_drop == 0.01 and compare.out == tmp_path / "comparisons"
    assert compare.gate_on == "point"  # falls back to the run's gate-on


def test_cli_values_override_file_values_and_file_overrides_defaults(tmp_path):
    config = load_config(write(tmp_path, "fairness-eval.toml", FULL))
    settings = merge_run_settings(config, {"threshold": 0.6, "attribute": ("gender",),
                                           "intersect": ()})
    assert settings.mask_threshold == 0.6  # CLI
    assert settings.attributes == ("gender",)  # CLI, by option name
    assert settings.intersect == ()  # --intersect given: replaces the file's crossings
    assert settings.seed == 7  # file
    assert settings.sd_factor == 3.0  # default
    same = merge_run_settings(config, {"attributes": ("gender",), "min_group_size": 10})
    assert same.attributes == ("gender",) and same.min_group_size == 10


def test_without_a_file_everything_is_default(tmp_path):
    config = load_config(cwd=tmp_path)
    assert config.source is None and config.label is None
    settings = merge_run_settings(config, {"seed": 3})
    assert settings.seed == 3 and settings.mask_threshold == Settings().mask_threshold
    with pytest.raises(UsageError, match="--dataset"):
        resolve_dataset(config, None)
    assert resolve_dataset(config, "x") == Path("x")


def test_pyproject_table_is_found_and_own_file_wins(tmp_path):
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n\n[tool.fairness-eval]\nseed = 5\n')
    config = load_config(cwd=tmp_path)
    assert config.label == "pyproject.toml [tool.fairness-eval]"
    assert merge_run_settings(config, {}).seed == 5
    write(tmp_path, "fairness-eval.toml", "seed = 9\n")
    assert find_config_file(tmp_path) == tmp_path / "fairness-eval.toml"
    assert merge_run_settings(load_config(cwd=tmp_path), {}).seed == 9


def test_pyproject_without_our_table_is_not_a_config(tmp_path):
    path = write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n')
    assert find_config_file(tmp_path) is None
    with pytest.raises(UsageError, match=r"no \[tool.fairness-eval\] table"):
        load_config(path)


def test_explicit_file_of_any_name(tmp_path):
    path = write(tmp_path, "ci.toml", "[check]\ngate-on = 'point'\n")
    assert merge_check_options(load_config(path), {}).gate_on == "point"
    with pytest.raises(UsageError, match="no such file"):
        load_config(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("thresold = 0.5\n", "thresold", "unknown key"),
        ("[check]\nmax-drop = 0.1\n", "check.max-drop", "unknown key"),
        ("[compare]\nstrict = true\n", "compare.strict", "unknown key"),
        ("[attributes.region]\ngated = ['a']\n", "attributes.region.gated", "unknown key"),
        ("[report]\nx = 1\n", "report", "unknown key"),
        ("threshold = 'high'\n", "threshold", "must be a number, got string 'high'"),
        ("seed = 1.5\n", "seed", "must be an integer, got number 1.5"),
        ("bootstrap = true\n", "bootstrap", "must be an integer, got boolean True"),
        ("gate = 'yes'\n", "gate", "must be true or false"),
        ("attribute = [1, 2]\n", "attribute", "must be a list of strings"),
        ("intersect = ['region']\n", "intersect", "crosses fewer than two attributes"),
        ("intersect = [1]\n", "intersect", "must be a list such as"),
        ("dataset = 3\n", "dataset", "must be a path"),
        ("check = 3\n", "check", "must be a table"),
        ("attributes = ['region']\n", "attributes", "must be a table"),
        ("[attributes]\nregion = 1\n", "attributes.region", "must be a table"),
        ("[attributes.region]\ngate = ['c']\n", "attributes.region.gate", "criteria are"),
        ("[attributes.region]\nmin-group-size = 0\n", "attributes.region.min-group-size",
         "0 must be at least 1"),
        ("threshold = 2\n", "threshold", "must lie in (0, 1)"),
        ("ci-method = 'studentized'\n", "ci-method", "is not one of bca, percentile"),
        ("[check]\ngate-on = 'vibes'\n", "check.gate-on", "is not one of statistical, point"),
        ("[compare]\nmax-drop = -0.1\n", "compare.max-drop", "must be at least 0"),
        ("mask-threshold = 0\n", "mask-threshold", "must lie in (0, 1)"),
        ("threshold = 0.4\nmask-threshold = 0.5\n", "mask-threshold", "given twice"),
        ("bootstrap = 2000000\n", "bootstrap", "must be at most 1000000"),
        ("sd-ddof = 2\n", "sd-ddof", "must be 0 (population SD) or 1"),
        ("inter-annotator-iou = 0\n", "inter-annotator-iou", "must be above 0"),
        ("format = ['docx']\n", "format", "unknown format(s) docx"),
        ("seed = 1\nseed_ = 2\n", "seed_", "unknown key"),
        ("min-group-size = 1\nmin_group_size = 2\n", "min_group_size", "given twice"),
    ],
)
def test_bad_keys_and_values_name_the_key_and_the_file(tmp_path, text, key, expected):
    path = write(tmp_path, "fairness-eval.toml", text)
    with pytest.raises(UsageError) as error:
        load_config(cwd=tmp_path)
    message = str(error.value)
    assert message.startswith(str(path)), message
    assert f"'{key}'" in message and expected in message, message


def test_invalid_toml_names_the_file(tmp_path):
    path = write(tmp_path, "fairness-eval.toml", "threshold = \n")
    with pytest.raises(UsageError, match="not valid TOML") as error:
        load_config(cwd=tmp_path)
    assert str(path) in str(error.value)


def test_bad_cli_value_is_still_validated(tmp_path):
    with pytest.raises(UsageError, match="--threshold"):
        merge_run_settings(load_config(cwd=tmp_path), {"threshold": 1.5})


def test_unknown_cli_option_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError, match="no option 'thresold'"):
        merge_run_settings(load_config(cwd=tmp_path), {"thresold": 0.5})


def test_check_options_precedence(tmp_path):
    write(tmp_path, "fairness-eval.toml",
          "strict = true\ngate-on = 'point'\n[check]\ngate-on = 'statistical'\n"
          "[attributes.region]\ngate = ['a']\n")
    config = load_config(cwd=tmp_path)
    options = merge_check_options(config, {})
    assert options.strict is True  # top-level run value
    assert options.gate_on == "statistical"  # [check] beats top level
    assert options.gated == {"region": ("a",)}
    assert merge_check_options(config, {"strict": False, "gate_on": "point"}).strict is False
    assert merge_check_options(load_config(cwd=tmp_path / "nowhere"), {}).gated is None
    with pytest.raises(UsageError, match="--gate-on"):
        merge_check_options(config, {"gate-on": "bad"})


def test_compare_options_defaults_and_validation(tmp_path):
    empty = load_config(cwd=tmp_path)
    options = merge_compare_options(empty, {})
    assert options.max_drop is None and options.out is None and options.gate_on == "statistical"
    assert merge_compare_options(empty, {"max_drop": 0.02, "out": "x"}).out == Path("x")
    with pytest.raises(UsageError, match="--max-drop"):
        merge_compare_options(empty, {"max-drop": -1.0})


def test_config_hash_is_canonical_json_and_ignores_where_the_run_goes(tmp_path):
    config = load_config(write(tmp_path, "fairness-eval.toml", "seed = 3\nthreshold = 0.4\n"))
    one = merge_run_settings(config, {"out": tmp_path / "a", "workers": 1})
    two = merge_run_settings(config, {"out": tmp_path / "b", "workers": 8, "overwrite": True})
    entry = config_entry(config, one)
    assert entry["source"] == "fairness-eval.toml"
    assert entry["sha256"] == config_entry(config, two)["sha256"]
    assert "out" not in entry["effective"] and entry["effective"]["seed"] == 3
    canonical = json.dumps(entry["effective"], sort_keys=True, separators=(",", ":"))
    assert entry["sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    # Key order in the file does not matter; a value does.
    reordered = load_config(write(tmp_path, "b.toml", "threshold = 0.4\nseed = 3\n"))
    assert config_entry(reordered, merge_run_settings(reordered, {}))["sha256"] == entry["sha256"]
    changed = merge_run_settings(config, {"threshold": 0.41})
    assert config_sha256(effective_config(changed)) != entry["sha256"]


def test_per_attribute_settings_are_recorded_in_the_settings_dict(tmp_path):
    config = load_config(write(tmp_path, "fairness-eval.toml", FULL))
    recorded = merge_run_settings(config, {}).as_dict()
    assert recorded["per_attribute"]["region"] == {"gate": ["b"], "min_group_size": 50}
    assert recorded["per_attribute"]["gender"] == {"gate": []}
    json.dumps(recorded)  # JSON-ready


def test_mask_threshold_key_is_an_alias_and_is_recorded_as_threshold(tmp_path):
    config = load_config(write(tmp_path, "fairness-eval.toml", "mask-threshold = 0.3\n"))
    settings = merge_run_settings(config, {})
    assert settings.mask_threshold == 0.3
    recorded = config_entry(config, settings)["effective"]
    assert recorded["threshold"] == 0.3 and "mask_threshold" not in recorded
    # The command line may name it by field, option or alias; the CLI value wins.
    for key in ("threshold", "mask_threshold", "mask-threshold"):
        assert merge_run_settings(config, {key: "0.7"}).mask_threshold == 0.7


def test_command_line_text_is_converted_by_the_same_rules(tmp_path):
    config = load_config(cwd=tmp_path)
    settings = merge_run_settings(config, {"bootstrap": "2000", "intersect": ("a,b",),
                                           "format": "html,md", "inter_annotator_iou": "98.74"})
    assert settings.bootstrap == 2000 and settings.intersect == (("a", "b"),)
    assert settings.formats == ("html", "md")
    assert settings.inter_annotator_iou == pytest.approx(0.9874)
    with pytest.raises(UsageError, match=r"^--bootstrap: 'many' is not an integer$"):
        merge_run_settings(config, {"bootstrap": "many"})


def test_per_attribute_crossings_are_added_unless_intersect_is_given(tmp_path):
    config = load_config(write(tmp_path, "fairness-eval.toml", FULL))
    assert merge_run_settings(config, {}).intersect == (("region", "skin_tone"),)
    assert merge_run_settings(config, {"intersect": ("region,gender",)}).intersect == (
        ("region", "gender"),)
