"""The shape issue 12 asked for, checked on the source: one request edge, no import
cycles, every process a machine with its buttons and its diagram (STYLE §3–§5)."""
from __future__ import annotations

import ast
import importlib
import pathlib
import re

import pytest

APP = pathlib.Path(__file__).resolve().parent.parent / "app"


def _modules() -> dict[str, pathlib.Path]:
    found = {}
    for path in APP.rglob("*.py"):
        parts = path.relative_to(APP.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _package(name: str, path: pathlib.Path) -> str:
    return name if path.name == "__init__.py" else name.rsplit(".", 1)[0]


def _imports(name: str, path: pathlib.Path) -> set[str]:
    """Every app module `name` imports, at any depth of its code (function-level imports count)."""
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets |= {a.name for a in node.names if a.name.split(".")[0] == "app"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package(name, path).split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "app":
                continue
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                targets.add(sub if sub in MODULES else module)
    return {t for t in targets if t in MODULES and t != name}


def test_no_import_cycle_among_app_modules():
    graph = {name: _imports(name, path) for name, path in MODULES.items()}
    # a package's __init__ building the app may import anything below it; a module
    # importing its own package's __init__ for its shared names is not a cycle through it
    state, stack, cycles = {}, [], []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if node.startswith(nxt + ".") or nxt.startswith(node + "."):
                continue
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert cycles == [], "import cycles: " + "; ".join(" → ".join(c) for c in cycles)


def _view_sources():
    return {p: p.read_text(encoding="utf-8") for p in (APP / "views").glob("*.py") if p.name != "edge.py"}


def test_views_never_commit_and_never_catch_a_refusal():
    for path, source in _view_sources().items():
        assert "session.commit(" not in source, path
        assert not re.search(r"except\s*\(?[\w., ]*(DomainError|ValidationFailed|CodeRejected)", source), path


def test_templates_decide_nothing_on_a_status():
    for path in (APP / "templates").rglob("*.html"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"status\s*==|status\.name", source), path


PROCESSES = ["case_lifecycle", "after_mediation", "grassroots", "certification", "agreements", "hearings",
             "multi_video", "recordings", "ministry", "exports", "identity", "bulk_import"]


@pytest.mark.parametrize("name", PROCESSES)
def test_every_process_is_a_machine_with_buttons_and_a_diagram(name):
    from app.workflows.engine import Machine

    module = importlib.import_module(f"app.workflows.{name}")
    machines = [v for v in vars(module).values() if isinstance(v, Machine)]
    assert machines, f"{name} has no Machine"
    assert any(n.startswith("available") and callable(v) for n, v in vars(module).items()), name
    doc = module.__doc__ or ""
    assert "──" in doc and "▶" in doc, f"{name}'s docstring draws no diagram"
    assert re.search(r"\[FAQ \d|Rules art|CPL art|SPEC §", doc), f"{name}'s docstring cites no rule"


def _record_calls():
    """Every explicit audit row written in app/: (module, the node of its summary argument)."""
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and len(node.args) >= 4 and (
                    (isinstance(node.func, ast.Name) and node.func.id == "record")
                    or (isinstance(node.func, ast.Attribute) and node.func.attr == "record"
                        and isinstance(node.func.value, ast.Name) and node.func.value.id == "audit")):
                yield name, node.args[3]


def test_explicit_audit_rows_store_a_code_the_screen_translates():
    """STYLE §6: `audit.record(session, obj, action, CODE, data)` stores a code, never a sentence;
    the 操作记录 reads each code back in Chinese (app/views/records.py)."""
    from app.views.records import SUMMARY_CODES

    calls = list(_record_calls())
    assert calls, "no audit.record call found"
    for module_name, summary in calls:
        assert isinstance(summary, ast.Name), f"{module_name}: the summary is not a named code"
        code = getattr(importlib.import_module(module_name), summary.id)
        assert code in SUMMARY_CODES, f"{module_name}: {code} is not read back by app/views/records.py"


def test_templates_never_format_a_time_themselves():
    """Issue 15 item 1: every time on a screen is Beijing time — templates use `|beijing`, never strftime."""
    offenders = [str(p.relative_to(APP)) for p in (APP / "templates").rglob("*.html") if ".strftime(" in p.read_text()]
    assert offenders == []
