"""User text (attribute and group names, image names, reasons) as a reader sees it: in
Markdown shown as written, never as markup; in the HTML card and its charts with every
invisible character shown as its escape.

Every Markdown table fairness-eval writes (summary.md, the CI step summary, comparison.md)
passes user strings through `markdown_text`, so a name cannot inject Markdown or HTML into
the page that shows it, nor break a table row with a newline or a pipe. The HTML cards print
every value through `visible` (their templates' finalize) and the charts draw their labels
through it: a right-to-left override (U+202E) would show a name reversed, and a control
character is not even allowed in the inline SVG's XML.
"""

from __future__ import annotations

import html
import unicodedata

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]|~"})
# Control characters, format characters (direction overrides and isolates U+202A-202E,
# U+2066-2069, zero-width characters, the BOM, ...) and line and paragraph separators: shown
# as escapes (\x07, \u202e), since they would otherwise hide or reorder what the reader sees.
_HIDDEN_CATEGORIES = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs"))
# Whitespace that HTML and XML take as such: harmless, and card texts use newlines.
_LAYOUT = frozenset("\t\n\r")


def _shown(character: str, keep_layout: bool) -> str:
    if (character.isprintable() or (keep_layout and character in _LAYOUT)
            or unicodedata.category(character) not in _HIDDEN_CATEGORIES):
        return character  # visible, or a space or private-use glyph a font may draw
    return character.encode("unicode_escape", "backslashreplace").decode("ascii")


def visible(value: object, *, keep_layout: bool = True) -> str:
    """`value` as text with every invisible character shown as its escape (\\u202e, \\x07).

    `keep_layout` leaves tab, newline and carriage return, which HTML shows as spaces."""
    text = str(value)
    if text.isprintable():  # almost every string: nothing to look at character by character
        return text
    return "".join(_shown(c, keep_layout) for c in text)


def markdown_text(value: object) -> str:
    """`value` as literal text on one line of a Markdown table cell."""
    flat = " ".join(str(value).split())  # newlines and runs of whitespace: one space
    return html.escape(visible(flat, keep_layout=False), quote=False).translate(_MD_SPECIAL)
