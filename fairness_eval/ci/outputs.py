"""What the gate shows a CI system: junit.xml, GitHub Actions annotations, step summary and
step outputs (step_outputs.py).

All of it is rendered from a `gate.GateReport` (and, for the summary, the results
document): nothing here decides a verdict. `apply_gate` is everything `fairness-eval check`,
`run --gate` and `card --gate` do, so the three behave the same. A gate that checked
nothing says so everywhere: an <error> in junit.xml, an `::error` annotation, the step
summary. Annotations and the summary's table are capped (`MAX_ANNOTATIONS`,
`MAX_SUMMARY_ROWS`): a run of thousands of groups would otherwise print thousands of lines.
Figures a person reads are in % and pt (gate_checks.py); junit <properties> keep fractions.
"""

from __future__ import annotations

import io
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from ..atomicwrite import write_atomically
from ..config.command_options import CheckOptions
from ..report.ledger import foreign_files, record_written, refuse_foreign_files
from ..report.markdown import render_markdown
from ..report.text import markdown_text
from ..results.names import JUNIT_FILE
from ..results.schema import ResultsDocument, as_document
from ..terminal import one_line, workflow_command
from .gate import GateReport, gate_report, read_results
from .gate_checks import FAIL, SKIP, WARN, Check, bracket, percent, pt
from .step_outputs import write_step_outputs

# At most this many ::error / ::warning lines, then one saying how many more there are.
MAX_ANNOTATIONS = 50
# At most this many failing / inconclusive rows in the step summary's table.
MAX_SUMMARY_ROWS = 50


def junit_tree(report: GateReport) -> ET.ElementTree:
    """A testsuite per attribute, a testcase per (criterion, group).

    Violations (and inconclusive results under --strict) are <failure>s carrying the
    numbers; small groups, "(not annotated)", criteria that cannot fire or were not
    evaluated are <skipped> with the reason; an inconclusive result without --strict
    passes with the numbers in <system-out>.

    Valid against the JUnit schema Jenkins' xUnit plugin checks (junit-10.xsd), which
    skips a file that fails it: <testsuites> carries no `skipped` count (only each
    <testsuite> does), and user text is made legal XML 1.0 (see `_xml_text`).
    """
    root = ET.Element("testsuites", name="fairness-eval")
    totals = {"tests": 0, "failures": 0}
    if report.empty:
        _add_empty_gate_suite(root, report, totals)
    for attribute in report.attributes():
        checks = report.for_attribute(attribute)
        if not checks:
            continue
        counts = {
            "tests": len(checks),
            "failures": sum(c.status == FAIL for c in checks),
            "skipped": sum(c.status == SKIP for c in checks),
        }
        suite = ET.SubElement(
            root, "testsuite", name=_xml_text(attribute), errors="0", time="0",
            **{k: str(v) for k, v in counts.items()},
        )
        for key in totals:
            totals[key] += counts[key]
        for check in checks:
            _add_testcase(suite, check, report)
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", "1" if report.error else "0")
    root.set("time", "0")
    ET.indent(root)
    return ET.ElementTree(root)


def _add_empty_gate_suite(root: ET.Element, report: GateReport, totals: dict[str, int]
                          ) -> None:
    """A gate with no gated check: an <error> (exit 2), or <skipped> when it is allowed."""
    error = report.error
    suite = ET.SubElement(root, "testsuite", name="fairness gate", tests="1", failures="0",
                          errors="1" if error else "0", skipped="0" if error else "1",
                          time="0")
    case = ET.SubElement(suite, "testcase", classname="fairness.gate",
                         name="at least one gated check", time="0")
    if error:
        ET.SubElement(case, "error", type="empty-gate", message=_xml_text(error))
    else:
        ET.SubElement(case, "skipped", message=_xml_text(report.outcome_line()))
    totals["tests"] += 1


def _add_testcase(suite: ET.Element, check: Check, report: GateReport) -> None:
    case = ET.SubElement(
        suite, "testcase", classname=_xml_text(f"fairness.{check.attribute}"),
        name=_xml_text(f"criterion ({check.criterion}): {check.group}"), time="0",
    )
    numbers = check.numbers(report.confidence)
    if check.status == FAIL:
        failure = ET.SubElement(
            case, "failure", type=check.verdict or "violation",
            message=_xml_text(check.describe(report.confidence, report.gate_on)),
        )
        failure.text = _xml_text(
            f"{check.attribute} / {check.group}: criterion ({check.criterion}) is "
            f"'{check.verdict}' on the {report.gate_on} verdict "
            f"(point: {check.point_verdict}, statistical: {check.statistical_verdict}).\n"
            f"{numbers}\n"
        )
    elif check.status == SKIP:
        ET.SubElement(case, "skipped", message=_xml_text(check.reason or "not gated"))
    elif check.status == WARN:
        out = ET.SubElement(case, "system-out")
        out.text = (
            f"inconclusive (passes without --strict): {numbers}\n"
        )


# XML 1.0 allows tab, newline, carriage return and these ranges; anything else (a control
# character or a lone surrogate in a group name) would make the whole file unparseable.
_XML_ILLEGAL = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    """`text` with each character XML 1.0 forbids written as a visible escape (\\x01)."""
    return _XML_ILLEGAL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def write_junit(report: GateReport, path: Path | str) -> Path:
    """Write junit.xml (UTF-8, with XML declaration); returns the path."""
    path = Path(path)
    buffer = io.BytesIO()
    junit_tree(report).write(buffer, encoding="utf-8", xml_declaration=True)
    write_atomically(path, buffer.getvalue())  # never through a link planted there
    return path


# --------------------------------------------------------------------------- GitHub Actions

def github_annotations(report: GateReport, limit: int = MAX_ANNOTATIONS) -> list[str]:
    """`::error` for an empty gate and per failing check, `::warning` per inconclusive one
    and per note, each escaped by terminal.workflow_command (a group name cannot end the
    command early); past `limit`, one line says how many more there are."""
    lines = []
    if report.error:
        lines.append(workflow_command("error", report.error, title="Fairness gate"))
    for check in report.failures:
        title = f"Fairness: {check.attribute} / {check.group}, criterion ({check.criterion})"
        lines.append(workflow_command(
            "error", check.describe(report.confidence, report.gate_on), title=title))
    for check in report.warnings:
        title = f"Fairness inconclusive: {check.attribute} / {check.group}"
        lines.append(workflow_command(
            "warning", check.describe(report.confidence, report.gate_on), title=title))
    for note in report.notes:
        lines.append(workflow_command("warning", note, title="Fairness"))
    if len(lines) > limit:
        more = len(lines) - limit
        lines = lines[:limit] + [workflow_command(
            "warning", f"... and {more} more fairness annotation(s) not shown: every check "
            "is in junit.xml", title="Fairness")]
    return lines


def gate_markdown(report: GateReport, limit: int = MAX_SUMMARY_ROWS) -> str:
    """The gate's own Markdown section: outcome and a table of failing / inconclusive checks."""
    outcome = ("**failed**" if report.failures
               else "**not run: nothing was checked**" if report.error
               else "**passed**")
    lines = [
        "### Fairness gate",
        "",
        f"Gate {outcome} on {report.gate_on} verdicts"
        f"{' (--strict: inconclusive fails)' if report.strict else ''}: "
        f"{len(report.failures)} failing, {len(report.warnings)} inconclusive, "
        f"{sum(c.status == SKIP for c in report.checks)} skipped of {len(report.checks)} checks.",
        "",
    ]
    if report.empty:
        lines += [markdown_text(report.outcome_line()), ""]
    shown = report.failures + report.warnings
    if shown:
        lines += [
            "| | attribute | group | criterion | verdict | IoU % | n | deviation | "
            "interval the verdict read | threshold |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for c in shown[:limit]:
            mark = "FAIL" if c.status == FAIL else "warn"
            lines.append(
                f"| {mark} | {markdown_text(c.attribute)} | {markdown_text(c.group)} "
                f"| ({c.criterion}) | {c.verdict} "
                f"| {percent(c.value).removesuffix(' %') if c.value is not None else ''} "
                f"| {c.n if c.n is not None else ''} "
                f"| {pt(c.deviation) if c.deviation is not None else ''} "
                f"| {_decided_interval(c, report)} "
                f"| {_threshold(c)} |"
            )
        if len(shown) > limit:
            lines.append(f"\n... and {len(shown) - limit} more failing or inconclusive "
                         "check(s): every check is in junit.xml.")
        lines.append("")
    lines += [f"- note: {markdown_text(note)}" for note in report.notes[:limit]]
    if len(report.notes) > limit:
        lines.append(f"- ... and {len(report.notes) - limit} more note(s)")
    return "\n".join(lines).rstrip() + "\n"


def _decided_interval(check: Check, report: GateReport) -> str:
    """The interval the verdict read (in pt), with what it is an interval of."""
    if check.gate_on != "statistical":
        return ""
    if check.statistic is not None and check.ci is not None:
        return (f"{check.statistic} "
                f"{bracket(check.ci, check.ci_confidence or report.confidence)}")
    if check.deviation_ci is not None:
        return f"deviation {bracket(check.deviation_ci, report.confidence)}"
    return ""


def _threshold(check: Check) -> str:
    if check.statistic == "margin" and check.gate_on == "statistical":
        return f"margin above {100 * (check.bound or 0.0):g}"
    return f"+/-{pt(check.threshold, signed=False)}" if check.threshold is not None else ""


def results_markdown(results: ResultsDocument | Mapping[str, Any],
                     report: GateReport | None = None) -> str:
    """The run's Markdown summary (as summary.md holds it), for the CI step summary; its
    verdicts are `report`'s when given (the gate just applied), else the recorded gate's."""
    return render_markdown(as_document(results), gate=report)


def write_github_outputs(
    report: GateReport,
    results: ResultsDocument | Mapping[str, Any],
    *,
    env: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
) -> bool:
    """When GITHUB_ACTIONS is set: annotations on `stream`, summary appended to
    GITHUB_STEP_SUMMARY. Returns whether anything was written."""
    env = os.environ if env is None else env
    if not env.get("GITHUB_ACTIONS"):
        return False
    stream = sys.stdout if stream is None else stream
    for line in github_annotations(report):
        print(line, file=stream)
    summary_path = env.get("GITHUB_STEP_SUMMARY")
    if summary_path:
        parts = [results_markdown(results, report).rstrip() + "\n", gate_markdown(report)]
        try:
            with open(summary_path, "a", encoding="utf-8") as handle:
                handle.write("\n".join(parts) + "\n")
        except OSError as error:
            # An optional output: failing to write it must not turn a verdict into a crash.
            print(one_line(f"warning: cannot append the step summary to {summary_path} "
                           f"({error.strerror or error}); the gate's verdict is unchanged"),
                  file=sys.stderr)
    return True


def check_run(
    run_dir: Path | str,
    options: CheckOptions | None = None,
    *,
    echo: Callable[[str], None] = print,
    env: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
    overwrite: bool = False,
) -> int:
    """Everything `fairness-eval check RUN_DIR` does; returns the exit code: 0 passed,
    1 failed, 2 nothing was checked (unless allowed; that line is echoed last).

    A junit.xml the user wrote or edited is not replaced unless `overwrite`
    (report/ledger.py).
    """
    report = apply_gate(run_dir, options, echo=echo, env=env, stream=stream,
                        overwrite=overwrite)
    if report.error:
        echo(report.error)
    return report.exit_code


def apply_gate(
    run_dir: Path | str,
    options: CheckOptions | None = None,
    *,
    echo: Callable[[str], None] = print,
    env: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
    overwrite: bool = False,
    keep: Callable[[Path], None] | None = None,
) -> GateReport:
    """The gate of `check`, `run --gate` and `card --gate`: reads results.json, decides
    (`gate.gate_report`), writes junit.xml into the run folder and the GitHub Actions
    output when running there (annotations, step summary, $GITHUB_OUTPUT), and echoes the
    closing lines last. An empty gate's line (`GateReport.error`) is not echoed: the
    caller reports it as the command's error.
    `keep` (run --gate): a junit.xml fairness-eval did not write, or that was edited, is
    kept and `keep` told its path, instead of refused (unless `overwrite`)."""
    options = CheckOptions() if options is None else options
    run_dir = Path(run_dir)
    results = read_results(run_dir)
    report = gate_report(results, options)
    folder = run_dir if run_dir.is_dir() else run_dir.parent
    foreign = [] if overwrite else foreign_files([folder / JUNIT_FILE])
    if foreign and keep is not None:
        keep(foreign[0])
    else:
        if foreign:
            refuse_foreign_files(foreign)
        record_written([write_junit(report, folder / JUNIT_FILE)])
    write_github_outputs(report, results, env=env, stream=stream)
    write_step_outputs(report, folder, env=env)
    for line in report.closing_lines(outcome=report.error is None):
        echo(line)
    return report


__all__ = [
    "MAX_ANNOTATIONS", "MAX_SUMMARY_ROWS", "apply_gate", "check_run", "gate_markdown",
    "github_annotations", "junit_tree", "results_markdown", "write_github_outputs",
    "write_junit",
]
