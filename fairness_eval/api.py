"""The front door for a notebook: a per-image table in; groups, intervals and the gate out.

`assess` runs the statistics stage `run` runs (`fairness/assess.py` `evaluate`, under the
same checked `StatisticsSettings`) on a table already in memory, and gates the result as
`run --gate` and `check` do (`ci/gate.py` `gate_report`): with the same settings and seed,
its numbers are results.json's and its verdict is the gate's. Its keywords are `run`'s
options, spelled with underscores (`--min-group-size` is `min_group_size`), with the same
defaults and the same rules; a bad value is a UsageError of one line naming the keyword.

>>> import pandas as pd
>>> import fairness_eval as fe
>>> per_image = pd.DataFrame({
...     "region": ["north"] * 40 + ["south"] * 40 + ["west"] * 40 + ["east"] * 40,
...     "iou": [0.92, 0.95, 0.90, 0.94] * 30 + [0.74, 0.77, 0.72, 0.76] * 10,
... })
>>> res = fe.assess(per_image, attribute="region", inter_annotator_iou=0.96,
...                 bootstrap=2000, seed=0)
>>> res.by_group("region")[["n", "value", "deviation", "verdict_b"]].round(4)
         n   value  deviation  verdict_b
region
east    40  0.7475     -0.135  violation
north   40  0.9275      0.045       pass
south   40  0.9275      0.045       pass
west    40  0.9275      0.045       pass
>>> res.verdict
'failed'
>>> res.counts["violations"], res.counts["passes"]
(1, 3)

Groups come out in natural order (skin tone 2 before 10), the images without a value last.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .ci.decision import gate_counts, gate_decision
from .ci.gate import GateReport, gate_report
from .config.command_options import CheckOptions
from .config.field_rules import FIELD_RULES
from .config.python_keywords import (
    call_text,
    flags_as_keywords,
    given_keywords,
    keyword_only,
    one_name_each,
    options_without_keyword,
    unknown_keyword,
)
from .config.recording import json_ready
from .config.settings import StatisticsSettings
from .errors import UsageError
from .results.names import (
    ANNOTATOR_IOU_PREFIX,
    IOU_COLUMN,
    METRIC_LABELS,
    PER_IMAGE_COLUMNS,
    PER_IMAGE_FILE,
    RESULTS_FILE,
    SCHEMA_VERSION,
)
from .results.schema import ResultsDocument

if TYPE_CHECKING:
    import pandas as pd

# Columns of a per-image table that are never attributes: fairness-eval's own, the
# metrics, and the per-annotator agreement columns (by prefix).
_NOT_ATTRIBUTES = frozenset((*PER_IMAGE_COLUMNS, *METRIC_LABELS))


@dataclass(frozen=True, repr=False)
class Assessment:
    """What `assess` found: the results document (results.json's statistical blocks and
    the settings) and the gate's report over it."""

    document: ResultsDocument
    gate: GateReport = field(compare=False)
    # The per-image table assessed (`evaluate`: the run's per_image.csv), and the run
    # folder it was read from (None for a table given in memory).
    per_image: pd.DataFrame | None = field(default=None, compare=False)
    run_dir: Path | None = field(default=None, compare=False)

    @property
    def verdict(self) -> str:
        """The gate's decision, as `run --gate` and `check` make it: "passed", "failed" (a
        gated criterion is violated; also an inconclusive one under `strict`) or
        "nothing-checked" (every check skipped, without `allow_empty_gate`)."""
        return gate_decision(self.gate)

    @property
    def exit_code(self) -> int:
        """The exit code `run --gate` would give: 0 passed, 1 failed, 2 nothing checked."""
        return self.gate.exit_code

    @property
    def counts(self) -> dict[str, int]:
        """The gate's checks by what it decided: violations, inconclusive, passes,
        not_gated, failing, checks (as the GitHub step outputs give them)."""
        return gate_counts(self.gate)

    @property
    def attributes(self) -> list[str]:
        """The attributes and crossings assessed, in order."""
        return list(self.document.attributes)

    def by_group(self, attribute: str | None = None) -> pd.DataFrame:
        """One attribute's groups, one row each (results/frames.py lists the columns)."""
        from .results.frames import by_group

        return by_group(self.document, attribute)

    def to_frame(self) -> pd.DataFrame:
        """Every attribute's groups, long form (`attribute`, `group`, then by_group's)."""
        from .results.frames import to_frame

        return to_frame(self.document)

    def to_json(self) -> dict[str, Any]:
        """The results document as results.json lays it out (from `assess`, without the
        dataset and model blocks; from `evaluate`, the run's results.json)."""
        return self.document.to_json()

    def __repr__(self) -> str:
        folder = "" if self.run_dir is None else f", run_dir={str(self.run_dir)!r}"
        return (f"Assessment(verdict={self.verdict!r}, attributes={self.attributes!r}, "
                f"counts={self.counts!r}{folder})")


def assess(
    per_image: pd.DataFrame | Path | str,
    *,
    attribute: Sequence[str] | str = (),
    intersect: Sequence[Sequence[str] | str] | str = (),
    metric: str = "iou",
    statistic: str = "mean",
    bootstrap: int | str = 10_000,
    confidence: float | str = 0.95,
    ci_method: str = "bca",
    seed: int | str = 0,
    reference: str = "overall",
    min_group_size: int | str = 30,
    sd_factor: float | str = 3.0,
    sd_ddof: int | str = 0,
    familywise: str = "holm",
    inter_annotator_iou: float | str | None = None,
    gate_on: str = "statistical",
    strict: bool = False,
    allow_empty_gate: bool = False,
    **unknown: Any,
) -> Assessment:
    """Every group's figure, interval, deviation and verdicts, and the gate's decision.

    `per_image` is a DataFrame with an `iou` column (or `intersection` and `union` to
    compute it from, I / U with 0 / 0 as 1; `ignored_pixels` may sit beside them) and
    the attribute columns (a missing value puts an image in the not-annotated group;
    rows with a `status` column other than "ok" are left out); or a run folder, its
    results.json or its per_image.csv, whose per-image table is read as `report` reads it
    (a table edited since the run wrote it is refused). `attribute` names one column or
    several (default: every attribute column: for a run folder, those the run assessed);
    `metric` another column to judge (`boundary_iou`, `flicker`). The other keywords are
    `run`'s options of the same name (`fairness-eval run --help`).

    >>> import pandas as pd
    >>> from fairness_eval import assess
    >>> table = pd.DataFrame({"intersection": [90, 80, 0, 45], "union": [100, 100, 0, 50],
    ...                       "light": ["bright", "bright", "dim", "dim"]})
    >>> res = assess(table, attribute="light", min_group_size=1, bootstrap=200)
    >>> res.by_group()["value"].round(4).tolist()
    [0.85, 0.95]
    >>> assess(table, attribute="colour")
    Traceback (most recent call last):
    ...
    fairness_eval.errors.UsageError: attribute: 'colour' is not a column of the per-image table
    >>> assess(table, atribute="light")
    Traceback (most recent call last):
    ...
    fairness_eval.errors.UsageError: assess: unknown keyword 'atribute' (did you mean 'attribute'?)
    """
    if unknown:
        raise UsageError(_unknown_keyword(next(iter(unknown))))
    try:
        return _assess(per_image, attribute=attribute, intersect=intersect, metric=metric,
                       statistic=statistic, bootstrap=bootstrap, confidence=confidence,
                       ci_method=ci_method, seed=seed, reference=reference,
                       min_group_size=min_group_size, sd_factor=sd_factor, sd_ddof=sd_ddof,
                       familywise=familywise, inter_annotator_iou=inter_annotator_iou,
                       gate_on=gate_on, strict=strict, allow_empty_gate=allow_empty_gate)
    except UsageError as error:
        raise UsageError(_keyword_message(str(error))) from None


def evaluate(
    dataset: Path | str,
    *,
    config: Path | str | None = None,
    model: str = "selfie",
    model_spec: Path | str | None = None,
    predictions: Path | str | None = None,
    out: Path | str | None = None,
    overwrite: bool = False,
    resume: bool = False,
    images: Path | str | None = None,
    image_set: str | None = None,
    attribute: Sequence[str] | str = (),
    intersect: Sequence[Sequence[str] | str] | str = (),
    attribute_votes: Path | str | None = None,
    votes_image_key: str = "image",
    labels: str = "majority",
    skip_invalid: bool = False,
    threshold: float | str = 0.5,
    threads: int | str = 1,
    workers: int | str | None = None,
    save_masks: bool = False,
    executor: str = "local",
    scheduler: str | None = None,
    max_pixels: int | str = 100_000_000,
    exif: str = "ignore",
    mask_person_value: int | str | None = None,
    metric: str = "iou",
    boundary_ratio: float | str = 0.02,
    conditions: str = "",
    save_conditions: Path | str | None = None,
    derive: str = "",
    adjust_for: str | None = None,
    gate_on_conditions: bool = False,
    statistic: str = "mean",
    bootstrap: int | str = 10_000,
    confidence: float | str = 0.95,
    ci_method: str = "bca",
    seed: int | str = 0,
    reference: str = "overall",
    min_group_size: int | str = 30,
    sd_factor: float | str = 3.0,
    sd_ddof: int | str = 0,
    familywise: str = "holm",
    inter_annotator_iou: float | str | None = None,
    format: Sequence[str] | str = "html,pdf",  # run's --format, spelled as run spells it
    card: Path | str | None = None,
    examples: int | str = 0,
    gate: bool = False,
    strict: bool = False,
    allow_empty_gate: bool = False,
    gate_on: str = "statistical",
    **unknown: Any,
) -> Assessment:
    """Run a model over a dataset as `fairness-eval run` does, and assess the run folder.

    The evaluation is `run`'s own (`workflow.run`: the same dataset checks, workers, run
    folder, reports and, with `gate=True`, gate); its keywords are `run`'s options with
    underscores, with the same defaults and rules (`fairness-eval run --help`); an option
    of `run` without a keyword below is taken by its name as well (`run_options()` lists
    them). A configuration file is read only when `config` names one (`run` also finds
    ./fairness-eval.toml by itself): its values, `[attributes.NAME]` tables included, under
    the keywords given, as `run --config FILE` reads it, its hash recorded. The run folder
    (`out`; default a fresh temporary folder, named by the result's `run_dir`) is then read
    as `assess(run_dir)` reads it: the result's `per_image` is per_image.csv, its document
    results.json (model and dataset blocks included), its verdict the gate's over it, as
    `check` decides it.

    A tiny dataset in the folder layout, judged from supplied predictions (no model runs):

    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from PIL import Image
    >>> import fairness_eval as fe
    >>> root = Path(tempfile.mkdtemp())
    >>> data = root / "data"
    >>> for folder in (data / "images", data / "masks", root / "predicted"):
    ...     folder.mkdir(parents=True)
    >>> rows = ["image,light"]
    >>> for i in range(6):
    ...     Image.new("RGB", (8, 8)).save(data / "images" / f"{i}.png")
    ...     truth = np.zeros((8, 8), np.uint8)
    ...     truth[:4] = 255
    ...     Image.fromarray(truth).save(data / "masks" / f"{i}.png")
    ...     guess = truth.copy()
    ...     guess[4:4 + i % 2] = 255  # the odd images: one row too many
    ...     Image.fromarray(guess).save(root / "predicted" / f"{i}.png")
    ...     rows.append(f"{i},{'dim' if i % 2 else 'bright'}")
    >>> _ = (data / "attributes.csv").write_text("\\n".join(rows) + "\\n")
    >>> res = fe.evaluate(data, predictions=root / "predicted", attribute="light",
    ...                   min_group_size=1, bootstrap=200, format="md", workers=1,
    ...                   out=root / "run")  # doctest: +ELLIPSIS
    data: 6 of 6 rows evaluated, 0 skipped
    overall: n = 6, mean IoU  90.0% [83.3, 96.7], pooled IoU  88.9%
    ...
    >>> res.per_image[["image", "light", "iou"]].round(2).values.tolist()[:2]
    [['0', 'bright', 1.0], ['1', 'dim', 0.8]]
    >>> res.by_group()["value"].round(2).tolist()
    [1.0, 0.8]
    >>> res.run_dir == root / "run", (res.run_dir / "summary.md").is_file()
    (True, True)
    >>> res.document.dataset.evaluated, res.document.model.source, res.verdict
    (6, 'predictions', 'nothing-checked')
    >>> doc = fe.ResultsDocument.load(res.run_dir)  # the run's results.json, as written
    >>> doc == res.document, doc.by_group("light")["n"].tolist()
    (True, [3, 3])
    >>> import shutil; shutil.rmtree(root)
    """
    others = run_options()
    for name in unknown:
        if name not in others:
            raise UsageError(_unknown_keyword(name, evaluate, (*keywords(evaluate), *others)))
    given = {**given_keywords(evaluate, locals()), **unknown}
    try:
        return _evaluate(dataset, given)
    except UsageError as error:
        raise UsageError(_evaluate_message(str(error))) from None


def _evaluate(dataset: Any, given: dict[str, Any]) -> Assessment:
    import shutil
    import tempfile

    from .config.files import FileConfig, load_config
    from .config.merge import merge_run_settings
    from .workflow import run as run_workflow

    one_name_each(given)
    command = call_text("fairness_eval.evaluate", dataset, given)
    config_path = given.pop("config", None)
    file_config = load_config(config_path) if config_path is not None else None
    where = {name: given.pop(name) for name in [*given] if name in _dataset_keywords()}
    temporary = "out" not in given
    settings = merge_run_settings(file_config or FileConfig(), given)
    if temporary:
        settings = replace(settings, out=Path(tempfile.mkdtemp(prefix="fairness-eval-")))
    try:
        done = run_workflow(dataset, settings, file_config=file_config, command=command,
                            **where)
    except UsageError:
        if temporary:  # nobody knows its name: nothing to resume from
            shutil.rmtree(settings.out, ignore_errors=True)
        raise
    if done.error and done.gate_exit_code is None:  # the run is not accepted
        raise UsageError(f"{done.run_dir}: {done.error}")
    table, document, run_dir = _table(done.run_dir)
    assert document is not None  # the run wrote its results.json
    options = CheckOptions(strict=settings.strict, gate_on=settings.gate_on,
                           allow_empty_gate=settings.allow_empty_gate)
    return Assessment(document, gate_report(document, options), table, run_dir)


def run_options() -> tuple[str, ...]:
    """The names `evaluate` takes besides its own keywords: every other option of `run`, as
    the settings' key table (`config/file_keys.py`, also the configuration file's) and the
    run function's dataset keywords name them (an option of `run` added since `evaluate`'s
    signature was written)."""
    own = keywords(evaluate)
    return tuple(sorted((options_without_keyword(own) | set(_dataset_keywords())) - set(own)))


def _dataset_keywords() -> tuple[str, ...]:
    """The keywords of `workflow.run` that locate a dataset's rows (images, image_set, ...)
    rather than set the run's Settings: handed to it as they are."""
    from .workflow import run as run_workflow

    internal = {"file_config", "command", "echo", "log", "progress"}
    return tuple(name for name in keyword_only(run_workflow) if name not in internal)


def _evaluate_message(message: str) -> str:
    import inspect

    parameters = inspect.signature(evaluate).parameters
    flags = {name for name in keywords(evaluate) if parameters[name].default is False}
    return flags_as_keywords(message, {*keywords(evaluate), *run_options()}, flags)


def keywords(function: Any = None) -> tuple[str, ...]:
    """The keywords `assess` (or `evaluate`) takes besides its first argument: `run`
    options' names."""
    return keyword_only(assess if function is None else function)


def _unknown_keyword(name: str, function: Any = None, known: Sequence[str] = ()) -> str:
    function = assess if function is None else function
    return unknown_keyword(name, function.__name__, known or keywords(function))


def _keyword_message(message: str) -> str:
    """A rule's message in the terms of this call: "--min-group-size: ..." names the
    keyword `min_group_size`, "per-image table ..." the argument `per_image`."""
    option = re.match(r"--([a-z][a-z-]*)", message)
    if option and option.group(1).replace("-", "_") in keywords():
        return option.group(1).replace("-", "_") + message[option.end():]
    return re.sub(r"^per-image table", "per_image", message)


def _assess(per_image: Any, *, attribute: Any, intersect: Any, gate_on: Any, strict: Any,
            allow_empty_gate: Any, **statistics: Any) -> Assessment:
    from .fairness.assess import evaluate

    table, run, folder = _table(per_image)
    settings = StatisticsSettings(intersect=intersect, **statistics)
    options = CheckOptions(strict=strict, gate_on=gate_on, allow_empty_gate=allow_empty_gate)
    names = _rule("attributes", attribute) or _default_attributes(table, run)
    _refuse_drawn_labels(run, folder, [*names, *(c for crossed in settings.intersect
                                                  for c in crossed)])
    table = _with_iou(table)
    blocks = evaluate(table, names, settings)
    recorded = {
        "attributes": list(names),
        **{name: value for name, value in json_ready(asdict(settings)).items()
           if name not in ("min_group_sizes", "gated_criteria")},
        "gate_on": options.gate_on, "strict": options.strict,
        "allow_empty_gate": options.allow_empty_gate,
    }
    document = ResultsDocument.from_json(
        {"schema_version": SCHEMA_VERSION, "kind": "run", "settings": recorded, **blocks},
        source="assess")
    return Assessment(document, gate_report(document, options), table, folder)


def _refuse_drawn_labels(run: ResultsDocument | None, folder: Path | None,
                        names: Sequence[str]) -> None:
    """A run that drew an attribute's labels from votes (`--labels resample`) cannot be
    judged again from its per-image table, which holds one (majority) label per image."""
    for name in names:
        record = (run.label_agreement or {}).get(name) if run is not None else None
        if record is not None and record.policy == "resample":
            raise UsageError(f"per_image: {folder} drew {name}'s labels from annotators' votes "
                             "(--labels resample) and its per-image table holds one label per "
                             "image; read its figures with ResultsDocument.load(...).by_group()")


def _rule(field_name: str, value: Any) -> Any:
    option, rule = FIELD_RULES[field_name]
    return rule(value, option)


def _table(per_image: Any) -> tuple[pd.DataFrame, ResultsDocument | None, Path | None]:
    """The per-image table, and the run's results document and folder when read from a run
    folder."""
    import pandas as pd

    if isinstance(per_image, pd.DataFrame):
        return per_image, None, None
    if not isinstance(per_image, (str, os.PathLike)):
        raise UsageError(f"per_image: expected a pandas DataFrame or a run folder, not "
                         f"{type(per_image).__name__}")
    from .results.document import read_per_image, read_results, verify_tables

    path = Path(per_image)
    if path.is_file() and path.name not in (RESULTS_FILE, PER_IMAGE_FILE):
        raise UsageError(f"per_image: {path} is neither a run folder nor its {RESULTS_FILE} "
                         f"or {PER_IMAGE_FILE} (read another table with pandas)")
    if not path.exists():
        raise UsageError(f"per_image: {path} does not exist")
    folder = path if path.is_dir() else path.parent
    run = read_results(folder) if (folder / RESULTS_FILE).is_file() else None
    if run is not None:
        verify_tables(folder, run)
    return read_per_image(folder), run, folder


def _default_attributes(table: pd.DataFrame, run: ResultsDocument | None) -> tuple[str, ...]:
    """What `run` assesses when no --attribute is given: the run's own attributes, else
    every column of the table that is neither fairness-eval's nor a metric."""
    if run is not None:
        names = tuple(name for name, block in run.attributes.items()
                      if block.kind == "attribute")
    else:
        names = tuple(str(c) for c in table.columns
                      if str(c) not in _NOT_ATTRIBUTES
                      and not str(c).startswith(ANNOTATOR_IOU_PREFIX))
    if not names:
        raise UsageError("attribute: the per-image table has no attribute column; name "
                         "the columns to group by (attribute=...)")
    return names


def _with_iou(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with its `iou` column, computed from intersection and union when absent."""
    if IOU_COLUMN in table.columns:
        return table
    if not {"intersection", "union"} <= set(table.columns):
        raise UsageError(f"per_image: no {IOU_COLUMN!r} column, nor 'intersection' and "
                         "'union' to compute it from")
    import numpy as np
    import pandas as pd

    from .stats.bootstrap import ratio

    intersection = pd.to_numeric(table["intersection"], errors="coerce").to_numpy(float)
    union = pd.to_numeric(table["union"], errors="coerce").to_numpy(float)
    with np.errstate(invalid="ignore"):
        iou = ratio(intersection, union)
    return table.assign(**{IOU_COLUMN: iou})


__all__ = ["Assessment", "assess", "evaluate", "keywords", "run_options"]
