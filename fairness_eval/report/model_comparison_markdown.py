"""comparison.md and the closing lines of `compare` for several models, from a ModelComparison.

Formatting only: each model's figures are those its run recorded, each change against the
baseline is the pairwise record's (results/model_comparison_record.py). With two runs the
pairwise texts of report/comparison_markdown.py are used unchanged.
"""

from __future__ import annotations

from ..results.model_comparison_record import FAIREST_RULE, FairnessStanding, ModelComparison
from .comparison_markdown import closing_lines, comparison_markdown
from .formatting import interval, pct, points
from .text import markdown_text


def fairest_line(comparison: ModelComparison) -> str | None:
    """'Fairest: A, by gap: 1.20 pt against 3.40 pt for B.', or 'Fairest: A and B tie on
    every rule.'; None for a record without a ranking (one written before it existed)."""
    ranking = comparison.ranking
    if not ranking:
        return None
    top = [standing.label for standing in ranking if standing.rank == 1]
    if len(top) > 1:
        return f"Fairest: {_joined(top)} tie on every rule."
    if len(ranking) == 1 or ranking[0].decided_by is None:
        return f"Fairest: {top[0]}."
    first, second = ranking[0], ranking[1]
    rule = first.decided_by or ""
    return (f"Fairest: {first.label}, by {rule}: {rule_figure(first, rule)} against "
            f"{rule_figure(second, rule)} for {second.label}.")


def rule_figure(standing: FairnessStanding, rule: str) -> str:
    """The figure a standing has on one rule of the ranking, as the card prints it."""
    if rule == "gated violations":
        return str(standing.gated_violations)
    if rule == "worst-group bound":
        if standing.worst_bound is None:
            return "none"
        return f"{pct(standing.worst_bound)} % ({standing.worst_group})"
    return points(standing.largest_gap) if standing.largest_gap is not None else "none"


def _joined(labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def ranking_markdown(comparison: ModelComparison) -> list[str]:
    """comparison.md's ranking section: the rule, the line, and each model's figures."""
    if not comparison.ranking:
        return []
    lines = ["## Fairest", "", markdown_text(FAIREST_RULE), "",
             f"**{markdown_text(fairest_line(comparison) or '')}**", "",
             "| rank | model | gated violations | worst-group bound | largest gap |",
             "|---|---|---|---|---|"]
    for standing in comparison.ranking:
        lines.append(f"| {standing.rank} | {markdown_text(standing.label)} | "
                     f"{standing.gated_violations} | "
                     f"{markdown_text(rule_figure(standing, 'worst-group bound'))} | "
                     f"{rule_figure(standing, 'gap')} |")
    return [*lines, ""]


def models_closing_lines(comparison: ModelComparison) -> list[str]:
    """Two runs: the pairwise lines. More: each candidate's lines, then the overall outcome.
    Both say the fairest model by the rule (`fairest_line`) just before the gate's line."""
    fairest = [line for line in [fairest_line(comparison)] if line]
    if len(comparison.pairs) == 1:
        lines = closing_lines(comparison.pairs[0])
        return lines[:-1] + fairest + lines[-1:]
    lines = []
    for model, pair in zip(comparison.candidates, comparison.pairs, strict=True):
        prefix = f"{model.label} vs {comparison.baseline.label}: "
        lines += [prefix + line for line in closing_lines(pair)]
    failed = [m.label for m, p in zip(comparison.candidates, comparison.pairs, strict=True)
              if p.failures]
    status = "FAILED" if failed else "passed"
    detail = (f"{len(comparison.models)} models over {comparison.images} images, baseline "
              f"{comparison.baseline.label}")
    if failed:
        detail += "; failing: " + ", ".join(failed)
    return [*lines, *fairest, f"comparison gate: {status} ({detail})"]


def model_comparison_markdown(comparison: ModelComparison) -> str:
    """comparison.md: two runs as before; more: an overview of every model per attribute,
    then each candidate's pairwise comparison with the baseline."""
    if len(comparison.pairs) == 1:
        return comparison_markdown(comparison.pairs[0])
    boot = comparison.bootstrap
    level = f"{boot.confidence:.0%}" if boot.confidence else "95%"
    lines = [
        f"# Comparison of {len(comparison.models)} models",
        "",
        f"{comparison.images} images evaluated by every model; baseline "
        f"**{markdown_text(comparison.baseline.label)}** "
        f"(`{markdown_text(comparison.baseline.run.run_dir)}`). Figures are each run's own, "
        f"with its {level} bootstrap interval.",
        "",
        "## Overall",
        "",
        f"| model | run | IoU % | {level} interval |",
        "|---|---|---|---|",
    ]
    for model in comparison.models:
        lines.append(f"| {markdown_text(model.label)} | `{markdown_text(model.run.run_dir)}` | "
                     f"{pct(model.overall.value)} | {interval(model.overall.ci)} |")
    lines.append("")
    lines += ranking_markdown(comparison)
    for name in comparison.attribute_names():
        lines += [f"## {markdown_text(name)}", "",
                  "| model | verdict | range | lowest group | highest group |",
                  "|---|---|---|---|---|"]
        for model in comparison.models:
            block = model.attributes[name]
            span = block.range
            lines.append(
                f"| {markdown_text(model.label)} | {markdown_text(block.verdict or '—')} | "
                f"{points(span.value if span else None)} | "
                f"{markdown_text(span.min_group if span and span.min_group else '—')} | "
                f"{markdown_text(span.max_group if span and span.max_group else '—')} |")
        lines.append("")
    for model, pair in zip(comparison.candidates, comparison.pairs, strict=True):
        pairwise = comparison_markdown(pair).replace("\n## ", "\n### ")
        pairwise = pairwise.replace("# Model comparison",
                                    f"## {markdown_text(model.label)} against the baseline", 1)
        lines.append(pairwise)
    lines += ["## Gate", ""]
    lines += [f"- FAIL {markdown_text(f)}" for f in comparison.failures] or ["Passed."]
    return "\n".join(lines) + "\n"


__all__ = ["fairest_line", "model_comparison_markdown", "models_closing_lines",
           "ranking_markdown", "rule_figure"]
