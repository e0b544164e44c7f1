"""Calculus on traced expression trees (:mod:`simbev.symbolic.tracer`).

Constructors that fold zeros and ones, symbolic differentiation (:func:`differentiate`), numeric
evaluation for checks, and the linearity test that finds the closed-form mTOR-inhibitor
pharmacokinetics (:func:`linear_pk`). ``piecewise(a, cond, b)`` (what ``np.maximum`` traces to)
differentiates branch-wise under the same condition.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..model import PARAMETER_NAMES
from ..model.states import STATE_INDEX
from .tracer import Sym, trace_rhs

__all__ = ["differentiate", "linear_pk", "LinearPK", "PK_STATES", "ZERO", "ONE"]

# The oral mTOR inhibitor's states: candidates for the closed-form pharmacokinetics.
PK_STATES = ("mtori_depot", "mtori_central")

PARAM_SET = frozenset(PARAMETER_NAMES)


# Expression helpers: build Sym nodes with zero/one folding ---------------------------------------

def _num(x) -> Sym:
    return Sym.number(float(x))


def _is_num(node: Sym, value=None) -> bool:
    return node.op == "num" and (value is None or node.args[0] == value)


def _add(a: Sym, b: Sym) -> Sym:
    if _is_num(a, 0):
        return b
    if _is_num(b, 0):
        return a
    return a + b


def _sub(a: Sym, b: Sym) -> Sym:
    if _is_num(b, 0):
        return a
    if _is_num(a, 0):
        return _neg(b)
    return a - b


def _neg(a: Sym) -> Sym:
    if a.op == "neg":
        return a.args[0]
    return -a


def _mul(a: Sym, b: Sym) -> Sym:
    if _is_num(a, 0) or _is_num(b, 0):
        return ZERO
    if _is_num(a, 1):
        return b
    if _is_num(b, 1):
        return a
    if _is_num(a, -1):
        return _neg(b)
    if _is_num(b, -1):
        return _neg(a)
    return a * b


def _div(a: Sym, b: Sym) -> Sym:
    if _is_num(a, 0):
        return ZERO
    if _is_num(b, 1):
        return a
    return a / b


ZERO = _num(0.0)
ONE = _num(1.0)


def _depends(node: Sym, names: frozenset, memo: dict) -> bool:
    """Whether ``node`` refers to any of ``names``."""
    key = id(node)
    if key in memo:
        return memo[key]
    if node.op == "name":
        out = node.args[0] in names
    elif node.op == "num":
        out = False
    else:
        out = any(_depends(a, names, memo) for a in node.args if isinstance(a, Sym))
    memo[key] = out
    return out


def differentiate(expr: Sym, var: str, _memo: dict | None = None) -> Sym:
    """``d expr / d var`` as a Sym tree (``var`` a name: a state, a parameter or ``time``).

    Sub-trees shared in ``expr`` are differentiated once (memoised by identity); pass the same
    ``_memo`` dict to share that work between expressions (it is keyed by ``var`` inside).
    """
    store = {} if _memo is None else _memo
    memo: dict = store.setdefault(("d", var), {})
    dep_memo: dict = store.setdefault(("dep", var), {})
    target = frozenset([var])

    def d(node: Sym) -> Sym:
        key = id(node)
        if key in memo:
            return memo[key][1]
        if not _depends(node, target, dep_memo):
            out = ZERO
        else:
            op, args = node.op, node.args
            if op == "name":
                out = ONE
            elif op == "+":
                out = _add(d(args[0]), d(args[1]))
            elif op == "-":
                out = _sub(d(args[0]), d(args[1]))
            elif op == "neg":
                out = _neg(d(args[0]))
            elif op == "*":
                a, b = args
                out = _add(_mul(d(a), b), _mul(a, d(b)))
            elif op == "/":
                a, b = args
                da, db = d(a), d(b)
                # (a/b)' = a'/b - (a/b) b'/b
                out = _sub(_div(da, b), _mul(node, _div(db, b)))
            elif op == "^":
                a, b = args
                da, db = d(a), d(b)
                if _is_num(db, 0):
                    # n a^(n-1) a'. For an exponent that is not a whole number >= 1 (a Hill
                    # coefficient, 2/3) a^(n-1) is infinite at a = 0, where the model has clipped
                    # its argument (ratelaws.positive): the derivative is taken as 0 there, the
                    # value complex-step differentiation gives at an argument clipped to 0.
                    whole = _is_num(b) and float(b.args[0]).is_integer() and b.args[0] >= 1.0
                    if not whole:
                        # a^(n-1) as a^n / a (a > 0 under the condition below): the power that
                        # the right-hand side computes anyway, not a second one
                        power = _div(node, a)
                    else:
                        n = b.args[0]
                        power = a if n == 2.0 else (ONE if n == 1.0 else a ** _num(n - 1.0))
                    out = _mul(_mul(b, power), da)
                    if not whole and not _is_num(out, 0):
                        out = Sym.node("piecewise", out, Sym.node("rel", ">", a, ZERO), ZERO)
                else:
                    # a^b (b' ln a + b a'/a)
                    out = _mul(node, _add(_mul(db, Sym.call("ln", a)), _mul(b, _div(da, a))))
            elif op == "piecewise":
                value, cond, otherwise = args
                dv, do = d(value), d(otherwise)
                if _is_num(dv, 0) and _is_num(do, 0):
                    out = ZERO
                else:
                    out = Sym.node("piecewise", dv, cond, do)
            elif op == "call":
                fn, a = args
                da = d(a)
                if fn == "exp":
                    out = _mul(node, da)
                elif fn == "ln":
                    out = _div(da, a)
                elif fn == "sqrt":
                    out = _div(da, _mul(_num(2.0), node))
                elif fn == "abs":
                    out = Sym.node("piecewise", da, Sym.node("rel", ">=", a, ZERO), _neg(da))
                else:  # pragma: no cover - the tracer emits no other function
                    raise ValueError(f"cannot differentiate {fn}()")
            elif op == "rel":  # pragma: no cover - a relation is only a piecewise condition
                raise ValueError("a relation has no derivative")
            else:  # pragma: no cover
                raise ValueError(f"unknown node {op!r}")
        memo[key] = (node, out)  # keep node alive: ids stay unique while memo lives
        return out

    return d(expr)


# Closed-form pharmacokinetics --------------------------------------------------------------------

@dataclass(frozen=True)
class LinearPK:
    """The oral mTOR inhibitor as a closed linear subsystem (depot D, plasma C)::

        dD/dt = a_dd D ,   dC/dt = a_cd D + a_cc C

    with coefficients that depend on parameters only. Found by :func:`linear_pk`, which
    checks the conditions on the traced equations; ``None`` there means they do not hold and
    the compiled solver integrates D and C as ordinary states.
    """

    depot: int
    central: int
    a_dd: Sym
    a_cd: Sym
    a_cc: Sym


def linear_pk(rates: dict[str, Sym] | None = None) -> LinearPK | None:
    """The mTOR-inhibitor pharmacokinetics as a :class:`LinearPK`, if the model allows it.

    Conditions, checked on the traced right-hand sides: the rates of ``mtori_depot`` and
    ``mtori_central`` depend on no state but these two, nor on time or the infusion input;
    their derivatives with respect to the two states depend on parameters only (linear); the
    depot's rate does not depend on the plasma concentration (absorption, no back-flow);
    and both rates vanish at D = C = 0 (no constant source), checked at random parameter
    values. Then the subsystem has the closed form of :mod:`simbev.solvers.compiled` and the other
    states see D(t) and C(t) as known inputs.
    """
    rates = trace_rhs() if rates is None else rates
    depot, central = PK_STATES
    f_d, f_c = rates[depot], rates[central]
    allowed = PARAM_SET | {depot, central}
    if not (f_d.names() <= allowed and f_c.names() <= allowed):
        return None
    memo: dict = {}
    coef = {}
    for label, f, var in (("dd", f_d, depot), ("dc", f_d, central), ("cd", f_c, depot), ("cc", f_c, central)):
        g = differentiate(f, var, memo)
        if not g.names() <= PARAM_SET:
            return None
        coef[label] = g
    if not _is_num(coef["dc"], 0):
        return None
    # affine -> linear: the rates at D = C = 0 must vanish (random positive parameter values)
    rng = np.random.default_rng(20240607)
    env = {name: float(rng.uniform(0.5, 2.0)) for name in PARAMETER_NAMES}
    for f in (f_d, f_c):
        value = _evaluate(f, {**env, depot: 0.0, central: 0.0})
        scale = abs(_evaluate(f, {**env, depot: 1.0, central: 1.0})) + 1.0
        if abs(value) > 1e-12 * scale:
            return None
    return LinearPK(STATE_INDEX[depot], STATE_INDEX[central], coef["dd"], coef["cd"], coef["cc"])


def _evaluate(expr: Sym, env: dict) -> float:
    """Evaluate a Sym tree numerically (for checks; not used in the hot path)."""
    memo: dict = {}

    def ev(node: Sym):
        key = id(node)
        if key in memo:
            return memo[key]
        op, a = node.op, node.args
        if op == "name":
            out = env[a[0]]
        elif op == "num":
            out = a[0]
        elif op == "+":
            out = ev(a[0]) + ev(a[1])
        elif op == "-":
            out = ev(a[0]) - ev(a[1])
        elif op == "*":
            out = ev(a[0]) * ev(a[1])
        elif op == "/":
            out = ev(a[0]) / ev(a[1])
        elif op == "^":
            out = ev(a[0]) ** ev(a[1])
        elif op == "neg":
            out = -ev(a[0])
        elif op == "rel":
            x, y = ev(a[1]), ev(a[2])
            out = {">": x > y, ">=": x >= y, "<": x < y, "<=": x <= y}[a[0]]
        elif op == "piecewise":
            out = ev(a[0]) if ev(a[1]) else ev(a[2])
        elif op == "call":
            out = {"exp": math.exp, "ln": math.log, "sqrt": math.sqrt, "abs": abs}[a[0]](ev(a[1]))
        else:  # pragma: no cover
            raise ValueError(op)
        memo[key] = out
        return out

    return ev(expr)
