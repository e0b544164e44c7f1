"""SBML export of a scenario: the model, its resolved parameters, initial state and doses.

``to_sbml(scenario)`` returns an SBML Level 3 Version 2 document (text); ``export_sbml(scenario,
path)`` writes it. See docs/sbml.md for what is carried over and how to open the file.

The equations are not written out by hand. :func:`trace_rhs` calls :func:`simbev.model.rhs`
with symbolic arguments (:class:`Sym`): every state, parameter and the infusion rate is a
symbol, and the arithmetic the model code performs on them (``+ - * / **``, unary minus,
``np.maximum``) builds expression trees instead of numbers. The trees returned (one per state) are the
right-hand sides, emitted as SBML rate rules; so the export follows the model code whenever
the code changes. The derived outputs are traced the same way from
:func:`simbev.model.states.derived` and emitted as assignment rules.

Every state and derived output is an SBML ``parameter`` (``constant="false"``) with a rate
rule or an assignment rule; there are no compartments, species or reactions. ``np.maximum(a,
b)`` becomes ``piecewise(a, a >= b, b)`` (portable to every SBML tool; L3V2 ``max`` is not
read by all of them).

Doses become events selected with :func:`simbev.protocol.events.select_doses` from the same resolved
parameters as :func:`simbev.simulate` uses. All dose actions at one instant are merged into one
event (with ``useValuesFromTriggerTime="true"`` two events at the same instant would both read
the pre-dose value, and one increment would be lost).

python-libsbml is imported lazily, so ``simbev`` itself does not need it.
"""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Iterable, Mapping


from .. import __version__
from ..protocol.dosing import DoseEvent
from ..protocol.events import select_doses
from ..protocol.routes import INFUSION, ROUTE_TABLE
from ..model import PARAMETER_NAMES
from ..scenario.core import Scenario, resolve_parameters
from ..model.states import DERIVED, STATES
from ..symbolic.tracer import INFUSION_RATE_ID, Sym, trace_derived, trace_rhs
from ..errors import ExportError

__all__ = ["Sym", "trace_rhs", "trace_derived", "resolve_parameters", "to_sbml", "export_sbml",
           "consistency_issues", "unit_definition", "SBMLExportError", "INFUSION_RATE_ID"]

INFUSION_RATE_UNIT = "nmol/day"

#: The model could not be traced, or libSBML found errors in the exported document.
SBMLExportError = ExportError


# Units -----------------------------------------------------------------------------------------

# Unit words: their SBML units, each (kind, exponent, scale, multiplier).
_UNIT_WORDS = {
    "day": [("second", 1, 0, 86400.0)], "d": [("second", 1, 0, 86400.0)],
    "h": [("second", 1, 0, 3600.0)], "hour": [("second", 1, 0, 3600.0)],
    "min": [("second", 1, 0, 60.0)], "s": [("second", 1, 0, 1.0)],
    "M": [("mole", 1, 0, 1.0), ("litre", -1, 0, 1.0)],
    "mM": [("mole", 1, -3, 1.0), ("litre", -1, 0, 1.0)],
    "uM": [("mole", 1, -6, 1.0), ("litre", -1, 0, 1.0)],
    "nM": [("mole", 1, -9, 1.0), ("litre", -1, 0, 1.0)],
    "pM": [("mole", 1, -12, 1.0), ("litre", -1, 0, 1.0)],
    "mol": [("mole", 1, 0, 1.0)], "mmol": [("mole", 1, -3, 1.0)], "umol": [("mole", 1, -6, 1.0)],
    "nmol": [("mole", 1, -9, 1.0)], "pmol": [("mole", 1, -12, 1.0)],
    "L": [("litre", 1, 0, 1.0)], "mL": [("litre", 1, -3, 1.0)], "uL": [("litre", 1, -6, 1.0)],
    "m": [("metre", 1, 0, 1.0)], "cm": [("metre", 1, -2, 1.0)], "mm": [("metre", 1, -3, 1.0)],
    "um": [("metre", 1, -6, 1.0)],
    "kg": [("kilogram", 1, 0, 1.0)], "g": [("gram", 1, 0, 1.0)], "mg": [("gram", 1, -3, 1.0)],
    "ug": [("gram", 1, -6, 1.0)],
    "cells": [("item", 1, 0, 1.0)], "cell": [("item", 1, 0, 1.0)], "item": [("item", 1, 0, 1.0)],
}
_UNIT_IDS = {"1": "dimensionless", "day": "day", "1/day": "per_day", "nM": "nM", "mM": "mM",
             "mm^3": "mm3", "L": "L", "L/day": "L_per_day", "nmol": "nmol", "nmol/day": "nmol_per_day",
             "1e6 cells": "Mcells", "1e6 cells/mm^3": "Mcells_per_mm3", "nM/day": "nM_per_day",
             "mM/day": "mM_per_day", "1/(nM*day)": "per_nM_per_day", "mm^-2/day": "per_mm2_per_day",
             "kg": "kg", "g/mol": "g_per_mol"}


class _UnitParser:
    """Parses unit strings like ``1/(nM*day)``, ``mm^-2/day`` or ``1e6 cells/mm^3``.

    Juxtaposition (a space) multiplies. The result is ``(factor, [(kind, exp, scale, mult)])``.
    """

    def __init__(self, text: str):
        self.text = text
        self.tokens = self._tokenise(text)
        self.i = 0

    def _tokenise(self, text):
        out, pos = [], 0
        pattern = re.compile(r"\s*(\^\s*-?\d+(?:\.\d+)?|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|[A-Za-z]+|[*/()])")
        text = text.strip()
        while pos < len(text):
            m = pattern.match(text, pos)
            if not m:
                raise ValueError(f"unit {self.text!r} not understood at {text[pos:]!r}")
            out.append(m.group(1).replace(" ", ""))
            pos = m.end()
        return out

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def parse(self):
        result = self.expr()
        if self.peek() is not None:
            raise ValueError(f"unit {self.text!r} not understood at {self.peek()!r}")
        return result

    def expr(self):
        factor, units = self.term()
        while self.peek() is not None and self.peek() != ")":
            if self.peek() in ("*", "/"):
                op = self.tokens[self.i]
                self.i += 1
            else:
                op = "*"
            f2, u2 = self.term()
            if op == "/":
                f2, u2 = 1.0 / f2, [(k, -e, s, m) for k, e, s, m in u2]
            factor, units = factor * f2, units + u2
        return factor, units

    def term(self):
        factor, units = self.atom()
        tok = self.peek()
        if tok is not None and tok.startswith("^"):
            self.i += 1
            e = float(tok[1:])
            e = int(e) if e == int(e) else e
            factor, units = factor ** e, [(k, ex * e, s, m) for k, ex, s, m in units]
        return factor, units

    def atom(self):
        tok = self.peek()
        if tok is None:
            raise ValueError(f"unit {self.text!r} ends too early")
        self.i += 1
        if tok == "(":
            result = self.expr()
            if self.peek() != ")":
                raise ValueError(f"unit {self.text!r}: missing ')'")
            self.i += 1
            return result
        if tok[0].isdigit():
            return float(tok), []
        if tok in _UNIT_WORDS:
            return 1.0, list(_UNIT_WORDS[tok])
        raise ValueError(f"unit {self.text!r}: unknown unit {tok!r}")


def unit_definition(text: str) -> tuple[str, list[tuple[str, float, int, float]]]:
    """SBML id and units ``[(kind, exponent, scale, multiplier)]`` for a simbev unit string.

    ``"1"`` is ``dimensionless`` (a built-in SBML unit, no definition needed). Raises
    ``ValueError`` for a unit string that is not understood.
    """
    text = text.strip()
    factor, units = _UnitParser(text).parse()
    merged: dict[tuple, float] = {}
    for kind, e, scale, mult in units:
        merged[(kind, scale, mult)] = merged.get((kind, scale, mult), 0) + e
    units = [(k, e, s, m) for (k, s, m), e in merged.items() if e != 0]
    if not units:
        if factor != 1.0:
            units = [("dimensionless", 1, 0, factor)]
        return ("dimensionless" if factor == 1.0 else _unit_id(text)), units
    if factor != 1.0:
        k, e, s, m = units[0]
        units[0] = (k, e, s, m * factor ** (1.0 / e))
    return _unit_id(text), units


def _unit_id(text: str) -> str:
    if text in _UNIT_IDS:
        return _UNIT_IDS[text]
    ident = (text.replace("^-", "_inv").replace("^", "").replace("/", "_per_").replace("*", "_")
             .replace(" ", "_").replace("(", "").replace(")", "").replace(".", "p").replace("-", "m"))
    ident = re.sub(r"[^A-Za-z0-9_]", "_", ident)
    return ident if re.match(r"[A-Za-z_]", ident) else "u_" + ident


# The document ----------------------------------------------------------------------------------


def _check(status: int, what: str) -> None:
    import libsbml

    if status != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise SBMLExportError(f"libSBML could not {what}: {libsbml.OperationReturnValue_toString(status)}")


def _math(formula: str, what: str):
    import libsbml

    ast = libsbml.parseL3Formula(formula)
    if ast is None:
        raise SBMLExportError(f"libSBML could not parse the {what}: {libsbml.getLastParseL3Error()}\n"
                              f"  formula: {formula}")
    return ast


def _notes_xhtml(paragraphs) -> str:
    from xml.sax.saxutils import escape

    body = "".join(f"<p>{escape(text)}</p>" for text in paragraphs)
    return f'<body xmlns="http://www.w3.org/1999/xhtml">{body}</body>'


def _dose_actions(doses) -> dict[float, dict[str, float]]:
    """``{time: ({route: nmol for each jump route, "rate": net change of the infusion rate}, labels)}``.

    Every action at one instant is summed into one entry; infusion on/off steps at the same
    instant net out (an entry whose actions are all zero is dropped).
    """
    jump_routes = [name for name, r in ROUTE_TABLE.items() if r.kind != INFUSION]
    actions: dict[float, dict[str, float]] = defaultdict(lambda: {**{r: 0.0 for r in jump_routes}, "rate": 0.0})
    labels: dict[float, list[str]] = defaultdict(list)
    for d in doses:
        if ROUTE_TABLE[d.route].kind == INFUSION:
            rate = d.amount_nmol / d.duration_days
            actions[d.time]["rate"] += rate
            actions[d.end]["rate"] -= rate
            labels[d.time].append(f"{d.drug} infusion start, +{rate:.6g} nmol/day")
            labels[d.end].append(f"{d.drug} infusion end, -{rate:.6g} nmol/day")
        else:
            actions[d.time][d.route] += d.amount_nmol
            labels[d.time].append(f"{d.drug} {d.route} {d.amount_nmol:.6g} nmol")
    return {t: (a, labels[t]) for t, a in sorted(actions.items()) if any(v != 0.0 for v in a.values())}


def to_sbml(scenario: Scenario, parameters: Mapping[str, float] | None = None,
            doses: Iterable[DoseEvent] = (), *, check: bool = True) -> str:
    """SBML Level 3 Version 2 text for ``scenario``.

    Parameters take the scenario's resolved values (species set, overrides, body weight, then
    ``parameters``), the rate-rule states start from its initial state, and its regimens plus
    ``doses`` (those up to ``duration_days``, exactly the doses :func:`simbev.simulate` applies
    with the same arguments) become events.

    Raises :class:`SBMLExportError` if the model cannot be traced or, with ``check``, if
    libSBML's consistency checks report an error (warnings are allowed; see
    :func:`consistency_issues`).
    """
    import libsbml

    pset = resolve_parameters(scenario, parameters)
    y0 = pset.initial_state(scenario.initial_conditions)
    rates = trace_rhs()
    outputs = trace_derived()
    applied, dropped = select_doses(scenario, pset, list(doses), 0.0, None)

    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    model_id = re.sub(r"[^A-Za-z0-9_]", "_", scenario.name)
    if not re.match(r"[A-Za-z_]", model_id):
        model_id = "m_" + model_id
    _check(model.setId(model_id), "set the model id")
    model.setName(f"simbev {__version__}: {scenario.name}")
    not_expressible: list[str] = []

    # Units.
    unit_ids: dict[str, str] = {}

    def unit_of(text: str) -> str:
        if text in unit_ids:
            return unit_ids[text]
        try:
            uid, units = unit_definition(text)
        except ValueError:
            uid, units = "dimensionless", []  # not expressible: listed in the notes, see docs/sbml.md
            not_expressible.append(text)
        base, n = uid, 1
        while uid != "dimensionless" and uid in unit_ids.values():  # two strings, one sanitised id
            n += 1
            uid = f"{base}_{n}"
        if uid != "dimensionless":
            ud = model.createUnitDefinition()
            _check(ud.setId(uid), f"set unit id {uid}")
            ud.setName(text)
            for kind, e, scale, mult in units:
                u = ud.createUnit()
                _check(u.setKind(libsbml.UnitKind_forName(kind)), f"set unit kind {kind}")
                _check(u.setExponent(float(e)), "set a unit exponent")
                _check(u.setScale(int(scale)), "set a unit scale")
                _check(u.setMultiplier(float(mult)), "set a unit multiplier")
        unit_ids[text] = uid
        return uid

    _check(model.setTimeUnits(unit_of("day")), "set the time units")
    _check(model.setSubstanceUnits(unit_of("nmol")), "set the substance units")
    _check(model.setExtentUnits(unit_of("nmol")), "set the extent units")
    _check(model.setVolumeUnits(unit_of("L")), "set the volume units")

    def parameter(pid: str, value, unit: str, constant: bool, name: str = ""):
        par = model.createParameter()
        _check(par.setId(pid), f"set the id {pid!r}")
        if name:
            par.setName(name)
        if value is not None:
            _check(par.setValue(float(value)), f"set the value of {pid}")
        _check(par.setUnits(unit_of(unit)), f"set the units of {pid}")
        _check(par.setConstant(constant), f"set {pid} constant={constant}")
        return par

    # Model parameters with their resolved values.
    for pid in PARAMETER_NAMES:
        rec = pset.records[pid]
        parameter(pid, rec.value, rec.unit, True, rec.description)
    # The infusion input: switched by the dose events.
    parameter(INFUSION_RATE_ID, 0.0, INFUSION_RATE_UNIT, False,
              "bevacizumab infusion rate into the central compartment (set by dose events)")
    # States: non-constant parameters with rate rules.
    for info, value in zip(STATES, y0):
        parameter(info.name, value, info.unit, False, info.description)
    for info in DERIVED:
        if info.name in outputs:
            parameter(info.name, None, info.unit, False, info.description)

    for name, expr in rates.items():
        rule = model.createRateRule()
        _check(rule.setVariable(name), f"set the rate rule variable {name}")
        _check(rule.setMath(_math(expr.infix(), f"rate of {name}")), f"set the rate of {name}")
    for name, expr in outputs.items():
        rule = model.createAssignmentRule()
        _check(rule.setVariable(name), f"set the assignment rule variable {name}")
        _check(rule.setMath(_math(expr.infix(), f"output {name}")), f"set the output {name}")

    # Doses: one event per instant.
    for k, (t, (act, labels)) in enumerate(_dose_actions(applied).items(), start=1):
        ev = model.createEvent()
        _check(ev.setId(f"dose_{k}"), "set an event id")
        ev.setName(f"day {t:g}: " + "; ".join(labels))
        _check(ev.setUseValuesFromTriggerTime(True), "set useValuesFromTriggerTime")
        trig = ev.createTrigger()
        _check(trig.setInitialValue(False), "set the trigger initial value")
        _check(trig.setPersistent(True), "set the trigger persistence")
        _check(trig.setMath(_math(f"time >= {t!r} {unit_of('day')}", "dose trigger")), "set a trigger")
        assignments = []
        for route in ROUTE_TABLE.values():  # jumps: the amount into its state, as the solvers apply it
            if route.kind != INFUSION and act[route.name]:
                op = "/" if route.divide else "*"
                assignments.append((route.state, f"{route.state} + {act[route.name]!r} {unit_of('nmol')} {op} "
                                                 f"{route.parameter}"))
        if act["rate"]:
            assignments.append((INFUSION_RATE_ID,
                                f"{INFUSION_RATE_ID} {'+' if act['rate'] > 0 else '-'} {abs(act['rate'])!r} "
                                f"{unit_of(INFUSION_RATE_UNIT)}"))
        for var, formula in assignments:
            ea = ev.createEventAssignment()
            _check(ea.setVariable(var), f"set the event variable {var}")
            _check(ea.setMath(_math(formula, f"dose assignment to {var}")), f"set a dose to {var}")

    notes = [f"Exported by simbev {__version__} from scenario {scenario.name!r}"
             + (f" ({scenario.source})" if scenario.source else "") + ".",
             scenario.description or "",
             f"Species: {scenario.species}. simbev runs it for {scenario.duration_days:g} day with outputs "
             f"every {scenario.output_every_days:g} day (simulation settings; not part of the SBML model).",
             f"{len(applied)} dose(s) up to day {scenario.duration_days:g} are events"
             + (f"; {len(dropped)} scheduled after the end were dropped, as simbev drops them." if dropped else "."),
             "States are right-continuous at dose times: simbev reports the value after the dose.",
             "Equations traced from simbev.model.rhs; np.maximum(a, b) is written piecewise(a, a >= b, b).",
             ("Units not expressible in SBML, declared dimensionless: " + ", ".join(sorted(set(not_expressible)))
              if not_expressible else "")]
    _check(model.setNotes(_notes_xhtml([n for n in notes if n])), "set the model notes")

    text = libsbml.writeSBMLToString(doc)
    if check:
        errors = [i for i in consistency_issues(text) if i["severity"] in ("error", "fatal")]
        if errors:
            listing = "\n".join(f"  [{e['id']}] line {e['line']}: {e['message']}" for e in errors[:20])
            raise SBMLExportError(f"libSBML consistency check found {len(errors)} error(s):\n{listing}")
    return text


def consistency_issues(text: str) -> list[dict]:
    """libSBML's read-time and consistency-check issues for an SBML document, as dicts.

    Each has ``severity`` (info, warning, error, fatal), ``id``, ``category``, ``line`` and
    ``message``. All consistency categories (including units) are checked.
    """
    import libsbml

    doc = libsbml.readSBMLFromString(text)
    doc.checkConsistency()
    names = {libsbml.LIBSBML_SEV_INFO: "info", libsbml.LIBSBML_SEV_WARNING: "warning",
             libsbml.LIBSBML_SEV_ERROR: "error", libsbml.LIBSBML_SEV_FATAL: "fatal"}
    out = []
    for i in range(doc.getNumErrors()):
        e = doc.getError(i)
        out.append({"severity": names.get(e.getSeverity(), str(e.getSeverity())), "id": e.getErrorId(),
                    "category": e.getCategoryAsString(), "line": e.getLine(),
                    "message": " ".join(e.getMessage().split())})
    return out


def export_sbml(scenario: Scenario, path, parameters: Mapping[str, float] | None = None,
                doses: Iterable[DoseEvent] = ()) -> Path:
    """Write the SBML export of ``scenario`` (see :func:`to_sbml`) to ``path``; return the path."""
    path = Path(path)
    from ..atomic import write_text
    write_text(path, to_sbml(scenario, parameters, doses))  # stage and rename
    return path
