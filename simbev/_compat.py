"""Module paths of simbev 0.1 (a flat package) kept importable for one release.

``import simbev.fast`` (or ``from simbev import sweep``) still works and gives the module at its
new place, with a :class:`DeprecationWarning` naming it. The old paths go in the next release.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings

#: old module -> the module that now holds everything the old one exported, or the modules it
#: was split into (then the old path is a read-only view of them, in that order)
MOVED: dict[str, str | tuple[str, ...]] = {
    "simbev.states": "simbev.model.states",
    "simbev.dosing": "simbev.protocol.dosing",
    "simbev.scenario_file": "simbev.scenario.file",
    "simbev.yamlsafe": "simbev.scenario.yamlsafe",
    "simbev.solver": "simbev.solvers.reference",
    "simbev.fast": ("simbev.solvers.compiled", "simbev.solvers.ensemble"),
    "simbev.fast_codegen": ("simbev.solvers.codegen", "simbev.symbolic.calculus"),
    "simbev.fast_kernel": "simbev.solvers.kernel",
    "simbev.sbml": ("simbev.formats.sbml", "simbev.symbolic.tracer"),
    "simbev.metrics": "simbev.analysis.metrics",
    "simbev.findings": "simbev.analysis.findings",
    "simbev.sweep": ("simbev.sweeps.run", "simbev.sweeps.file", "simbev.sweeps.tables", "simbev.analysis.survival",
                     "simbev.plotting.sweep", "simbev.cli.sweep"),
    "simbev.sweep_designs": "simbev.sweeps.designs",
    "simbev.sweep_store": "simbev.sweeps.store",
    "simbev.executors": "simbev.solvers.executors",
}


class _Alias(importlib.abc.Loader):
    """Loads an old path as the new module itself (same object: attributes, monkeypatching and
    pickling all see one module), or, for a module that was split, as a view of its parts."""

    def __init__(self, target: str | tuple[str, ...]):
        self.target = target

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        targets = (self.target,) if isinstance(self.target, str) else self.target
        warnings.warn(f"{module.__name__} is deprecated: use {' or '.join(targets)} (the old path goes in the "
                      f"next release)", DeprecationWarning, stacklevel=2)
        if isinstance(self.target, str):
            # The import system returns whatever sys.modules holds under the name after exec_module.
            sys.modules[module.__name__] = importlib.import_module(self.target)
            return
        parts = [importlib.import_module(t) for t in targets]

        def __getattr__(name):
            for part in parts:
                if hasattr(part, name):
                    return getattr(part, name)
            raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")

        module.__getattr__ = __getattr__
        module.__all__ = [n for part in parts for n in getattr(part, "__all__", ())]
        module.__doc__ = f"Deprecated: split into {', '.join(targets)}."


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED:
            return importlib.machinery.ModuleSpec(fullname, _Alias(MOVED[fullname]))
        return None


def install() -> None:
    """Make the old paths importable (idempotent)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
