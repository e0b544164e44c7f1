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

#: old module -> the module (or package) that now holds everything the old one exported
MOVED = {
    "simbev.states": "simbev.model.states",
    "simbev.dosing": "simbev.protocol.dosing",
    "simbev.scenario_file": "simbev.scenario.file",
    "simbev.yamlsafe": "simbev.scenario.yamlsafe",
    "simbev.solver": "simbev.solvers.reference",
    "simbev.fast": "simbev.solvers.compiled",
    "simbev.fast_codegen": "simbev.solvers.codegen",
    "simbev.fast_kernel": "simbev.solvers.kernel",
    "simbev.sbml": "simbev.formats.sbml",
    "simbev.metrics": "simbev.analysis.metrics",
    "simbev.findings": "simbev.analysis.findings",
    "simbev.sweep": "simbev.sweeps.run",
    "simbev.sweep_designs": "simbev.sweeps.designs",
    "simbev.sweep_store": "simbev.sweeps.store",
    "simbev.executors": "simbev.sweeps.executors",
}


class _Alias(importlib.abc.Loader):
    """Loads an old path as the new module itself (same object: attributes, monkeypatching and
    pickling all see one module)."""

    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        warnings.warn(f"{module.__name__} is deprecated: use {self.target} (the old path goes in the next "
                      f"release)", DeprecationWarning, stacklevel=2)
        # The import system returns whatever sys.modules holds under the name after exec_module.
        sys.modules[module.__name__] = importlib.import_module(self.target)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED:
            return importlib.machinery.ModuleSpec(fullname, _Alias(MOVED[fullname]))
        return None


def install() -> None:
    """Make the old paths importable (idempotent)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
