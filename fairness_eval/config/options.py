"""The catalogue of `fairness-eval run`'s options: one record per option, read by every stage.

Each `RunOption` says, once, what the option is: its name (the `Settings` field, also
`run`'s keyword and the Python API's), its flags (the first names it in messages; each,
without its dashes, is also a key of the configuration file), the value type a file
accepts (a key kind of `file_keys.py`), its rule (`rules.py`), its `--help` text and
metavar, and how results.json records it. Its default is the `Settings` field's. From the
catalogue, `cli_options.py` builds the click options, `file_keys.py` the configuration
file's key table, `field_rules.py` the rule of each field and `recording.py` the names
recorded, recorded only when set, left out of the configuration hash or in the resume key.
`tests/test_run_options.py` proves that they cannot drift: every field of `Settings` has
one entry here or is in `CONFIG_ONLY`.

The order is the configuration file's (and `fairness-eval init`'s); the order of `--help`
is that of the groups in `cli_options.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..results.names import LABEL_POLICIES
from . import condition_rules, rules
from .rules import CI_METHODS, EXECUTORS, EXIF_CHOICES, FAMILYWISE, METRICS, REFERENCES, STATISTICS

# Key kinds: how a configuration file's value is type-checked and converted (file_keys.py).
BOOL, INT, FLOAT, STR, PATH, MODEL = "bool", "int", "float", "str", "path", "model"
STR_LIST, INTERSECT = "str_list", "intersect"


def choices_metavar(choices: tuple[str, ...]) -> str:
    """The metavar of a choice: the settings' rule, not click, refuses any other value."""
    return "[" + "|".join(choices) + "]"


@dataclass(frozen=True)
class RunOption:
    """One option of `run`: its setting, flags, file value type, rule and help."""

    name: str  # the Settings field: run's keyword, the flag with dashes as underscores
    flags: tuple[str, ...]  # click's declarations ("--redact-paths/--no-redact-paths")
    kind: str  # what a configuration file's value must be (file_keys.convert_value)
    rule: rules.Rule  # converts and checks the value, whoever gave it
    help: str | None = None
    metavar: str | None = None
    multiple: bool = False  # repeatable on the command line (--attribute a --attribute b)
    # how results.json records it (recording.py): under another name; only when not at its
    # default (so that runs made before the option existed keep their records and hashes);
    # outside the configuration hash (where and how fast a run goes, never what it
    # computes); in the resume key (its change may change a per-image number)
    recorded_as: str | None = None
    recorded_when_set: bool = False
    hashed: bool = True
    per_image: bool = False

    @property
    def option(self) -> str:
        """The flag that names the option in messages ("--threshold")."""
        return self.flags[0].split("/")[0]

    @property
    def keys(self) -> tuple[str, ...]:
        """The configuration file's keys: the flags without dashes ("threshold",
        "mask-threshold")."""
        return tuple(flag.split("/")[0].lstrip("-") for flag in self.flags)


RUN_OPTIONS: tuple[RunOption, ...] = (
    # what is evaluated, and what predicts its masks
    RunOption("model", ("--model",), MODEL, rules.model,
              help="selfie, selfie-landscape, or a .tflite / .onnx segmentation model file "
                   "(fed as MediaPipe feeds its selfie models).",
              per_image=True),
    RunOption("model_spec", ("--model-spec",), PATH, rules.model_spec,
              help="A model spec (TOML): the model file and how to feed it and read its "
                   "output (see examples/model-specs/). Instead of --model.",
              recorded_when_set=True),
    RunOption("predictions", ("--predictions",), PATH, rules.folder,
              help="Folder of supplied predictions, <image id>.png (8-bit masks or "
                   "probability maps, person where value/255 > --threshold): no model runs.",
              recorded_when_set=True),
    # the run folder
    RunOption("out", ("--out",), PATH, rules.path,
              help="Run folder (default reports/<dataset>-<model>-<UTC timestamp>/).",
              hashed=False),
    RunOption("overwrite", ("--overwrite",), BOOL, rules.flag,
              help="Replace the results in a non-empty --out.",
              hashed=False),
    RunOption("resume", ("--resume",), BOOL, rules.flag,
              help="Continue an interrupted run in --out.",
              hashed=False),
    # attributes
    RunOption("attributes", ("--attribute",), STR_LIST, rules.names, multiple=True,
              help="Attribute column to evaluate (repeatable; default: the columns of a "
                   "standard vocabulary and those with an [attributes.NAME] table, or, "
                   "with neither, every attribute column)."),
    RunOption("intersect", ("--intersect",), INTERSECT, rules.crossings, multiple=True,
              help="Cross attributes, e.g. region,skin_tone (repeatable)."),
    RunOption("attribute_votes", ("--attribute-votes",), PATH, rules.path, metavar="FILE",
              help="Several annotators' votes that make attribute columns: a table "
                   "image,annotator,attribute,value (.csv) or a Label Studio JSON export.",
              recorded_when_set=True),
    RunOption("votes_image_key", ("--votes-image-key",), STR, rules.key_text, metavar="KEY",
              help="The key of a Label Studio task's data that names its image file.",
              recorded_when_set=True),
    RunOption("labels", ("--labels",), STR, rules.one_of(LABEL_POLICIES),
              metavar=choices_metavar(LABEL_POLICIES),
              help="How votes become labels: majority (the value most chosen; a tie "
                   "is (disputed)), unanimous (any disagreement is (disputed)) or resample "
                   "(every bootstrap resample draws each image's label from its vote "
                   "shares); (disputed) is never gated. Every gated group is also judged "
                   "under the other policy (resample, or majority beside resample).",
              recorded_when_set=True),
    RunOption("skip_invalid", ("--skip-invalid",), BOOL, rules.flag,
              help="Evaluate the valid rows and record the invalid ones as skipped."),
    RunOption("limit", ("--limit",), INT, rules.row_count, metavar="N",
              help="Only the first N rows (clips for video) in dataset order (recorded; "
                   "a quick first look, not a fair sample).",
              recorded_when_set=True),
    RunOption("sample", ("--sample",), INT, rules.row_count, metavar="N",
              help="Only N rows (clips) drawn without replacement with --seed (recorded).",
              recorded_when_set=True),
    # how masks are read
    RunOption("mask_threshold", ("--threshold", "--mask-threshold"), FLOAT,
              rules.mask_threshold, metavar="NUMBER",
              help="Person probability above which a pixel is person (the mask threshold).",
              recorded_as="threshold", per_image=True),
    RunOption("mask_person_value", ("--mask-person-value",), INT, rules.mask_person_value,
              metavar="N",
              help="Masks are label indices (e.g. 0 and 1, as FiftyOne, CVAT and Label "
                   "Studio export them): person where the value is N, in ground-truth, "
                   "ignore, annotator and supplied prediction masks; the VOC devkit's "
                   "person class. Default: 8-bit masks, >= 128 is person.",
              recorded_when_set=True, per_image=True),
    # where the work runs
    RunOption("threads", ("--threads",), INT, rules.threads, metavar="INTEGER",
              help="LiteRT (XNNPack) threads per worker (1 to 1024).",
              per_image=True),
    RunOption("workers", ("--workers",), INT, rules.at_least(1), metavar="INTEGER",
              help="Worker processes (default: the number of cores).",
              hashed=False),
    RunOption("executor", ("--executor",), STR, rules.one_of(EXECUTORS),
              metavar=choices_metavar(EXECUTORS),
              help="Where images are evaluated: local processes, or a Dask cluster "
                   "(needs fairness-eval[dask]).",
              recorded_when_set=True, hashed=False),
    RunOption("scheduler", ("--scheduler",), STR, rules.scheduler, metavar="tcp://HOST:PORT",
              help="With --executor dask: the scheduler of a running cluster (default: "
                   "start a local cluster of --workers processes).",
              recorded_when_set=True, hashed=False),
    RunOption("save_masks", ("--save-masks",), BOOL, rules.flag,
              help="Write predicted masks to <out>/masks/."),
    # which images are accepted, and what is measured
    RunOption("max_pixels", ("--max-pixels",), INT, rules.max_pixels, metavar="INTEGER",
              help="Largest image (width x height) accepted; a larger one is a validation "
                   "problem, never decoded.",
              recorded_when_set=True),
    RunOption("exif", ("--exif",), STR, rules.one_of(EXIF_CHOICES),
              metavar=choices_metavar(EXIF_CHOICES),
              help="Images with an EXIF orientation: score the stored pixels (ignore) or "
                   "turn them upright first (rotate: masks drawn on the displayed image).",
              recorded_when_set=True, per_image=True),
    RunOption("boundary_ratio", ("--boundary-ratio",), FLOAT, rules.boundary_ratio,
              metavar="NUMBER",
              help="Boundary IoU's band width as a share of the image diagonal.",
              recorded_when_set=True, per_image=True),
    RunOption("metric", ("--metric",), STR, rules.one_of(METRICS),
              metavar=choices_metavar(METRICS),
              help="What the criteria judge; all are reported (flicker: video only, lower "
                   "is better).",
              recorded_when_set=True),
    # capture conditions and confounders ([conditions] sets their severities: CONFIG_ONLY)
    RunOption("conditions", ("--conditions",), STR_LIST, condition_rules.conditions,
              metavar="LIST",
              help="Evaluate every image again under capture conditions, each at three "
                   "severities: dark, noise, blur, jpeg, occluder (comma-separated; each "
                   "multiplies the model work; severities from [conditions] in the config).",
              recorded_when_set=True),
    RunOption("save_conditions", ("--save-conditions",), PATH, rules.path, metavar="DIR",
              help="Also write each degraded image (and its masks) under DIR, one folder "
                   "dataset per condition and severity.",
              recorded_when_set=True, hashed=False),
    RunOption("derive", ("--derive",), STR_LIST, condition_rules.derived, metavar="LIST",
              help="Add attributes derived from the ground truth: person_share, people, "
                   "brightness (comma-separated).",
              recorded_when_set=True),
    RunOption("adjust_for", ("--adjust-for",), STR, condition_rules.optional_name,
              metavar="ATTRIBUTE",
              help="Beside each group's figure, its figure standardised to the whole "
                   "set's mix of this categorical attribute (e.g. person_share).",
              recorded_when_set=True),
    RunOption("gate_on_conditions", ("--gate-on-conditions",), BOOL, rules.flag,
              help="With --gate, a group that degrades disparately under a condition "
                   "fails the gate too.",
              recorded_when_set=True),
    # statistics
    RunOption("bootstrap", ("--bootstrap",), INT, rules.bootstrap, metavar="INTEGER",
              help="Bootstrap resamples."),
    RunOption("confidence", ("--confidence",), FLOAT, rules.confidence, metavar="NUMBER",
              help="Confidence level of the intervals."),
    RunOption("ci_method", ("--ci-method",), STR, rules.one_of(CI_METHODS),
              metavar=choices_metavar(CI_METHODS)),
    RunOption("seed", ("--seed",), INT, rules.at_least(0), metavar="INTEGER",
              help="Seed of every random draw (recorded)."),
    RunOption("statistic", ("--statistic",), STR, rules.one_of(STATISTICS),
              metavar=choices_metavar(STATISTICS),
              help="mean of per-image IoU (the card's) or pooled sum I / sum U."),
    # the fairness criteria
    RunOption("reference", ("--reference",), STR, rules.one_of(REFERENCES),
              metavar=choices_metavar(REFERENCES),
              help="The 'average' the criteria measure deviations from."),
    RunOption("min_group_size", ("--min-group-size",), INT, rules.at_least(1),
              metavar="INTEGER", help="Smaller groups are shown but not gated."),
    RunOption("sd_factor", ("--sd-factor",), FLOAT, rules.sd_factor, metavar="NUMBER",
              help="Criterion (a): standard deviations from the reference."),
    RunOption("sd_ddof", ("--sd-ddof",), INT, rules.sd_ddof, metavar="INTEGER",
              help="Criterion (a): 0 population SD, 1 sample SD."),
    RunOption("familywise", ("--familywise",), STR, rules.one_of(FAMILYWISE),
              metavar=choices_metavar(FAMILYWISE),
              help="Family-wise control of the statistical verdicts over all of a run's "
                   "gated checks: holm keeps the chance that a fair model fails anywhere "
                   "at or below 1 - confidence; none judges each check at --confidence."),
    RunOption("inter_annotator_iou", ("--inter-annotator-iou",), FLOAT,
              rules.inter_annotator_iou,
              help="Inter-annotator IoU for criterion (b), e.g. 0.9874 or 98.74; default: "
                   "computed from the dataset's masks_<annotator>/ folders."),
    # the card
    RunOption("formats", ("--format",), STR_LIST, rules.formats,
              help="Report formats: html, pdf, md, json (comma-separated)."),
    RunOption("card", ("--card",), PATH, rules.path,
              help="Card text (TOML) overriding the default intended uses, limitations, ..."),
    RunOption("examples", ("--examples",), INT, rules.at_least(0), metavar="INTEGER",
              help="Add the N lowest-IoU images per group to the card (off by default: they "
                   "are photographs of people; needs a run with --save-masks)."),
    RunOption("redact_paths", ("--redact-paths/--no-redact-paths",), BOOL, rules.flag,
              help="Published reports (cards, summary.md, model_card.json, comparison card "
                   "and comparison.md) name files relative to the dataset or by name and "
                   "SHA-256, never by an absolute local path; results.json and "
                   "comparison.json keep the full paths.",
              recorded_when_set=True, hashed=False),
    # the gate
    RunOption("gate", ("--gate",), BOOL, rules.flag,
              help="Exit 1 when a gated fairness criterion is violated."),
    RunOption("strict", ("--strict",), BOOL, rules.flag,
              help="With --gate, an inconclusive verdict fails too."),
    RunOption("gate_on", ("--gate-on",), STR, rules.gate_on,
              metavar=choices_metavar(rules.GATE_ON)),
    RunOption("allow_empty_gate", ("--allow-empty-gate",), BOOL, rules.flag,
              help="With --gate, pass when nothing could be gated (otherwise exit 2).",
              recorded_when_set=True),
)

# Settings fields no option sets: only a configuration file's tables do.
CONFIG_ONLY = {
    "condition_severities": "conditions",  # the [conditions] table's severity lists
    "per_attribute": "attributes",  # the [attributes.NAME] tables
}

RUN_OPTION = {option.name: option for option in RUN_OPTIONS}

__all__ = [
    "BOOL", "CONFIG_ONLY", "FLOAT", "INT", "INTERSECT", "MODEL", "PATH", "RUN_OPTION",
    "RUN_OPTIONS", "STR", "STR_LIST", "RunOption", "choices_metavar",
]
