"""The README stays true: CI runs its test command, and its sections match the code."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def quick_start_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = text.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_quick_start_has_exactly_two_commands():
    commands = quick_start_commands()
    assert len(commands) == 2
    assert "fairness-eval run --dataset ../shared/datasets/voc2012_person" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert quick_start_commands()[1] in ci_lines


# --------------------------------------------------------------------------- sections


def section(heading: str) -> str:
    """The README's text under `heading` (a line of its own), up to the next heading."""
    text = (REPO / "README.md").read_text()
    body = text.split(f"\n{heading}\n", 1)[1]
    return re.split(r"\n#{2,3} ", body, maxsplit=1)[0]


def test_the_card_key_table_is_the_catalogue_the_reader_validates_against():
    from fairness_eval.report.card_text import CARD_KEYS, RISK_ALIASES, RISK_KEYS
    from fairness_eval.workflow.init_texts import CARD_MEANINGS

    kinds = {"text": "text", "texts": "list of text", "risks": "array of tables"}
    rows = [line for line in section("### Card text (`card.toml`)").splitlines()
            if line.startswith("| `")]
    listed = [re.match(r"\| `([^`]+)`", row).group(1) for row in rows]
    assert listed == list(CARD_KEYS)
    assert rows == [f"| `{key}` | {kinds[kind]} | {CARD_MEANINGS[key]} |"
                    for key, (_, kind) in CARD_KEYS.items()]
    ethical = rows[listed.index("considerations.ethical")]
    assert all(f"`{key}`" in ethical for key in (*RISK_KEYS, *RISK_ALIASES))


def test_the_card_example_in_the_readme_reads(tmp_path):
    from fairness_eval.report.card_text import Risk, load_card_text

    example = section("### Card text (`card.toml`)").split("```toml\n", 1)[1].split("```")[0]
    (tmp_path / "card.toml").write_text(example)
    card = load_card_text("acme", tmp_path / "card.toml")
    assert card.display_name == "Acme person segmentation v2"
    assert card.ethical == (Risk("Performance may differ between groups of people.",
                                 "Evaluated per group with fairness-eval; see the card's "
                                 "results."),)


def test_a_model_spec_is_passed_with_model_spec_as_run_help_says():
    from click.testing import CliRunner

    from fairness_eval.cli import cli

    shown = " ".join(CliRunner().invoke(cli, ["run", "--help"]).output.split())
    assert "--model-spec PATH A model spec (TOML)" in shown
    for path in [REPO / "README.md", *(REPO / "docs").glob("*.md")]:
        assert not re.search(r"--model \S+\.toml", path.read_text()), path.name


def test_the_video_section_and_the_run_folder_name_what_a_video_run_writes():
    video = section("## Video")
    for fact in ("per_frame.csv", "per_clip.csv", "--metric iou|boundary_iou|flicker",
                 'prior = "previous"', "(docs/video.md)", "JPEGImages/<resolution>/<clip>",
                 "videos/<clip>.mp4"):
        assert fact in video, fact
    folder = section("## Run folder")
    assert "| `per_frame.csv`, `per_clip.csv` | video, instead of per_image.csv" in folder
    outputs = section("### What each command writes")
    commands = re.findall(r"^\| `([a-z]+)", outputs, re.M)
    assert commands == ["run", "validate", "report", "check", "compare", "card", "init",
                        "models"]


def test_the_three_model_comparison_example_shows_the_fairest_line():
    example = section("## Evaluate your own model").split("It also names the fairest", 1)[1]
    assert re.search(r"^Fairest: \S.*, by (gated violations|worst-group bound|gap): .+ "
                     r"against .+ for \S.*\.$", example, re.M)
    assert "tie on every rule" in example
