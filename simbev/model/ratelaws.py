"""Elementary rate laws shared by the process modules.

Every function works on floats, numpy arrays and complex numbers (the Jacobian is taken by
complex-step differentiation, so nothing here may use ``abs`` or comparisons on values).
"""
from __future__ import annotations

import numpy as np


def positive(x):
    """``max(x, 0)`` for floats, complex numbers (by the real part) and arrays.

    Scalars take a fast path: the right-hand side is evaluated on Python floats in the solver
    loop, where a numpy ufunc call costs more than the rest of a rate law.
    """
    if isinstance(x, float):
        return x if x > 0.0 else 0.0
    if isinstance(x, complex):
        return x if x.real > 0.0 else 0j
    return np.maximum(x, 0.0)  # arrays; complex arrays compare on the real part first


def saturation(x, k):
    """Michaelis-Menten / Hill-1 saturation ``x / (k + x)``.

    0 at x = 0, 1/2 at x = k, tends to 1. Negative ``x`` (solver undershoot) is treated as 0.
    """
    x = positive(x)
    return x / (k + x)


def hill(x, k, n):
    """Hill activation ``x^n / (k^n + x^n)``: 0 at 0, 1/2 at ``x = k``; ``x < 0`` treated as 0."""
    x = positive(x)
    xn = x**n
    return xn / (k**n + xn)


def repression(x, k, n):
    """Hill repression ``1 / (1 + (x/k)^n)``: 1 at 0, 1/2 at ``x = k``; ``x < 0`` treated as 0."""
    x = positive(x)
    return 1.0 / (1.0 + (x / k) ** n)
