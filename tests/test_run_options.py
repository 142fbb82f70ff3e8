"""`run`'s options are one catalogue (config/options.py): the command line, the configuration
file's keys and the settings' rules are built from it and cannot drift apart."""

from __future__ import annotations

from dataclasses import fields

import click
import pytest

from fairness_eval.cli import cli
from fairness_eval.config.field_rules import FIELD_RULES
from fairness_eval.config.file_keys import RUN_KEYS
from fairness_eval.config.options import CONFIG_ONLY, RUN_OPTION, RUN_OPTIONS
from fairness_eval.config.settings import Settings

# Options of `run` that are not settings: where the dataset is and how it is read, the
# configuration file itself, and MLflow logging.
COMMAND_ONLY = {"dataset", "images", "image_set", "image_column", "mask_column", "mlflow",
                "config_path"}


def _run_params() -> dict[str, click.Option]:
    return {param.name: param for param in cli.commands["run"].params
            if isinstance(param, click.Option)}


def test_every_settings_field_has_one_catalogue_entry_or_is_config_only() -> None:
    names = [option.name for option in RUN_OPTIONS]
    assert len(names) == len(set(names))
    field_names = {item.name for item in fields(Settings)}
    assert set(names) | set(CONFIG_ONLY) == field_names
    assert not set(names) & set(CONFIG_ONLY)


def test_every_click_option_of_run_comes_from_the_catalogue_or_is_command_only() -> None:
    params = _run_params()
    assert set(params) == set(RUN_OPTION) | COMMAND_ONLY
    for name, entry in RUN_OPTION.items():
        param = params[name]
        declared = [flag for spec in entry.flags for flag in spec.split("/")]
        assert [*param.opts, *param.secondary_opts] == declared
        assert param.help == entry.help
        assert param.multiple == entry.multiple


def test_a_flag_is_its_name_with_dashes_and_click_defaults_are_the_settings() -> None:
    params = _run_params()
    defaults = {item.name: item.default for item in fields(Settings)}
    for entry in RUN_OPTIONS:
        # the name, spelled as a flag, is one of the option's flags (or its setting's
        # name in the plural: --attribute sets attributes, --format formats)
        assert entry.option.lstrip("-").replace("-", "_") in (entry.name, entry.name[:-1]) \
            or entry.name == "mask_threshold"
        default = params[entry.name].default
        if entry.multiple or default is None:
            continue
        expected = defaults[entry.name]
        assert default == (",".join(expected) if isinstance(expected, tuple) else expected)


def test_every_config_key_maps_to_an_entry_and_every_entry_has_its_keys() -> None:
    for key, (field_name, kind) in RUN_KEYS.items():
        if key == "dataset":  # the one command-only option a file may give
            assert field_name == "dataset"
            continue
        entry = RUN_OPTION[field_name]
        assert key in entry.keys
        assert kind == entry.kind
    for entry in RUN_OPTIONS:
        assert all(RUN_KEYS[key] == (entry.name, entry.kind) for key in entry.keys)
    # the aliases stay: threshold and mask-threshold are one setting
    assert RUN_KEYS["threshold"] == RUN_KEYS["mask-threshold"] == ("mask_threshold", "float")


def test_each_field_obeys_its_entrys_rule_under_its_first_flag() -> None:
    for entry in RUN_OPTIONS:
        assert FIELD_RULES[entry.name] == (entry.option, entry.rule)
    assert FIELD_RULES["mask_threshold"][0] == "--threshold"
    assert FIELD_RULES["redact_paths"][0] == "--redact-paths"


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--mask-threshold", "1.5", "--threshold: 1.5"),
    ("--min-group-size", "0", "--min-group-size: 0"),
])
def test_a_bad_value_is_refused_in_the_catalogues_name(flag: str, value: str,
                                                        message: str) -> None:
    from fairness_eval.config.files import FileConfig
    from fairness_eval.config.merge import merge_run_settings
    from fairness_eval.errors import UsageError

    with pytest.raises(UsageError, match=message):
        merge_run_settings(FileConfig(), {flag.lstrip("-").replace("-", "_"): value})


def test_the_records_names_come_from_the_catalogue() -> None:
    from fairness_eval.config.recording import (
        PER_IMAGE_SETTINGS,
        RECORDED_NAMES,
        RECORDED_WHEN_SET,
        UNHASHED_SETTINGS,
        effective_config,
    )

    field_names = {item.name for item in fields(Settings)}
    assert set(RECORDED_WHEN_SET) <= field_names
    assert RECORDED_NAMES == {"mask_threshold": "threshold"}
    assert set(PER_IMAGE_SETTINGS) == {"mask_threshold", "threads", "model", "boundary_ratio",
                                       "exif", "mask_person_value"}
    assert {"out", "workers", "redact_paths"} <= set(UNHASHED_SETTINGS)
    settings = Settings(workers=2)
    recorded = settings.as_dict()
    # recorded under its old name; recorded-when-set left out at the default
    assert recorded["threshold"] == 0.5 and "mask_threshold" not in recorded
    assert "limit" not in recorded and "metric" not in recorded
    assert Settings(workers=2, limit=5).as_dict()["limit"] == 5
    assert recorded["workers"] == 2 and "workers" not in effective_config(settings)
    assert set(settings.per_image_key()) == {"threshold", "threads", "model",
                                             "boundary_ratio", "exif", "mask_person_value"}
