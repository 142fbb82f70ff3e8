"""The capture-condition settings: --conditions, the [conditions] table, --derive,
--adjust-for, --save-conditions, --gate-on-conditions; checked once, recorded only when set,
in the resume key where they change a per-image number. Nothing here runs the model."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fairness_eval.cli import main
from fairness_eval.conditions.perturb import DEFAULT_SEVERITIES
from fairness_eval.config.files import load_config
from fairness_eval.config.merge import merge_run_settings
from fairness_eval.config.recording import config_sha256, effective_config
from fairness_eval.config.settings import Settings
from fairness_eval.errors import UsageError
from fairness_eval.evaluation.under_conditions import ImagePlan


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fairness-eval.toml"
    path.write_text(text)
    return path


def test_conditions_text_and_defaults():
    settings = Settings(conditions="dark, blur,dark", derive="person_share,people")
    assert settings.conditions == ("dark", "blur")
    assert settings.derive == ("person_share", "people")
    assert settings.severities() == {"dark": DEFAULT_SEVERITIES["dark"],
                                     "blur": DEFAULT_SEVERITIES["blur"]}


def test_config_table_chooses_conditions_and_their_severities(tmp_path):
    config = load_config(_write(tmp_path, "[conditions]\ndark = [0.5, 0.2]\njpeg = 30\n"))
    settings = merge_run_settings(config, {})
    assert settings.severities() == {"dark": (0.5, 0.2), "jpeg": (30.0,)}
    # --conditions chooses among them; a condition the table leaves out keeps its defaults
    chosen = merge_run_settings(config, {"conditions": "jpeg,noise"})
    assert chosen.severities() == {"jpeg": (30.0,), "noise": DEFAULT_SEVERITIES["noise"]}


def test_top_level_list_chooses_conditions_at_default_severities(tmp_path):
    config = load_config(_write(tmp_path, 'conditions = ["occluder"]\nderive = ["people"]\n'
                                          'adjust-for = "people"\ngate-on-conditions = true\n'))
    settings = merge_run_settings(config, {})
    assert settings.severities() == {"occluder": DEFAULT_SEVERITIES["occluder"]}
    assert (settings.derive, settings.adjust_for, settings.gate_on_conditions) == (
        ("people",), "people", True)


@pytest.mark.parametrize(("text", "message"), [
    ("[conditions]\ndark = [1.5]\n",
     "key 'conditions.dark': condition 'dark': f must be in (0, 1], not 1.5"),
    ("[conditions]\njpeg = [50.5]\n",
     "key 'conditions.jpeg': condition 'jpeg': q must be an integer 0-100, not 50.5"),
    ("[conditions]\nnoise = [5, 5]\n", "key 'conditions.noise': [5.0, 5.0] lists a severity"),
    ("[conditions]\nblur = []\n", "key 'conditions.blur': [] is empty"),
    ("[conditions]\nfog = [1]\n", "unknown key 'conditions.fog' (known: dark, noise, blur"),
    ('[conditions]\ndark = "x"\n', "key 'conditions.dark' must be a list of numbers"),
    ('conditions = ["fog"]\n', "key 'conditions': 'fog' is not a condition"),
    ('derive = ["height"]\n', "key 'derive': 'height' is not a derived attribute"),
])
def test_bad_config_values_name_the_file_and_the_key(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(UsageError) as error:
        load_config(path)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(("args", "message"), [
    (["--conditions", "dark,fog"], "--conditions: 'fog' is not a condition; conditions are "
                                   "dark, noise, blur, jpeg, occluder"),
    (["--derive", "size"], "--derive: 'size' is not a derived attribute; they are "
                           "person_share, people, brightness"),
    (["--adjust-for", " "], "--adjust-for: ' ' is not an attribute name"),
])
def test_bad_options_exit_2_with_one_line(args, message, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)  # no configuration file found
    monkeypatch.setattr(sys, "argv", ["fairness-eval", "run", "--dataset", str(tmp_path),
                                      *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"fairness-eval: error: {message}"]


def test_recorded_only_when_set_so_earlier_hashes_stay():
    plain = Settings(workers=1)
    assert not {"conditions", "condition_severities", "derive", "adjust_for",
                "save_conditions", "gate_on_conditions"} & set(plain.as_dict())
    asked = Settings(workers=1, conditions="blur", condition_severities={"blur": [0.02]},
                     derive="people", adjust_for="people", gate_on_conditions=True,
                     save_conditions=Path("/tmp/x"))
    recorded = asked.as_dict()
    assert recorded["conditions"] == ["blur"]
    assert recorded["condition_severities"] == {"blur": [0.02]}
    assert (recorded["derive"], recorded["adjust_for"]) == (["people"], "people")
    assert recorded["gate_on_conditions"] is True
    # where degraded images are saved changes no number: not in the configuration hash
    assert "save_conditions" not in effective_config(asked)
    assert config_sha256(effective_config(asked)) != config_sha256(effective_config(plain))


def test_resume_key_covers_what_changes_a_row():
    assert ImagePlan.from_settings(Settings(workers=1)) is None
    blur = ImagePlan.from_settings(Settings(conditions="blur", seed=3))
    assert blur.resume_key() == {"conditions": {"blur": [0.01, 0.02, 0.04]}}  # unseeded
    noisy = ImagePlan.from_settings(Settings(conditions="noise", seed=3, derive="people"))
    assert noisy.resume_key() == {"conditions": {"noise": [5.0, 10.0, 20.0]},
                                  "conditions_seed": 3, "derive": ["people"]}
    assert noisy.evaluations == 4
    assert noisy.describe(300) == ("300 images x 4 evaluations (clean, noise x 3): "
                                   "1200 model runs")
