"""Which tier a test belongs to: the facts that put it in the slow tier, read from its source.

`pytest -m "not slow"` is the loop while editing: unit and contract tests, no real model,
browser, cluster or child Python. Tests are marked slow from facts about them rather than by
hand, so a new test lands in the right tier without anyone remembering to mark it. A test is
slow when it
  - is marked `real_run`, or needs the real model through its fixtures (`model_file`, and so
    `voc_run`, `voc_property_run` and every fixture built on them);
  - or its body, or a fixture or helper it reaches in its own module or in a tests/ helper
    module, does one of:
      names one of HEAVY_NAMES: the model runtime, a real run, a browser, a Dask cluster, the
        shared models folder;
      runs Python in a child process (the CLI or a script): a subprocess call whose command
        names sys.executable, a module constant built from it, or a variable named python;
      runs `fairness-eval run` in this process (a call whose first argument is "run")
        without --predictions, so the model runs, unless the body checks for a refusal
        (exit code 2, pytest.raises, a helper named for a refusal) and never for exit code 0:
        a refusal comes before any model loads;
      renders a PDF card: render_reports with "pdf" among its formats.
What these rules miss and still takes more than half a second carries @pytest.mark.slow.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass
from pathlib import Path

import pytest

SLOW_FIXTURES = frozenset({"model_file"})
HEAVY_NAMES = frozenset({
    "Segmenter", "resolve_model", "evaluate_samples", "evaluate_clip", "run_evaluation",
    "load_page", "LocalCluster", "MODELS",
})
SPAWNS = frozenset({"Popen", "run", "call", "check_call", "check_output"})


@dataclass(frozen=True)
class ModuleFacts:
    """What one tests/ module binds at its top level."""

    heavy: frozenset[str]  # heavy names, its functions and classes that reach one, imported ones
    python: frozenset[str]  # names bound to a command that runs Python
    pdf: frozenset[str]  # names bound to a value that holds "pdf"


@dataclass(frozen=True)
class Body:
    """One definition, read once: the names it uses and whether it is heavy by itself."""

    names: frozenset[str]
    heavy: bool


def is_slow(item: pytest.Function) -> bool:
    """Whether the rules above put this test in the slow tier."""
    fixtures = set(item.fixturenames)
    if item.get_closest_marker("real_run") or SLOW_FIXTURES & fixtures:
        return True
    facts = module_facts(Path(item.module.__file__))
    if fixtures & facts.heavy:
        return True
    code = getattr(inspect.unwrap(item.function), "__code__", None)
    if code is None:
        return False
    path = Path(code.co_filename)
    facts = module_facts(path)
    body = _BODIES[path].get(code.co_firstlineno)
    return body is not None and (body.heavy or bool(body.names & facts.heavy))


_FACTS: dict[Path, ModuleFacts] = {}
_BODIES: dict[Path, dict[int, Body]] = {}  # every function by its first line, decorators too


def module_facts(path: Path) -> ModuleFacts:
    if path in _FACTS:
        return _FACTS[path]
    _FACTS[path] = ModuleFacts(HEAVY_NAMES, frozenset(), frozenset())  # an import cycle
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    heavy = set(HEAVY_NAMES)
    python = {"CLI", "EXE"}
    pdf = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            helper = path.parent / f"{node.module}.py"
            if helper.is_file():
                imported = module_facts(helper).heavy
                heavy |= {a.asname or a.name for a in node.names if a.name in imported}
        elif isinstance(node, ast.Assign):
            names = {t.id for t in node.targets if isinstance(t, ast.Name)}
            if "sys.executable" in ast.unparse(node.value):
                python |= names
            if any(isinstance(n, ast.Constant) and n.value == "pdf" for n in ast.walk(node)):
                pdf |= names
    facts = ModuleFacts(frozenset(heavy), frozenset(python), frozenset(pdf))
    _BODIES[path] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = read_body(node, facts)
            for line in (node.lineno, *(d.lineno for d in node.decorator_list)):
                _BODIES[path][line] = body
    top = {node.name: read_body(node, facts) for node in tree.body
           if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    grown = True
    while grown:  # a function or class that uses a heavy one is heavy
        reached = {name for name, body in top.items() if body.heavy or body.names & heavy}
        grown = not reached <= heavy
        heavy |= reached
    _FACTS[path] = ModuleFacts(frozenset(heavy), facts.python, facts.pdf)
    return _FACTS[path]


def read_body(tree: ast.AST, facts: ModuleFacts) -> Body:
    names: set[str] = set()
    called: set[str] = set()
    compared: set[object] = set()
    heavy = runs = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and node.attr in HEAVY_NAMES:
            heavy = True
        elif isinstance(node, ast.Compare) and any(isinstance(op, ast.Eq) for op in node.ops):
            compared |= {c.value for c in node.comparators if isinstance(c, ast.Constant)}
        elif isinstance(node, ast.Call):
            func = node.func
            called.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
            heavy = heavy or _spawns_python(node, facts) or _renders_a_pdf(node, facts)
            runs = runs or _runs_the_model(node)
    # A run that the body expects refused (exit code 2, pytest.raises, a helper named for a
    # refusal) and never expects to succeed (exit code 0) stops before any model loads.
    refused = (2 in compared or "raises" in called or any("refus" in c for c in called)) \
        and 0 not in compared
    return Body(frozenset(names), heavy or (runs and not refused) or bool(names & HEAVY_NAMES))


def _spawns_python(call: ast.Call, facts: ModuleFacts) -> bool:
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr in SPAWNS
            and isinstance(func.value, ast.Name) and func.value.id == "subprocess"
            and call.args):
        return False
    for node in ast.walk(call.args[0]):
        if isinstance(node, ast.Attribute) and node.attr == "executable":
            return True
        if isinstance(node, ast.Name) and (node.id in facts.python or "python" in node.id):
            return True
    return False


def _runs_the_model(call: ast.Call) -> bool:
    if not call.args:
        return False
    first = call.args[0]
    if isinstance(first, (ast.List, ast.Tuple)) and first.elts:
        first = first.elts[0]
    else:  # main(monkeypatch, capsys, "run", ...): the first argument that is no fixture
        first = next((a for a in call.args if not isinstance(a, ast.Name)), first)
    if not (isinstance(first, ast.Constant) and first.value == "run"):
        return False
    return not any(isinstance(n, ast.Constant) and n.value == "--predictions"
                   for n in ast.walk(call))


def _renders_a_pdf(call: ast.Call, facts: ModuleFacts) -> bool:
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(
        call.func, "id", "")
    if name != "render_reports":
        return False
    return any((isinstance(n, ast.Constant) and n.value == "pdf")
               or (isinstance(n, ast.Name) and n.id in facts.pdf) for n in ast.walk(call))
