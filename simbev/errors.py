"""simbev's exceptions: one base, :class:`SimbevError`, that the command line turns into its
message and exit status 2.

- :class:`InputError`: bad input (files, arguments); names file, line, key, value and expectation.
- :class:`SimulationError`: a numerical failure of a solver.
- :class:`ExportError`: the model could not be traced symbolically, or an exported document
  (SBML) has errors.
- the sweep store's errors (:class:`simbev.sweeps.store.StoreLocked`,
  :class:`simbev.sweeps.file.SweepChangedError`) and executors' (:class:`simbev.sweeps.executors.WorkerLost`)
  derive from these.
"""
from __future__ import annotations


class SimbevError(Exception):
    """Base of every error simbev raises on purpose."""


def _one_line(text: str, limit: int = 80) -> str:
    """At most the first line of ``text``, at most ``limit`` characters: a message quotes the
    offending value, never a whole file."""
    lines = text.splitlines() or [""]
    first = lines[0]
    short = first[:limit] + ("..." if len(first) > limit or len(lines) > 1 else "")
    if text.startswith("<") and not short.endswith(">"):
        short += ">"
    return short


class InputError(SimbevError, ValueError):
    """Bad input: names the file, line, key path, the value found and what was expected.

    ``str(err)`` is the full message, e.g.::

        configs/a.yaml:12: treatments.0.dose: found '10 mg/lb'; expected a number with a unit
        mg/kg or mg (e.g. '10 mg/kg')
    """

    def __init__(self, file=None, line=None, key=None, found=None, expected=None, message=None):
        self.file, self.line, self.key, self.found, self.expected = file, line, key, found, expected
        if message is None:
            where = str(file) if file is not None else "<input>"
            if line is not None:
                where += f":{line}"
            parts = [where] if (file is not None or line is not None or not key) else []
            if key:
                parts.append(str(key))
            text = []
            if isinstance(found, str):
                found = _one_line(found)
            if found is not None:
                text.append(f"found {found!r}" if not isinstance(found, str) or not found.startswith("<") else f"found {found}")
            if expected is not None:
                text.append(f"expected {expected}")
            message = ": ".join(parts) + ": " + "; ".join(text)
        super().__init__(message)


class SimulationError(SimbevError, RuntimeError):
    """The solver failed or the state left its domain. Says when, in what state (the state at
    that time, not the initial one), with which varied parameters, and what to try.

    ``varied`` (parameters that differ from the species' set) and ``hint`` may be added later
    by the caller that knows them (:meth:`with_context`); the message stays one line.
    """

    DEFAULT_HINT = ("the parameters or doses drive the model out of the range it can be solved "
                    "in; compare them with the plausible ranges of `simbev params`, or shorten "
                    "duration_days")

    def __init__(self, message: str, time: float, state, parameters: dict, varied: dict | None = None,
                 hint: str | None = None, solver: str | None = None):
        from .model.states import STATE_NAMES

        self.reason = message
        self.time = float(time)
        self.state = dict(zip(STATE_NAMES, (float(getattr(x, "real", x)) for x in state)))
        self.parameters = parameters
        self.varied = dict(varied or {})
        self.hint = hint or self.DEFAULT_HINT
        self.solver = solver
        state_text = ", ".join(f"{k}={v:.6g}" for k, v in self.state.items())
        varied_text = (", ".join(f"{k}={v:g}" for k, v in self.varied.items()) if self.varied
                       else "none")
        by = f" ({solver} solver)" if solver else ""
        super().__init__(f"{message}{by} at t = {self.time:.6g} day; state at that time: {state_text}; "
                         f"varied parameters: {varied_text}; hint: {self.hint}")

    def with_context(self, varied: dict | None = None, solver: str | None = None) -> "SimulationError":
        """A copy naming the varied parameters and the solver."""
        state = [self.state[k] for k in self.state]
        return SimulationError(self.reason, self.time, state, self.parameters,
                               {**self.varied, **(varied or {})}, self.hint, solver or self.solver)


class ExportError(SimbevError, RuntimeError):
    """The model could not be traced symbolically, or libSBML found errors in an exported
    document."""
