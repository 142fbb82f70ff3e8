"""The layer rules of docs/architecture.md, read from the package's import statements.

Every import in fairness_eval/ (at module level, inside functions and under TYPE_CHECKING
alike) is resolved to the module it names, and each rule lists the imports that break it,
one line each: the file and line, what it imports, and the rule. Checked on the source
text, so a forbidden import fails here even where no test runs the code that holds it.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "fairness_eval"

# The package root: the face (`__init__`, and `api`, the notebook's front door), the CLI
# (cli*.py) and helpers every layer may use. A stage's code goes into its subpackage.
FACE = {"fairness_eval", "fairness_eval.api"}
CROSS_CUTTING = {"fairness_eval.errors", "fairness_eval.atomicwrite", "fairness_eval.userfiles",
                 "fairness_eval.terminal", "fairness_eval.interrupts"}
# What a reporter (report/, ci/) may import besides the helpers above: the results
# contract, the reporters' own modules, the validated option records and option names
# the workflow hands them (config/), and the package's version (the root's __version__).
REPORTER_MAY_IMPORT = ("fairness_eval.results", "fairness_eval.report", "fairness_eval.ci",
                       "fairness_eval.config")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    path = REPO.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every fairness_eval module `path` imports; `from P import name`
    names the module P.name when there is one, else P."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1]
                                + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found = [f"{base}.{alias.name}" if is_module(f"{base}.{alias.name}") else base
                     for alias in node.names]
        else:
            continue
        for name in found:
            if name == "fairness_eval" or name.startswith("fairness_eval."):
                yield node.lineno, name


def within(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


@functools.cache
def all_imports() -> tuple[tuple[str, str, int, str], ...]:
    """(importer module, its file relative to the repository, line, imported module); the
    package parsed once for all the rules."""
    return tuple((module_name(path), str(path.relative_to(REPO)), line, name)
                 for path in sorted(PACKAGE.rglob("*.py")) for line, name in imports(path))


def broken(rule: str, allowed) -> list[str]:
    return [f"{where}:{line}: {me} imports {name}: {rule}"
            for me, where, line, name in all_imports() if not allowed(me, name)]


def workflow_on_top(me: str, name: str) -> bool:
    if not within(name, "fairness_eval.workflow"):
        return True
    return (within(me, "fairness_eval.workflow") or me in FACE
            or me.rpartition(".")[2].startswith("cli") and me.count(".") == 1)


def evaluation_without_fairness(me: str, name: str) -> bool:
    return not (within(me, "fairness_eval.evaluation") and within(name, "fairness_eval.fairness"))


def reporters_read_results(me: str, name: str) -> bool:
    if not within(me, "fairness_eval.report", "fairness_eval.ci"):
        return True
    return (name == "fairness_eval" or name in CROSS_CUTTING
            or within(name, *REPORTER_MAY_IMPORT))


def test_nothing_below_workflow_imports_it():
    assert broken("workflow/ is the orchestrator: only the face and the CLI (cli*.py) call "
                  "it; a stage never imports it", workflow_on_top) == []


def test_evaluation_never_imports_fairness():
    assert broken("evaluation/ runs tasks and stores rows; the fairness stage is called by "
                  "workflow/ (fairness/stage.py)", evaluation_without_fairness) == []


def test_reporters_import_only_results_and_their_own_helpers():
    assert broken("a reporter (report/, ci/) reads the results document; it imports only "
                  "results/, report/, ci/, config/ and the root's helpers (errors, atomicwrite, "
                  "userfiles, terminal), never a stage", reporters_read_results) == []


def test_the_package_root_holds_only_the_face_the_cli_and_cross_cutting_helpers():
    root = sorted(module_name(p) for p in PACKAGE.glob("*.py"))
    stray = [name for name in root
             if name not in FACE | CROSS_CUTTING
             and not name.rpartition(".")[2].startswith("cli")]
    assert stray == [], (f"{', '.join(stray)}: the package root holds only the face "
                         "(__init__, api), the CLI (cli*.py) and cross-cutting helpers "
                         f"({', '.join(sorted(n.rpartition('.')[2] for n in CROSS_CUTTING))}); "
                         "a command goes into workflow/, a stage's code into its subpackage")


def test_no_two_modules_share_a_basename():
    seen: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        if path.name != "__init__.py":
            seen.setdefault(path.name, []).append(str(path.relative_to(REPO)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}


def test_the_rules_see_the_imports_they_judge():
    # A resolver that found nothing would pass every rule: the known imports are seen.
    found = {(me, name) for me, _, _, name in all_imports()}
    assert ("fairness_eval.workflow.run", "fairness_eval.fairness.stage") in found
    assert ("fairness_eval.cli", "fairness_eval.workflow") in found
    assert ("fairness_eval.ci.gate", "fairness_eval.results.document") in found
