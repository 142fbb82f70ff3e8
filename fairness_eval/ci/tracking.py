"""Experiment tracking: a finished run folder logged to MLflow (`run --mlflow`), read from its
results document alone, as the other reporters read it.

What one MLflow run holds:
- parameters: every recorded setting (`settings.<key>`), the model's and the dataset's name
  and SHA-256, the configuration's hash, the metric judged and the schema version;
- metrics: the overall figure with its interval (`overall.value`, `overall.ci_low`,
  `overall.ci_high`, `overall.n`, ...), each attribute's spread (`<attribute>.sd`,
  `<attribute>.range`) and each group's figure with its interval and size
  (`<attribute>/<group>.value`, `.ci_low`, `.ci_high`, `.n`, `.deviation`), and the gate's
  counts (`gate.violations`, ...);
- tags: the gate's decision under the run's recorded policy (`fairness_eval.gate`: passed,
  failed or nothing-checked), whether the run applied it (`fairness_eval.gated`), and each
  attribute's verdict (`fairness_eval.verdict.<attribute>`);
- artifacts: results.json, the per-image (or per-frame and per-clip) tables, the cards and
  outputs the run wrote, and metric_names.json, which maps each metric name back to the
  attribute and group it measures.

MLflow accepts names of letters, digits and `_ - . / space`; any other character of an
attribute or group name ("female×dark", "(not annotated)") becomes `_`, and a name that
would then repeat another gets `_2`, `_3`. MLflow (the `[mlflow]` extra, tested with
mlflow-skinny) is imported only when tracking is asked for; the tracking URI is MLflow's
own (MLFLOW_TRACKING_URI, else its default), checked before the model loads.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..results.names import (
    CONDITIONS_FILE,
    JUNIT_FILE,
    MODEL_CARD_HTML,
    MODEL_CARD_JSON,
    MODEL_CARD_PDF,
    PER_CLIP_FILE,
    PER_FRAME_FILE,
    PER_IMAGE_FILE,
    RESULTS_FILE,
    SUMMARY_FILE,
)
from ..results.schema import ResultsDocument

OPTION = "--mlflow"
EXTRA_HINT = "pip install 'fairness-eval[mlflow]'"
TAG_PREFIX = "fairness_eval."
NAMES_ARTIFACT = "metric_names.json"
# The run folder's files logged as artifacts, when the run wrote them.
ARTIFACT_FILES = (RESULTS_FILE, PER_IMAGE_FILE, PER_FRAME_FILE, PER_CLIP_FILE, CONDITIONS_FILE,
                  SUMMARY_FILE, MODEL_CARD_HTML, MODEL_CARD_PDF, MODEL_CARD_JSON, JUNIT_FILE)
# MLflow's limit on a parameter's value (characters); a longer recorded setting is cut.
MAX_PARAM_LENGTH = 6000
_UNSAFE = re.compile(r"[^A-Za-z0-9_\-. /]")


def check_tracking() -> str:
    """The tracking URI MLflow will log to, once MLflow is known to be importable and able to
    open it; UsageError (one line) otherwise. Called before the model loads."""
    try:
        import mlflow
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise UsageError(f"{OPTION}: MLflow is not installed: {EXTRA_HINT}") from None
    uri = mlflow.get_tracking_uri()
    try:
        MlflowClient(uri)  # opens the store: a refused or unusable backend fails here
    except Exception as error:  # MLflow's store errors share no base class worth naming
        raise UsageError(f"{OPTION}: MLflow cannot use the tracking URI {uri}: "
                         f"{_first_line(error)} (set MLFLOW_TRACKING_URI to a tracking "
                         "server's http(s):// address, or install the full mlflow package "
                         "for its local sqlite store)") from None
    return uri


def metric_name(*parts: str) -> str:
    """A name MLflow accepts: each part's other characters as `_`, and no `..` (a path)."""
    name = "/".join(_UNSAFE.sub("_", part) for part in parts)
    while ".." in name:
        name = name.replace("..", "_.")
    return name.strip(" ") or "_"


class _Names:
    """Sanitised names kept unique: a repeat gets `_2`, `_3`; each name's origin is kept."""

    def __init__(self) -> None:
        self.taken: set[str] = set()
        self.origins: dict[str, list[str]] = {}

    def unique(self, origin: list[str], *parts: str) -> str:
        base = metric_name(*parts)
        name, count = base, 1
        while name in self.taken:
            count += 1
            name = f"{base}_{count}"
        self.taken.add(name)
        self.origins[name] = origin
        return name


def tracked_params(document: ResultsDocument) -> dict[str, str]:
    """The run's parameters as MLflow records them (text, at most MAX_PARAM_LENGTH)."""
    params: dict[str, Any] = {f"settings.{key}": value
                              for key, value in document.settings.values.items()}
    model, data = document.model, document.evaluated_data
    params.update({
        "model.name": model.name if model else None,
        "model.sha256": model.sha256 if model else None,
        "dataset.name": data.name if data else None,
        "dataset.sha256": data.sha256 if data else None,
        "config.sha256": document.config.sha256 if document.config else None,
        "metric": document.metric,
        "schema_version": document.schema_version,
    })
    return {metric_name(key): _param_text(value) for key, value in params.items()}


def tracked_metrics(document: ResultsDocument) -> tuple[dict[str, float], dict[str, list[str]]]:
    """(metrics, the attribute and group each metric name stands for)."""
    names = _Names()
    metrics: dict[str, float] = {}

    def put(origin: list[str], parts: tuple[str, ...], value: Any) -> None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            metrics[names.unique(origin, *parts)] = float(value)

    overall = document.overall
    for stat, value in (("value", overall.value), ("mean_iou", overall.mean_iou),
                        ("pooled_iou", overall.pooled_iou), ("n", overall.n)):
        put(["overall", stat], (f"overall.{stat}",), value)
    for bound, value in zip(("ci_low", "ci_high"), overall.ci or (None, None), strict=True):
        put(["overall", bound], (f"overall.{bound}",), value)
    for attribute in document.attributes.values():
        # A "/" inside a name would read as another level of the name: `_` too.
        stem = names.unique([attribute.name], attribute.name.replace("/", "_"))
        put([attribute.name, "sd"], (f"{stem}.sd",), attribute.sd)
        put([attribute.name, "range"], (f"{stem}.range",),
            attribute.range.value if attribute.range else None)
        groups = _Names()
        for group in attribute.groups.values():
            label = groups.unique([group.name], group.name.replace("/", "_"))
            for stat, value in (("value", group.value), ("n", group.n),
                                ("deviation", group.deviation)):
                put([attribute.name, group.name, stat], (stem, f"{label}.{stat}"), value)
            for bound, value in zip(("ci_low", "ci_high"), group.ci or (None, None),
                                    strict=True):
                put([attribute.name, group.name, bound], (stem, f"{label}.{bound}"), value)
    return metrics, {name: origin for name, origin in names.origins.items() if name in metrics}


def tracked_tags(document: ResultsDocument, gated: bool) -> dict[str, str]:
    """The gate's decision under the recorded policy, whether the run gated, the verdicts."""
    from .decision import gate_decision
    from .gate import gate_report

    tags = {f"{TAG_PREFIX}gate": gate_decision(gate_report(document)),
            f"{TAG_PREFIX}gated": str(gated).lower()}
    for attribute in document.attributes.values():
        tags[f"{TAG_PREFIX}verdict.{metric_name(attribute.name)}"] = attribute.verdict or ""
    return tags


def log_run(run_dir: Path | str, document: ResultsDocument, *, gated: bool = False,
            run_name: str | None = None) -> str:
    """Log a finished run folder to the active MLflow tracking URI; its MLflow run id.

    Inside an active MLflow run (a notebook's `mlflow.start_run()`) it is logged as a nested
    run. UsageError (one line) when MLflow refuses it."""
    import mlflow

    from .decision import gate_counts
    from .gate import gate_report

    run_dir = Path(run_dir)
    metrics, origins = tracked_metrics(document)
    metrics.update({f"gate.{key}": float(value)
                    for key, value in gate_counts(gate_report(document)).items()})
    data = document.evaluated_data
    name = run_name or " on ".join(
        part for part in (document.model_name, data.name if data else None) if part) or None
    try:
        with mlflow.start_run(run_name=name, nested=mlflow.active_run() is not None) as run:
            mlflow.log_params(tracked_params(document))
            mlflow.log_metrics(metrics)
            mlflow.set_tags(tracked_tags(document, gated))
            for file in ARTIFACT_FILES:
                if (run_dir / file).is_file():
                    mlflow.log_artifact(str(run_dir / file))
            mlflow.log_dict(origins, NAMES_ARTIFACT)
            return run.info.run_id
    except Exception as error:  # a server or store refusal: the run folder stays written
        raise UsageError(f"{OPTION}: logging {run_dir} to {mlflow.get_tracking_uri()} "
                         f"failed: {_first_line(error)}") from None


def _param_text(value: Any) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, float) and not math.isfinite(value):
        text = str(value)
    else:
        text = json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= MAX_PARAM_LENGTH else text[:MAX_PARAM_LENGTH - 1] + "…"


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
