"""Symbolic: a tracer that runs the model's right-hand side on symbols (:class:`Sym`) to get
its equations as expression trees, and the calculus on them (simplifying constructors,
derivatives, linearity). Shared by the SBML export and the compiled solver's code generator.

May import: :mod:`simbev.model` only.
"""
