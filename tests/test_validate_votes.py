"""`validate` reads annotators' votes as `run` does: `--attribute-votes` (or the
configuration's key and count-column tables) labels the voted attribute by majority, its
counts are those labels with a note on the votes, and every vote problem is logged and
exits 2 before any model would load."""

from __future__ import annotations

from click.testing import CliRunner
from test_label_votes_run import dataset_with_votes

from fairness_eval.cli import cli
from fairness_eval.workflow.validate import validate


def test_validate_labels_the_voted_attribute_by_majority(tmp_path):
    root, _, votes = dataset_with_votes(tmp_path)
    said: list[str] = []
    result = validate(root, attribute_votes=votes, echo=said.append, log=said.append)
    assert result.exit_code == 0 and result.error is None
    # a, b, c, g (2, 3, 3 -> 3) ... by majority: 2 three times, 3 once, 5 four times.
    assert dict(result.value_counts["skin_tone"]) == {"2": 3, "3": 1, "5": 4}
    assert ("note: skin_tone is labelled from votes: 8 images voted (3 annotators), majority "
            "labels, 0 (disputed)") in said


def test_validate_logs_every_vote_problem_and_exits_2(tmp_path):
    root, _, votes = dataset_with_votes(tmp_path)
    votes.write_text(votes.read_text() + "a,r9,skin_tone,11\nb,r9,skin_tone,12\n")
    logged: list[str] = []
    result = validate(root, attribute_votes=votes, echo=lambda line: None, log=logged.append)
    assert result.exit_code == 2
    assert result.error == "2 problem(s) in the votes"
    assert len([line for line in logged if "is not in the vocabulary skin_tone" in line]) == 2
    assert any("row 25 (a): skin_tone '11'" in line for line in logged)


def test_the_cli_takes_the_option_and_the_configuration_key(tmp_path, monkeypatch):
    root, _, votes = dataset_with_votes(tmp_path)
    typed = CliRunner().invoke(cli, ["validate", "--dataset", str(root),
                                     "--attribute-votes", str(votes)])
    assert typed.exit_code == 0, typed.output
    assert "skin_tone is labelled from votes" in typed.output
    (tmp_path / "fairness-eval.toml").write_text(
        f'dataset = "{root}"\nattribute-votes = "{votes}"\n')
    monkeypatch.chdir(tmp_path)
    from_file = CliRunner().invoke(cli, ["validate"])
    assert from_file.exit_code == 0, from_file.output
    assert "skin_tone is labelled from votes" in from_file.output
    votes.write_text(votes.read_text() + "a,r9,skin_tone,11\n")
    bad = CliRunner().invoke(cli, ["validate"], standalone_mode=False)
    assert bad.return_value == 2  # the exit code main() exits with
    assert "skin_tone '11' is not in the vocabulary skin_tone" in bad.output
