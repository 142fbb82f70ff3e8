"""The gate's checks of disparate degradation (`run --gate-on-conditions`).

One `Check` per judged group, condition and severity of results.json's `conditions` block,
criterion "degradation": `fail` on a violation (or an inconclusive verdict with --strict),
`warn` on an inconclusive one, `pass` otherwise; a verdict that could not be reached (no
inter-annotator IoU) is skipped with its reason. Small and not-annotated groups were not
judged and are not listed. Reads the typed record; never recomputes a number.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..results.conditions_record import ConditionsRecord
from ..results.names import INCONCLUSIVE, NOT_EVALUATED, VIOLATION
from .gate_checks import FAIL, NEED_IAA, PASS, SKIP, WARN, Check

CRITERION = "degradation"


def degradation_checks(record: ConditionsRecord, gate_on: str, strict: bool
                       ) -> Iterator[Check]:
    """The checks of every judged group under every condition and severity."""
    parameters = {d.condition: d.parameter for d in record.definitions}
    for attribute, block in record.attributes.items():
        for item in block.rows:
            if not item.gated:
                continue
            verdict = item.statistical if gate_on == "statistical" else item.point
            interval = item.excess_drop_ci
            common = dict(
                attribute=attribute, criterion=CRITERION,
                group=(f"{item.group} under {item.condition} "
                       f"{parameters.get(item.condition, 'severity')} = {item.severity:g}"),
                n=item.n, value=item.degraded, deviation=item.excess_drop,
                deviation_ci=interval if interval is not None and None not in interval
                else None,
                threshold=record.threshold, point_verdict=item.point,
                statistical_verdict=item.statistical, gate_on=gate_on)
            if verdict == NOT_EVALUATED or record.threshold is None:
                yield Check(status=SKIP, verdict=verdict, reason=(
                    "no inter-annotator IoU: disparate degradation not judged"),
                    need=NEED_IAA, **common)
            elif verdict == VIOLATION:
                yield Check(status=FAIL, verdict=verdict, **common)
            elif verdict == INCONCLUSIVE:
                yield Check(status=FAIL if strict else WARN, verdict=verdict, **common)
            else:
                yield Check(status=PASS, verdict=verdict, **common)


__all__ = ["CRITERION", "degradation_checks"]
