"""The symbolic tracer: the model's equations as expression trees.

:func:`trace_rhs` calls :func:`simbev.model.rhs` with symbolic arguments (:class:`Sym`): every
state, parameter and the infusion rate is a symbol, and the arithmetic the model code performs
on them (``+ - * / **``, unary minus, ``np.maximum``, ...) builds expression trees instead of
numbers. The trees follow the model code whenever it changes; the SBML export
(:mod:`simbev.formats.sbml`) renders them as rules and the compiled solver's code generator
(:mod:`simbev.solvers.codegen`) differentiates them (:mod:`simbev.symbolic.calculus`). The
derived outputs are traced the same way from :func:`simbev.model.states.derived`.

Trees render to libSBML's L3 infix syntax (:meth:`Sym.infix`). Build nodes with
:meth:`Sym.node`, :meth:`Sym.number` and :meth:`Sym.call`.
"""
from __future__ import annotations

import math
import numbers
import re

import numpy as np

from ..errors import ExportError
from ..model import PARAMETER_NAMES, ModelParameters
from ..model.states import DERIVED, N_STATES, STATE_NAMES, derived

__all__ = ["Sym", "trace_rhs", "trace_derived", "INFUSION_RATE_ID", "TIME_ID"]

#: the symbol of the bevacizumab infusion input (also its SBML parameter id)
INFUSION_RATE_ID = "bev_infusion_rate"
TIME_ID = "time"  # rendered as the SBML csymbol time by libSBML's L3 infix parser


# Expression trees -------------------------------------------------------------------------------

# Precedence of the L3 infix operators as rendered here (higher binds tighter).
_P_REL, _P_ADD, _P_MUL, _P_POW, _P_ATOM = 1, 2, 3, 4, 9
_BINARY = {"+": _P_ADD, "-": _P_ADD, "*": _P_MUL, "/": _P_MUL}
_RELATIONS = (">", ">=", "<", "<=")


def _lift(x) -> "Sym":
    """A Sym for ``x`` (a Sym, or a real number, including numpy scalars)."""
    if isinstance(x, Sym):
        return x
    if isinstance(x, (bool, np.bool_)):
        raise TypeError("a boolean cannot enter a symbolic model expression")
    if isinstance(x, numbers.Integral):
        return Sym.number(int(x))
    if isinstance(x, numbers.Real):
        return Sym.number(float(x))
    if isinstance(x, np.ndarray) and x.ndim == 0:
        return _lift(x.item())
    raise TypeError(f"cannot use {type(x).__name__} {x!r} in a symbolic model expression")


class Sym:
    """A symbolic scalar: an expression tree that renders to libSBML's L3 infix syntax.

    Leaves are names (``Sym("vegf")``) and numbers; ``+ - * / **`` (also reflected), unary
    ``-``/``+``, the comparisons ``> >= < <=`` and the numpy functions ``np.maximum``,
    ``np.minimum``, ``np.exp``, ``np.log``, ``np.sqrt``, ``np.abs``, ``np.where`` build
    larger trees. Using a Sym where Python needs a truth value (``if``, ``and``) raises
    ``TypeError``: a branch on a state cannot be traced.
    """

    __slots__ = ("op", "args")
    __array_priority__ = 1000

    def __init__(self, name: str):
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"not a valid SBML id: {name!r}")
        self.op = "name"
        self.args = (name,)

    @classmethod
    def node(cls, op: str, *args) -> "Sym":
        node = object.__new__(cls)
        node.op = op
        node.args = args
        return node

    @classmethod
    def number(cls, value) -> "Sym":
        return cls.node("num", value)

    # Numbers fold at trace time, so constant sub-expressions (e.g. 2.0 / 3.0) stay numbers.
    @staticmethod
    def _fold(op: str, a: "Sym", b: "Sym"):
        if a.op == "num" and b.op == "num":
            x, y = a.args[0], b.args[0]
            try:
                return _lift({"+": x + y, "-": x - y, "*": x * y, "/": x / y, "^": x ** y}[op])
            except (ZeroDivisionError, OverflowError):
                return None
        return None

    def _binary(self, op: str, other, reflected: bool = False) -> "Sym":
        a, b = (_lift(other), self) if reflected else (self, _lift(other))
        folded = Sym._fold(op, a, b)
        return Sym.node(op, a, b) if folded is None else folded

    def __add__(self, o): return self._binary("+", o)
    def __radd__(self, o): return self._binary("+", o, True)
    def __sub__(self, o): return self._binary("-", o)
    def __rsub__(self, o): return self._binary("-", o, True)
    def __mul__(self, o): return self._binary("*", o)
    def __rmul__(self, o): return self._binary("*", o, True)
    def __truediv__(self, o): return self._binary("/", o)
    def __rtruediv__(self, o): return self._binary("/", o, True)
    def __pow__(self, o): return self._binary("^", o)
    def __rpow__(self, o): return self._binary("^", o, True)

    def __neg__(self):
        if self.op == "num":
            return _lift(-self.args[0])
        return Sym.node("neg", self)

    def __pos__(self):
        return self

    def _relation(self, op, other):
        return Sym.node("rel", op, self, _lift(other))

    def __gt__(self, o): return self._relation(">", o)
    def __ge__(self, o): return self._relation(">=", o)
    def __lt__(self, o): return self._relation("<", o)
    def __le__(self, o): return self._relation("<=", o)

    def __bool__(self):
        raise TypeError("a symbolic model value was used as a truth value (an `if` or `and` on a "
                        "state or parameter); the SBML export cannot trace a Python branch")

    def __float__(self):
        raise TypeError("a symbolic model value was converted to float; the SBML export cannot trace it")

    __complex__ = __float__

    # numpy -------------------------------------------------------------------------------
    _UFUNCS = {
        "add": lambda a, b: _lift(a) + b, "subtract": lambda a, b: _lift(a) - b,
        "multiply": lambda a, b: _lift(a) * b, "true_divide": lambda a, b: _lift(a) / b,
        "divide": lambda a, b: _lift(a) / b, "power": lambda a, b: _lift(a) ** b,
        "negative": lambda a: -_lift(a), "positive": lambda a: _lift(a),
        "maximum": lambda a, b: Sym._extremum(a, b, ">="), "fmax": lambda a, b: Sym._extremum(a, b, ">="),
        "minimum": lambda a, b: Sym._extremum(a, b, "<="), "fmin": lambda a, b: Sym._extremum(a, b, "<="),
        "greater": lambda a, b: _lift(a) > b, "greater_equal": lambda a, b: _lift(a) >= b,
        "less": lambda a, b: _lift(a) < b, "less_equal": lambda a, b: _lift(a) <= b,
        "exp": lambda a: Sym.call("exp", a), "log": lambda a: Sym.call("ln", a),
        "sqrt": lambda a: Sym.call("sqrt", a), "absolute": lambda a: Sym.call("abs", a),
        "square": lambda a: _lift(a) ** 2, "reciprocal": lambda a: 1.0 / _lift(a),
    }

    @staticmethod
    def _extremum(a, b, rel: str) -> "Sym":
        a, b = _lift(a), _lift(b)
        return Sym.node("piecewise", a, Sym.node("rel", rel, a, b), b)

    @staticmethod
    def call(fn: str, a) -> "Sym":
        return Sym.node("call", fn, _lift(a))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs.get("out") is not None:
            return NotImplemented
        rule = Sym._UFUNCS.get(ufunc.__name__)
        if rule is None:
            raise TypeError(f"numpy.{ufunc.__name__} is not supported by the SBML export's tracer")
        if any(isinstance(x, np.ndarray) and x.ndim > 0 for x in inputs):
            return NotImplemented  # let numpy broadcast over the array, element by element
        return rule(*inputs)

    def __array_function__(self, func, types, args, kwargs):
        if func is np.where and len(args) == 3 and not kwargs:
            cond, a, b = args
            cond = _lift(cond)
            if cond.op != "rel":
                raise TypeError("np.where needs a comparison as its condition in a traced expression")
            return Sym.node("piecewise", _lift(a), cond, _lift(b))
        raise TypeError(f"numpy.{func.__name__} is not supported by the SBML export's tracer")

    # Rendering ---------------------------------------------------------------------------
    def _render(self) -> tuple[str, int]:
        op = self.op
        if op == "name":
            return self.args[0], _P_ATOM
        if op == "num":
            return _number_text(self.args[0])
        if op in _BINARY:
            p = _BINARY[op]
            return f"{_wrap(self.args[0], p)} {op} {_wrap(self.args[1], p + 1)}", p
        if op == "^":
            return f"{_wrap(self.args[0], _P_ATOM)}^{_wrap(self.args[1], _P_ATOM)}", _P_POW
        if op == "neg":
            return f"-{_wrap(self.args[0], _P_POW)}", _P_ADD
        if op == "rel":
            rel, a, b = self.args
            return f"{_wrap(a, _P_ADD)} {rel} {_wrap(b, _P_ADD)}", _P_REL
        if op == "piecewise":
            value, cond, otherwise = self.args
            return f"piecewise({value.infix()}, {cond.infix()}, {otherwise.infix()})", _P_ATOM
        if op == "call":
            fn, a = self.args
            return f"{fn}({a.infix()})", _P_ATOM
        raise AssertionError(op)

    def infix(self) -> str:
        """The expression in libSBML's L3 infix syntax (``libsbml.parseL3Formula``)."""
        return self._render()[0]

    def names(self) -> set[str]:
        """Names (states, parameters, time) the expression refers to."""
        out, stack = set(), [self]
        while stack:
            node = stack.pop()
            if node.op == "name":
                out.add(node.args[0])
            else:
                stack.extend(a for a in node.args if isinstance(a, Sym))
        return out

    def __repr__(self):
        return f"Sym({self.infix()!r})"


def _number_text(x) -> tuple[str, int]:
    if isinstance(x, float):
        if math.isnan(x):
            return "NaN", _P_ATOM
        if math.isinf(x):
            return ("INF", _P_ATOM) if x > 0 else ("-INF", _P_ADD)
    text = repr(x)
    return (text, _P_ADD) if x < 0 else (text, _P_ATOM)


def _wrap(node: Sym, min_prec: int) -> str:
    """Render ``node``, in parentheses unless it binds at least as tightly as ``min_prec``.

    Operands of the same precedence on the right are parenthesised, so the rendered
    expression evaluates in the order the Python code did.
    """
    text, prec = node._render()
    return text if prec >= min_prec else f"({text})"


def _symbolic_inputs():
    y = np.empty(N_STATES, dtype=object)
    for i, name in enumerate(STATE_NAMES):
        y[i] = Sym(name)
    p = ModelParameters(*(Sym(name) for name in PARAMETER_NAMES))
    return y, p


def trace_rhs() -> dict[str, Sym]:
    """``{state name: right-hand side}`` traced from :func:`simbev.model.rhs`.

    Calls the model code once with symbols: states by their public names, parameters by their
    names, the infusion input as ``bev_infusion_rate`` and ``t`` as the SBML csymbol ``time``.
    Raises :class:`ExportError` (with the offending line) if the code does something a
    symbol cannot follow.
    """
    from .. import model

    y, p = _symbolic_inputs()
    try:
        out = model.rhs(Sym(TIME_ID), y, p, Sym(INFUSION_RATE_ID))
    except TypeError as exc:
        raise ExportError(f"simbev.model.rhs cannot be traced symbolically: {exc}\n"
                              f"{_where(exc)}") from exc
    out = list(np.asarray(out, dtype=object).reshape(-1))
    if len(out) != N_STATES:
        raise ExportError(f"simbev.model.rhs returned {len(out)} rates for {N_STATES} states")
    return {name: _lift(expr) for name, expr in zip(STATE_NAMES, out)}


def trace_derived() -> dict[str, Sym]:
    """``{derived output: expression in the states}`` traced from :func:`simbev.model.states.derived`."""
    y, _ = _symbolic_inputs()
    try:
        out = derived(y)
    except TypeError as exc:
        raise ExportError(f"simbev.model.states.derived cannot be traced symbolically: {exc}\n"
                              f"{_where(exc)}") from exc
    return {d.name: _lift(out[d.name]) for d in DERIVED if d.name in out}


def _where(exc: BaseException) -> str:
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "simbev" in f.filename
              and not f.filename.endswith("tracer.py")]
    return "".join(f"  at {f.filename}:{f.lineno}: {f.line}\n" for f in frames[-2:])
