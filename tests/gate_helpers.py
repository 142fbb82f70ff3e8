"""Small synthetic results documents (docs/results-schema.md) for the gate, CI-output and
comparison tests: each group is given by its numbers and verdicts, nothing else is filled in
beyond what the schema requires."""

from __future__ import annotations

import copy
from typing import Any


def group(
    value: float,
    deviation: float,
    deviation_ci: tuple[float, float],
    *,
    n: int = 50,
    a: tuple[str, str] = ("pass", "pass"),
    b: tuple[str, str] = ("pass", "pass"),
    small: bool = False,
    not_annotated: bool = False,
) -> dict[str, Any]:
    """One group; `a` and `b` are (point, statistical) verdicts."""
    return {
        "n": n, "mean_iou": value, "pooled_iou": value, "value": value,
        "ci": [value - 0.02, value + 0.02],
        "deviation": deviation, "deviation_ci": list(deviation_ci),
        "verdicts": {"a": {"point": a[0], "statistical": a[1]},
                     "b": {"point": b[0], "statistical": b[1]}},
        "small_group": small, "not_annotated": not_annotated,
        "gated": not (small or not_annotated), "n_needed": None, "note": None,
    }


def attribute(groups: dict[str, dict[str, Any]], *, a_can_fire: bool = True,
              b_evaluated: bool = True, threshold_a: float = 0.06,
              threshold_b: float = 0.09, verdict: str = "pass") -> dict[str, Any]:
    return {
        "kind": "attribute", "k": len(groups), "reference": 0.8, "reference_kind": "overall",
        "sd": threshold_a / 3, "max_attainable_sd": 3.0,
        "range": {"value": 0.05, "min_group": None, "max_group": None, "threshold": threshold_b},
        "criteria": {
            "a": {"threshold": threshold_a, "factor": 3.0, "ddof": 0, "can_fire": a_can_fire,
                  "note": None if a_can_fire else "with k = 3 groups criterion (a) cannot fire"},
            "b": {"threshold": threshold_b if b_evaluated else None, "evaluated": b_evaluated,
                  "note": None if b_evaluated else "no inter-annotator IoU: not evaluated"},
        },
        "verdict": verdict,
        "groups": groups,
    }


def results(attributes: dict[str, dict[str, Any]], *, settings: dict[str, Any] | None = None,
            confidence: float = 0.95) -> dict[str, Any]:
    return copy.deepcopy({
        "schema_version": "2.0", "kind": "run",
        "model": {"name": "selfie", "sha256": "0" * 64},
        "dataset": {"name": "synthetic", "sha256": "1" * 64, "rows": 100, "evaluated": 100,
                    "skipped": []},
        "settings": settings or {},
        "bootstrap": {"method": "percentile", "resamples": 1000, "confidence": confidence,
                      "seed": 0, "statistic": "mean"},
        "overall": {"n": 100, "mean_iou": 0.8, "value": 0.8, "ci": [0.78, 0.82]},
        "attributes": attributes,
    })


def mixed_results() -> dict[str, Any]:
    """Two attributes: a violation (region south, b), an inconclusive check (east, b), a
    small group, a not-annotated group, and a criterion (a) that cannot fire (gender)."""
    V, INC, P = "violation", "inconclusive", "pass"
    return results({
        "region": attribute({
            "north": group(0.84, 0.04, (0.01, 0.07)),
            "south": group(0.68, -0.12, (-0.16, -0.095), n=64, b=(V, V)),
            "east": group(0.74, -0.06, (-0.11, -0.02), b=(P, INC)),
            "tiny": group(0.50, -0.30, (-0.5, -0.1), n=5, small=True, b=(V, V)),
        }),
        "gender": attribute({
            "female": group(0.80, 0.0, (-0.02, 0.02)),
            "male": group(0.79, -0.01, (-0.03, 0.01)),
            "(not annotated)": group(0.6, -0.2, (-0.3, -0.1), not_annotated=True, b=(V, V)),
        }, a_can_fire=False),
    })
