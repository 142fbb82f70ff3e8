"""summary.md: one verdict row per attribute, flagged groups, user text escaped."""

from __future__ import annotations

import copy

from report_helpers import SCRIPT_GROUP, fixture_results, mediapipe_table_results

from fairness_eval.report.markdown import render_markdown


def table_rows(markdown: str, header_start: str) -> list[list[str]]:
    """The body rows of the Markdown table whose header starts with `header_start`."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def test_verdict_table_has_a_row_per_attribute_with_its_verdict():
    results = fixture_results()
    markdown = render_markdown(results)  # one argument: how ci_outputs calls it
    rows = table_rows(markdown, "| Attribute | Groups")
    assert len(rows) == len(results["attributes"])
    for row, (name, attribute) in zip(rows, results["attributes"].items(), strict=True):
        assert row[0] == name.replace("_", "\\_")
        assert row[-1].endswith(f"**{attribute['verdict']}**")
        gated = sum(g["gated"] for g in attribute["groups"].values())
        assert row[1] == f"{gated} / {len(attribute['groups'])}"
    assert markdown.splitlines()[1].startswith("## Fairness: ❌ violation")


def test_flagged_groups_are_listed_with_their_numbers():
    results = fixture_results()
    rows = table_rows(render_markdown(results), "| Attribute | Group |")
    flagged = {(r[0], r[1]) for r in rows}
    script = "&lt;script&gt;alert\\(1\\)&lt;/script&gt;".replace("\\(", "(").replace("\\)", ")")
    assert ("scene", script) in flagged
    assert not any(r[1] in ("Child", "(not annotated)") for r in rows)  # never gated
    script_row = next(r for r in rows if r[1] == script)
    group = results["attributes"]["scene"]["groups"][SCRIPT_GROUP]
    assert script_row[3] == f"{100 * group['value']:.2f}"


def test_user_text_cannot_inject_markup_or_break_the_table():
    results = copy.deepcopy(fixture_results())
    groups = results["attributes"]["scene"]["groups"]
    groups["a | b *bold*"] = groups.pop("indoor")
    markdown = render_markdown(results)
    assert "<script>" not in markdown
    assert "&lt;script&gt;" in markdown
    assert "a \\| b \\*bold\\*" in markdown
    for row in table_rows(markdown, "| Attribute | Group |"):
        assert len(row) == 8


def test_published_table_summary_reproduces_the_cards_statements():
    markdown = render_markdown(mediapipe_table_results())
    rows = {r[0]: r for r in table_rows(markdown, "| Attribute | Groups")}
    assert rows["region"][2] == "1.75 pt" and rows["skin\\_tone"][2] == "1.10 pt"
    assert rows["gender"][2] == "0.61 pt"
    assert all(r[3] == "2.52 pt" for r in rows.values())
    assert rows["skin\\_tone"][4] == "cannot fire" and rows["gender"][4] == "cannot fire"
    assert all(r[-1] == "✅ **pass**" for r in rows.values())
    assert "| Attribute | Group |" not in markdown  # no group is flagged
