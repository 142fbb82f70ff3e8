"""Accessibility check of a rendered page: axe-core's WCAG 2.1 A and AA rules in headless
Chromium, for any card the tests render (model card, table card, comparison card).

axe-core comes from the npm registry; .ci/run installs it into .node/ (ignored by git)
with `npm install --prefix .node axe-core@4`. FAIRNESS_EVAL_AXE_JS may name another
axe.min.js. Without it the check skips, saying how to install it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from chromium_cdp import find_chromium, load_page

REPO = Path(__file__).resolve().parents[1]
AXE_JS = REPO / ".node" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
# Best-practice rules the card also keeps: one <main>, all content inside landmarks.
LANDMARK_RULES = ("landmark-one-main", "region")

# Each violation reduced to what a reader needs to fix it: rule, impact, the elements.
_RUN_AXE = """
axe.run(document, {runOnly: {type: "tag", values: %s}, rules: %s,
                   resultTypes: ["violations"]})
  .then(r => ({
    version: axe.version,
    rules: r.passes.length + r.incomplete.length + r.inapplicable.length + r.violations.length,
    violations: r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary,
                               html: n.html.slice(0, 200)})),
    })),
  }))
"""


def axe_source() -> str:
    """The text of axe.min.js (4.x); skips the test when it is not installed."""
    path = Path(os.environ.get("FAIRNESS_EVAL_AXE_JS") or AXE_JS)
    if not path.is_file():
        pytest.skip(f"axe-core not installed at {path} (npm install --prefix .node "
                    "axe-core@4); .ci/run installs it")
    return path.read_text(encoding="utf-8")


def axe_results(html: Path, tags: tuple[str, ...] = WCAG_TAGS,
                rules: tuple[str, ...] = ()) -> dict:
    """axe-core's rules of `tags` (and the named `rules`) over the page: version, number
    of rules run, violations."""
    if find_chromium() is None:
        pytest.skip("headless Chromium not installed (apt-get install chromium)")
    enabled = {rule: {"enabled": True} for rule in rules}
    script = _RUN_AXE % (json.dumps(list(tags)), json.dumps(enabled))
    report = load_page(html, {"axe": script}, scripts=[axe_source()])
    results = report.values["axe"]
    assert results is not None, f"axe-core did not run on {html}: {report.exceptions}"
    assert results["version"].startswith("4.")
    return results


def format_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"]:
            lines.append(f"    {node['target']}: {node['html']}")
            lines += [f"      {line}" for line in (node["summary"] or "").splitlines()]
    return "\n".join(lines)


def assert_accessible(html: Path, rules: tuple[str, ...] = LANDMARK_RULES) -> dict:
    """Zero axe-core violations of WCAG 2.1 A/AA (and of `rules`) on the page, each one
    listed on failure. Returns axe's results."""
    results = axe_results(html, WCAG_TAGS, rules)
    assert results["rules"] > 20  # the rules really ran over the page
    assert results["violations"] == [], (
        f"axe-core {results['version']} on {html}:\n{format_violations(results['violations'])}"
    )
    return results
