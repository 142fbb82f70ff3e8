"""comparison.md and the closing lines of `compare` for several models, from a ModelComparison.

Formatting only: each model's figures are those its run recorded, each change against the
baseline is the pairwise record's (results/model_comparison_record.py). With two runs the
pairwise texts of report/comparison_markdown.py are used unchanged.
"""

from __future__ import annotations

from ..results.model_comparison_record import ModelComparison
from .comparison_markdown import closing_lines, comparison_markdown
from .formatting import interval, pct, points
from .text import markdown_text


def models_closing_lines(comparison: ModelComparison) -> list[str]:
    """Two runs: the pairwise lines. More: each candidate's lines, then the overall outcome."""
    if len(comparison.pairs) == 1:
        return closing_lines(comparison.pairs[0])
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
    lines.append(f"comparison gate: {status} ({detail})")
    return lines


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


__all__ = ["model_comparison_markdown", "models_closing_lines"]
