"""terminal.py: the one escaping function for lines that reach a terminal or a CI log."""

from __future__ import annotations

import pytest

from fairness_eval.terminal import escape_property, one_line, safe_writer, workflow_command


@pytest.mark.parametrize(("text", "shown"), [
    ("a\n::error::owned", "a\\n::error::owned"),  # a newline never starts a line
    ("::warning::x", "\\x3a:warning::x"),  # a line of the user's never starts with ::
    ("   ::set-output name=a::b", "   \\x3a:set-output name=a::b"),  # nor after spaces
    ("\t::error::x", "\\t::error::x"),  # a tab is shown, so nothing precedes the ::
    ("\u3000::error::x", "\\u3000::error::x"),  # nor Unicode space the runner trims
    ("see ##[add-mask]secret", "see #\\x23[add-mask]secret"),  # the older form, anywhere
    ("bell\x07 and \u202eevil", "bell\\x07 and \\u202eevil"),
    ("plain: a::b, ok", "plain: a::b, ok"),  # "::" later in a line is no command
    ("région×peau", "région×peau"),  # printable text is left alone
])
def test_one_line_makes_any_text_one_inert_line(text, shown):
    assert one_line(text) == shown
    assert one_line(one_line(text)) == shown  # escaping twice changes nothing


def test_safe_writer_writes_each_message_as_one_line():
    lines: list[str] = []
    write = safe_writer(lines.append)
    write("group a\n::error::x")
    write("")
    assert lines == ["group a\\n::error::x", ""]
    assert safe_writer(write) is write  # wrapping twice does not escape twice


def test_workflow_commands_escape_data_and_properties_as_the_toolkit_does():
    line = workflow_command("error", "100% a\r\nb::c", title="team: a, b\n::x")
    assert line == "::error title=team%3A a%2C b%0A%3A%3Ax::100%25 a%0D%0Ab::c"
    assert escape_property("50%:,") == "50%25%3A%2C"
    assert "\n" not in workflow_command("warning", "a\u2028b\x1b[31m")
