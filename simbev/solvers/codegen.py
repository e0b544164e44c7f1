"""Straight-line code for the right-hand side and its exact Jacobian, from the traced equations.

The fast path (:mod:`simbev.solvers.compiled`) does not keep a second copy of the model. It takes the
expression trees that the SBML export traces from :func:`simbev.model.rhs`
(:func:`simbev.symbolic.tracer.trace_rhs`), differentiates them symbolically, removes common
sub-expressions, and writes Python source that numba compiles:

``model_prep(p, q)``
    every sub-expression that depends on parameters only (``K^n`` of a Hill term, ratios of
    parameters, ...), once per sample;
``model_rhs(t, y, p, q, u, dy)``
    the time derivatives of all states;
``model_rhs_jac(t, y, p, q, u, dy, J, ft)``
    the derivatives, the Jacobian ``J[i, j] = d rhs_i / d y_j`` (only its structural
    non-zeros are written; the others stay as the caller set them, zero) and ``ft = d rhs / d t``
    (zero for this autonomous model, kept so that a time-dependent term would still be right);
``model_pk(p, q, c)``
    the coefficients of the linear mTOR-inhibitor subsystem (see :func:`linear_pk`);
``model_rhs_r``, ``model_rhs_jac_r``
    the same on the integrated states only, with the closed-form PK values as inputs: what the
    kernel calls (see :func:`_reduced_functions`; the full ones are for the tests);
``lin_factor(Jf, fac, LU, dinv)``, ``lin_solve(LU, dinv, b)``
    the sparse LU of the iteration matrix (see :func:`sparse_lu_source`).

Symbolic differentiation (not dual numbers or complex step) is used because the result is
code: the derivative of every term is written once, the zero entries of the Jacobian cost
nothing, and the values shared by the right-hand side and the Jacobian are computed once.
The rules are the usual ones; ``piecewise(a, cond, b)`` (what ``np.maximum`` traces to)
differentiates branch-wise under the same condition, which is what complex-step
differentiation of the Python model does (it compares real parts).

Nothing here needs numba: :func:`generate_source` returns text, and the tests check the
generated functions, run as plain Python, against :func:`simbev.model.rhs` and
:func:`simbev.model.jacobian`.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass


from ..model import PARAMETER_NAMES
from ..symbolic.calculus import PARAM_SET as _PARAM_SET
from ..symbolic.calculus import LinearPK, _is_num, differentiate, linear_pk
from ..symbolic.tracer import INFUSION_RATE_ID, TIME_ID, Sym, trace_rhs
from ..model.states import N_STATES, STATE_INDEX, STATE_NAMES

__all__ = ["differentiate", "generate_source", "linear_pk", "LinearPK", "GeneratedModel", "generate"]

# Code emission -----------------------------------------------------------------------------------

class _Emitter:
    """Common-sub-expression elimination by structure, and Python source for each node.

    ``level(node)`` is 0 for numbers, 1 for expressions of parameters only (computed in
    ``model_prep`` into ``q``), 2 for anything that involves a state, time or the input.
    """

    def __init__(self):
        self.canon: dict = {}        # structural key -> canonical id
        self.by_id: dict = {}        # id(node) -> canonical id
        self.nodes: list = []        # canonical id -> node
        self.keys: list = []
        self.level: list = []
        self.uses: list = []

    def visit(self, node: Sym) -> int:
        nid = self.by_id.get(id(node))
        if nid is not None:
            return nid
        op, args = node.op, node.args
        if op == "name":
            key = ("name", args[0])
            name = args[0]
            lvl = 1 if name in _PARAM_SET else 2
            children = ()
        elif op == "num":
            key = ("num", float(args[0]))
            lvl = 0
            children = ()
        elif op == "rel":
            children = (self.visit(args[1]), self.visit(args[2]))
            key = ("rel", args[0], *children)
            lvl = max(self.level[c] for c in children)
        elif op == "call":
            children = (self.visit(args[1]),)
            key = ("call", args[0], *children)
            lvl = self.level[children[0]]
        else:
            children = tuple(self.visit(a) for a in args)
            key = (op, *children)
            lvl = max(self.level[c] for c in children)
        nid = self.canon.get(key)
        if nid is None:
            nid = len(self.nodes)
            self.canon[key] = nid
            self.nodes.append(node)
            self.keys.append(key)
            self.level.append(lvl)
            self.uses.append(0)
            for c in children:
                self.uses[c] += 1
        self.by_id[id(node)] = nid
        self._keep = getattr(self, "_keep", [])
        self._keep.append(node)  # ids stay unique while the emitter lives
        return nid


def _float_text(x: float) -> str:
    if math.isnan(x):
        return "math.nan"
    if math.isinf(x):
        return "math.inf" if x > 0 else "(-math.inf)"
    text = repr(float(x))
    return f"({text})" if x < 0 else text


_PY_OPS = {"+": "+", "-": "-", "*": "*", "/": "/"}
_PY_CALLS = {"exp": "math.exp", "ln": "math.log", "sqrt": "math.sqrt", "abs": "abs"}


class _Writer:
    """Writes the statements of one function: every needed node once, in dependency order."""

    def __init__(self, em: _Emitter, prep_index: dict[int, int], state_var, indent="    "):
        self.em = em
        self.prep_index = prep_index  # canonical id -> index in q (level-1 nodes)
        self.state_var = state_var    # name -> local variable text (states, time, input)
        self.indent = indent
        self.lines: list[str] = []
        self.done: dict[int, str] = {}

    def ref(self, nid: int) -> str:
        """Text that evaluates node ``nid`` (emitting the statements it needs first)."""
        if nid in self.done:
            return self.done[nid]
        em = self.em
        key = em.keys[nid]
        op = key[0]
        if op == "num":
            text = _float_text(key[1])
            self.done[nid] = text
            return text
        if op == "name":
            name = key[1]
            text = f"p[{PARAMETER_NAMES.index(name)}]" if name in _PARAM_SET else self.state_var(name)
            self.done[nid] = text
            return text
        if nid in self.prep_index:
            text = f"q[{self.prep_index[nid]}]"
            self.done[nid] = text
            return text
        expr = self.expression(nid)
        var = f"v{nid}"
        self.lines.append(f"{self.indent}{var} = {expr}")
        self.done[nid] = var
        return var

    def expression(self, nid: int) -> str:
        em = self.em
        key = em.keys[nid]
        op = key[0]
        if op in _PY_OPS:
            return f"{self.ref(key[1])} {_PY_OPS[op]} {self.ref(key[2])}"
        if op == "neg":
            return f"-{self.ref(key[1])}"
        if op == "^":
            base, expo = key[1], key[2]
            b = self.ref(base)
            if em.keys[expo][0] == "num":
                n = em.keys[expo][1]
                if n == 2.0:
                    return f"{b} * {b}"
                if n == 1.0:
                    return f"{b}"
                if n == 0.5:
                    return f"math.sqrt({b})"
            return f"{b} ** {self.ref(expo)}"
        if op == "rel":
            return f"{self.ref(key[2])} {key[1]} {self.ref(key[3])}"
        if op == "piecewise":
            value, cond, otherwise = key[1], key[2], key[3]
            return f"{self.ref(value)} if {self.ref(cond)} else {self.ref(otherwise)}"
        if op == "call":
            return f"{_PY_CALLS[key[1]]}({self.ref(key[2])})"
        raise ValueError(op)  # pragma: no cover


def markowitz_order(pattern: set[tuple[int, int]], n: int) -> tuple[list[int], set[tuple[int, int]]]:
    """Diagonal pivot order of least fill (greedy Markowitz), and the pattern with the fill-in.

    At each step the remaining diagonal with the smallest ``(row count - 1) * (column count - 1)``
    in the remaining sub-matrix is eliminated (ties: lowest index), and the entries that
    elimination creates are added to the pattern.
    """
    filled = set(pattern) | {(i, i) for i in range(n)}
    remaining = set(range(n))
    order: list[int] = []
    while remaining:
        best, pick = None, None
        for k in sorted(remaining):
            r = sum(1 for j in remaining if j != k and (k, j) in filled)
            c = sum(1 for i in remaining if i != k and (i, k) in filled)
            if best is None or r * c < best:
                best, pick = r * c, k
        order.append(pick)
        remaining.remove(pick)
        rows = [i for i in remaining if (i, pick) in filled]
        cols = [j for j in remaining if (pick, j) in filled]
        filled.update((i, j) for i in rows for j in cols)
    return order, filled


# A pivot smaller than this fraction of its row's largest entry makes the sparse factorisation
# give up; the integrator then factorises that step's matrix densely with partial pivoting.
PIVOT_THRESHOLD = 1e-8


def sparse_lu_source(jac_pattern: list[tuple[int, int]], act: list[int]) -> list[str]:
    """Source of ``lin_factor(Jf, fac, LU, dinv)`` and ``lin_solve(LU, dinv, b)``.

    ``Jf`` holds the structural non-zeros of the Jacobian among the integrated states ``act``
    in the order of :func:`reduced_pattern` (what ``model_rhs_jac_r`` writes). ``lin_factor``
    forms the iteration matrix ``E = fac I - J[act, act]`` and factorises it as ``L U`` in the
    Markowitz order without pivoting, as straight-line code over the structural non-zeros and
    their fill-in only (the approach of KPP, the kinetic pre-processor, for stiff chemistry).
    The entries live in local variables while it works (no stores and re-loads through memory
    that might alias), and the off-diagonal factors are stored in ``LU``, in the order
    ``lin_solve`` reads them; ``dinv`` receives the inverse pivots. It returns 1 if a pivot is
    below ``PIVOT_THRESHOLD`` times the largest entry of its row of ``E`` (then the caller
    falls back to a pivoted dense factorisation; ``LU`` is then meaningless), else 0.
    ``lin_solve`` overwrites ``b`` with ``E^-1 b``, working on local copies of ``b``.
    """
    n = len(act)
    base, jf_index = reduced_pattern(jac_pattern, act)
    order, filled = markowitz_order(set(base), n)
    base = set(base)
    rank = {k: r for r, k in enumerate(order)}
    # the storage order of the factors: as lin_solve reads them (forward, then backward)
    lu_index: dict[tuple[int, int], int] = {}
    for k in order:
        for i in range(n):
            if rank[i] > rank[k] and (i, k) in filled:
                lu_index[(i, k)] = len(lu_index)
    for k in reversed(order):
        for j in range(n):
            if rank[j] > rank[k] and (k, j) in filled:
                lu_index[(k, j)] = len(lu_index)

    def e(i, j):
        return f"e{i}_{j}"

    lines = ["def lin_factor(Jf, fac, LU, dinv):"]
    for i in range(n):
        for j in range(n):
            if (i, j) not in filled:
                continue
            if i == j:
                expr = f"fac - Jf[{jf_index[(i, j)]}]" if (i, j) in base else "fac"
            else:
                expr = f"-Jf[{jf_index[(i, j)]}]" if (i, j) in base else "0.0"
            lines.append(f"    {e(i, j)} = {expr}")
    for i in range(n):  # the largest entry of each row of E, for the pivot test
        lines.append(f"    r{i} = abs({e(i, i)})")
        for j in range(n):
            if j != i and (i, j) in base:
                lines.append(f"    a = abs({e(i, j)})")
                lines.append(f"    r{i} = a if a > r{i} else r{i}")
    lines.append("    bad = 0")
    for k in order:
        lines.append(f"    d = {e(k, k)}")
        lines.append(f"    if not (abs(d) > {PIVOT_THRESHOLD!r} * r{k}):")
        lines.append("        bad = 1")
        lines.append("        d = 1.0")
        lines.append(f"    inv{k} = 1.0 / d")
        rows = [i for i in range(n) if rank[i] > rank[k] and (i, k) in filled]
        cols = [j for j in range(n) if rank[j] > rank[k] and (k, j) in filled]
        for i in rows:
            lines.append(f"    {e(i, k)} = {e(i, k)} * inv{k}")
            for j in cols:
                lines.append(f"    {e(i, j)} = {e(i, j)} - {e(i, k)} * {e(k, j)}")
    for (i, j), idx in lu_index.items():
        lines.append(f"    LU[{idx}] = {e(i, j)}")
    for k in range(n):
        lines.append(f"    dinv[{k}] = inv{k}")
    lines.append("    return bad")
    lines.append("")
    lines.append("def lin_solve(LU, dinv, b):")
    for i in range(n):
        lines.append(f"    x{i} = b[{i}]")
    for k in order:  # forward: L (unit diagonal)
        for i in range(n):
            if rank[i] > rank[k] and (i, k) in filled:
                lines.append(f"    x{i} = x{i} - LU[{lu_index[(i, k)]}] * x{k}")
    for k in reversed(order):  # backward: U
        terms = [f" - LU[{lu_index[(k, j)]}] * x{j}" for j in range(n) if rank[j] > rank[k] and (k, j) in filled]
        lines.append(f"    x{k} = (x{k}{''.join(terms)}) * dinv[{k}]")
    for i in range(n):
        lines.append(f"    b[{i}] = x{i}")
    lines.append("")
    lines.append(f"N_LU = {max(len(lu_index), 1)}")
    lines.append("")
    return lines


def reduced_pattern(jac_pattern: list[tuple[int, int]], act: list[int]):
    """The Jacobian's structural non-zeros among the integrated states ``act``, as positions
    in ``act`` (sorted), and their index in the flat array ``Jf`` of ``model_rhs_jac_r``."""
    pos = {a: i for i, a in enumerate(act)}
    base = sorted((pos[i], pos[j]) for i, j in jac_pattern if i in pos and j in pos)
    return base, {ij: k for k, ij in enumerate(base)}


def _reduced_functions(em: _Emitter, prep_index: dict, rhs_ids: list, jac_ids: dict, ft_ids: dict,
                       pk: LinearPK | None, act: list[int]) -> list[str]:
    """``model_rhs_r`` and ``model_rhs_jac_r``: the right-hand side and Jacobian on the
    integrated states only, which the kernel uses (no copies into and out of a full state).

    ``model_rhs_r(t, y, pd, pc, p, q, u, dy)``: ``y`` and ``dy`` are the integrated states
    (``ACT`` order); ``pd`` and ``pc`` the closed-form depot and plasma values of the mTOR
    inhibitor (unused when it is integrated). ``model_rhs_jac_r(t, y, pd, pc, rd, rc, p, q, u,
    dy, Jf, fjt)`` also writes the Jacobian's structural non-zeros among the integrated states
    into ``Jf`` (order of :func:`reduced_pattern`) and the total time derivative
    ``fjt = df/dt + df/dD rd + df/dC rc`` with ``rd``, ``rc`` the time derivatives of the
    closed-form ``D`` and ``C``.
    """
    pos = {a: i for i, a in enumerate(act)}
    depot, central = (pk.depot, pk.central) if pk else (-1, -1)

    def var(name: str) -> str:
        if name == TIME_ID:
            return "t"
        if name == INFUSION_RATE_ID:
            return "u"
        idx = STATE_INDEX[name]
        if idx == depot:
            return "pd"
        if idx == central:
            return "pc"
        return f"y[{pos[idx]}]"

    def function(header: str, jacobian: bool) -> list[str]:
        wr = _Writer(em, prep_index, var)
        lines: list[str] = []

        def emit(target: str, text_of) -> None:
            wr.lines = []
            text = text_of()
            lines.extend(wr.lines)
            lines.append(f"    {target} = {text}")

        for r, i in enumerate(act):
            emit(f"dy[{r}]", lambda i=i: wr.ref(rhs_ids[i]))
        if jacobian:
            pattern, _ = reduced_pattern(sorted(jac_ids), act)
            for k, (r, c) in enumerate(pattern):
                emit(f"Jf[{k}]", lambda r=r, c=c: wr.ref(jac_ids[(act[r], act[c])]))
            for r, i in enumerate(act):
                def total(i=i):
                    terms = []
                    if i in ft_ids:
                        terms.append(wr.ref(ft_ids[i]))
                    for state, rate in ((depot, "rd"), (central, "rc")):
                        if (i, state) in jac_ids:
                            terms.append(f"{wr.ref(jac_ids[(i, state)])} * {rate}")
                    return " + ".join(terms) if terms else "0.0"
                emit(f"fjt[{r}]", total)
        return [header, *lines, ""]

    return (function("def model_rhs_r(t, y, pd, pc, p, q, u, dy):", False)
            + function("def model_rhs_jac_r(t, y, pd, pc, rd, rc, p, q, u, dy, Jf, fjt):", True))


@dataclass(frozen=True)
class GeneratedModel:
    """Source text of the generated functions and what the kernel needs to know about them."""

    source: str
    n_prep: int
    pk: LinearPK | None
    jacobian_nonzeros: int
    digest: str


def _state_var(name: str) -> str:
    if name == TIME_ID:
        return "t"
    if name == INFUSION_RATE_ID:
        return "u"
    return f"y[{STATE_INDEX[name]}]"


def generate_source(rates: dict[str, Sym] | None = None, analytic_pk: bool = True) -> GeneratedModel:
    """Python source of ``model_prep``, ``model_rhs``, ``model_rhs_jac`` and ``model_pk``.

    ``rates`` defaults to :func:`simbev.symbolic.tracer.trace_rhs`. With ``analytic_pk`` the
    mTOR-inhibitor subsystem is checked by :func:`linear_pk` and, if it qualifies, its
    coefficients are generated too (``GeneratedModel.pk``).
    """
    rates = trace_rhs() if rates is None else rates
    rhs = [rates[name] for name in STATE_NAMES]
    memo: dict = {}
    jac: dict[tuple[int, int], Sym] = {}
    for j, var in enumerate(STATE_NAMES):
        for i, f in enumerate(rhs):
            g = differentiate(f, var, memo)
            if not _is_num(g, 0):
                jac[(i, j)] = g
    tmemo: dict = {}
    ft = {i: g for i, f in enumerate(rhs) if not _is_num(g := differentiate(f, TIME_ID, tmemo), 0)}
    pk = linear_pk(rates) if analytic_pk else None

    em = _Emitter()
    rhs_ids = [em.visit(f) for f in rhs]
    jac_ids = {ij: em.visit(g) for ij, g in sorted(jac.items())}
    ft_ids = {i: em.visit(g) for i, g in sorted(ft.items())}
    pk_ids = [em.visit(g) for g in (pk.a_dd, pk.a_cd, pk.a_cc)] if pk else []

    # Parameter-only sub-expressions that are not bare names: computed once per sample.
    prep_nodes = [nid for nid in range(len(em.nodes)) if em.level[nid] == 1 and em.keys[nid][0] != "name"]
    prep_index = {nid: k for k, nid in enumerate(prep_nodes)}

    out = ["# Generated by simbev.solvers.codegen from simbev.model.rhs (traced); do not edit.",
           "import math", "", "import numpy as np", ""]

    # model_prep: q[k] for every parameter-only node, in dependency order (ids are topological)
    w = _Writer(em, {}, _state_var)
    body = []
    for k, nid in enumerate(prep_nodes):
        w.lines = []
        text = w.ref(nid)
        body.extend(w.lines)
        body.append(f"    q[{k}] = {text}")
        w.done[nid] = f"q[{k}]"
    out += ["def model_prep(p, q):", *(body or ["    pass"]), ""]

    def function(header: str, targets: list[tuple[str, int]]) -> list[str]:
        wr = _Writer(em, prep_index, _state_var)
        lines = []
        for target, nid in targets:
            wr.lines = []
            text = wr.ref(nid)
            lines.extend(wr.lines)
            lines.append(f"    {target} = {text}")
        return [header, *(lines or ["    pass"]), ""]

    out += function("def model_rhs(t, y, p, q, u, dy):", [(f"dy[{i}]", nid) for i, nid in enumerate(rhs_ids)])
    out += function("def model_rhs_jac(t, y, p, q, u, dy, J, ft):",
                    [(f"dy[{i}]", nid) for i, nid in enumerate(rhs_ids)]
                    + [(f"J[{i}, {j}]", nid) for (i, j), nid in jac_ids.items()]
                    + [(f"ft[{i}]", nid) for i, nid in ft_ids.items()])
    out += function("def model_pk(p, q, c):", [(f"c[{k}]", nid) for k, nid in enumerate(pk_ids)])
    act = [i for i in range(N_STATES) if not (pk and i in (pk.depot, pk.central))]
    out += _reduced_functions(em, prep_index, rhs_ids, jac_ids, ft_ids, pk, act)
    out += sparse_lu_source(sorted(jac_ids), act)
    pattern, _ = reduced_pattern(sorted(jac_ids), act)
    out += [f"N_PREP = {max(len(prep_nodes), 1)}",
            f"ACT = np.array({act!r}, dtype=np.int64)",
            f"PK_ANALYTIC = {bool(pk)}",
            f"PK_DEPOT = {pk.depot if pk else -1}",
            f"PK_CENTRAL = {pk.central if pk else -1}",
            f"JACOBIAN_PATTERN = {sorted(jac_ids)!r}",
            f"N_JF = {max(len(pattern), 1)}",
            f"JF_ROW = np.array({[i for i, _ in pattern]!r}, dtype=np.int64)",
            f"JF_COL = np.array({[j for _, j in pattern]!r}, dtype=np.int64)",
            ""]
    source = "\n".join(out)
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    return GeneratedModel(source, max(len(prep_nodes), 1), pk, len(jac_ids), digest)


def generate(analytic_pk: bool = True):
    """Execute the generated source as plain Python; return its namespace (a dict).

    For tests and for the numba-free check of the generated code; :mod:`simbev.solvers.compiled` compiles
    the same text with numba.
    """
    gen = generate_source(analytic_pk=analytic_pk)
    namespace: dict = {}
    exec(compile(gen.source, "<simbev generated model>", "exec"), namespace)
    namespace["GENERATED"] = gen
    return namespace


if __name__ == "__main__":  # pragma: no cover - inspection aid: python -m simbev.solvers.codegen
    print(generate_source().source)
    _ = N_STATES
