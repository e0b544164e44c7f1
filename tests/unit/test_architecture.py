"""The package's import rules (docs/architecture.md), checked on the source.

Rooms are the subpackages of simbev and its top-level modules. ``analysis.findings`` counts as a
room of its own: it runs simulations, while the rest of ``analysis`` (metrics, survival) are
plain functions of results that every runner reads.
"""
import ast
import importlib
import inspect
import pkgutil
import warnings
from pathlib import Path

import pytest

import simbev
from simbev.errors import SimbevError

PKG = Path(simbev.__file__).parent

#: room -> rooms it may import (besides itself). The layers of docs/architecture.md.
ALLOWED = {
    "errors": {"model"},   # SimulationError names the states in its message (model imports nothing)
    "model": set(),
    "atomic": {"errors"},  # stage and rename: the one way every writer writes
    "parameters": {"model", "errors"},
    "protocol": {"model", "errors"},
    "scenario": {"model", "parameters", "protocol", "errors"},
    "symbolic": {"model", "errors"},
    "analysis": {"model", "errors"},
    "result": {"atomic", "model", "parameters", "protocol", "scenario", "analysis", "formats", "errors"},
    # solvers/ holds the batched ensemble and the executors it and sweeps run batches on (executors
    # import only errors), so sweeps need no executor room of their own
    "solvers": {"atomic", "model", "parameters", "protocol", "scenario", "symbolic", "result", "analysis", "errors"},
    "simulation": {"protocol", "scenario", "solvers"},
    "formats": {"atomic", "model", "parameters", "protocol", "scenario", "symbolic", "errors"},
    "analysis.findings": {"model", "parameters", "protocol", "scenario", "solvers", "result", "analysis", "errors"},
    "plotting": {"model", "analysis", "errors"},
    "sweeps": {"atomic", "model", "parameters", "protocol", "scenario", "solvers", "result", "simulation", "analysis",
               "plotting", "formats", "errors"},
    # virtual trials: screening through the ensemble into the sweeps' store, read-outs, figures
    "trial": {"atomic", "model", "parameters", "protocol", "scenario", "solvers", "result", "analysis", "plotting",
              "sweeps", "formats", "errors"},
    "cli": {"atomic", "model", "parameters", "protocol", "scenario", "solvers", "result", "simulation", "analysis",
            "plotting", "sweeps", "formats", "trial", "errors"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _room(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[1] in ("__main__", "_compat"):
        return None  # the package root (public API, __version__) and the entry shims
    if parts[1] == "analysis" and len(parts) > 2 and parts[2] in ("findings", "routes"):
        return "analysis.findings"  # analyses that run the model (findings checks, route arms)
    return parts[1]


def _imports(path: Path) -> set[str]:
    """Absolute names of the simbev modules ``path`` imports, at any depth of the code."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("simbev")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("simbev"):
                out.add(target)
                out |= {f"{target}.{a.name}" for a in node.names
                        if (PKG.parent / f"{target}.{a.name}".replace(".", "/")).with_suffix(".py").exists()
                        or (PKG.parent / f"{target}.{a.name}".replace(".", "/")).is_dir()}
    return out


def _edges() -> dict[str, dict[str, set[str]]]:
    """room -> imported room -> the modules that import it."""
    edges: dict[str, dict[str, set[str]]] = {}
    for path in PKG.rglob("*.py"):
        src = _room(_module_name(path))
        if src is None:
            continue
        for target in _imports(path):
            dst = _room(target)
            if dst is not None and dst != src:
                edges.setdefault(src, {}).setdefault(dst, set()).add(_module_name(path))
    return edges


def test_every_room_is_known():
    rooms = {_room(_module_name(p)) for p in PKG.rglob("*.py")} - {None}
    assert rooms <= set(ALLOWED), f"rooms without import rules: {rooms - set(ALLOWED)}"


def test_rooms_import_only_the_rooms_below_them():
    bad = [f"{mod} ({src}) imports {dst}" for src, targets in _edges().items() for dst, mods in targets.items()
           if dst not in ALLOWED[src] for mod in sorted(mods)]
    assert bad == []


def test_no_import_cycle_between_rooms():
    graph = {src: set(targets) for src, targets in _edges().items()}
    state: dict[str, int] = {}

    def visit(node, trail):
        state[node] = 1
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(trail + [node, nxt]))
            if nxt not in state:
                visit(nxt, trail + [node])
        state[node] = 2

    for node in list(graph):
        if node not in state:
            visit(node, [])


def test_no_solver_imports_a_file_format():
    offenders = sorted(_edges().get("solvers", {}).get("formats", set()))
    assert offenders == []


def test_the_rule_checker_sees_a_forbidden_import(tmp_path):
    """Negative control: a solver module that imports formats/ is reported as breaking the rules."""
    global PKG
    fake = tmp_path / "simbev" / "solvers" / "x.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("def f():\n    from ..formats import sbml\n")
    real, PKG = PKG, tmp_path / "simbev"
    try:
        rooms = {_room(t) for t in _imports(fake)}
        assert _room(_module_name(fake)) == "solvers" and "formats" in rooms
        assert "formats" not in ALLOWED["solvers"]
    finally:
        PKG = real


def _all_modules():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for info in pkgutil.walk_packages(simbev.__path__, "simbev."):
            if info.name.endswith("__main__"):
                continue
            yield importlib.import_module(info.name)


def test_every_simbev_exception_derives_from_simbev_error():
    found = {}
    for module in _all_modules():
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__.startswith("simbev"):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    assert len(found) >= 6  # InputError, SimulationError, ExportError, StoreLocked, WorkerLost, ...
    assert [name for name, cls in found.items() if not issubclass(cls, SimbevError)] == []


@pytest.mark.parametrize("old, attribute", [("simbev.fast", "ensemble"), ("simbev.fast", "simulate"),
                                            ("simbev.sweep", "run_sweep"), ("simbev.sweep", "kaplan_meier"),
                                            ("simbev.sbml", "Sym"), ("simbev.states", "STATE_NAMES"),
                                            ("simbev.metrics", "compute"), ("simbev.findings", "evaluate")])
def test_old_module_paths_still_work_with_a_deprecation_warning(old, attribute):
    import sys
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=old.replace(".", r"\.")):
        module = importlib.import_module(old)
    assert callable(getattr(module, attribute)) or getattr(module, attribute)


def test_no_module_is_a_god_module():
    sizes = {_module_name(p): len(p.read_text(encoding="utf-8").splitlines()) for p in PKG.rglob("*.py")}
    assert {m: n for m, n in sizes.items() if n > 600} == {}
