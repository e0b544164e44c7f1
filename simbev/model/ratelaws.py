"""Elementary rate laws shared by the process modules.

Every function works on floats, numpy arrays and complex numbers (the Jacobian is taken by
complex-step differentiation, so nothing here may use ``abs`` or comparisons on values).
"""
from __future__ import annotations

import numpy as np


def saturation(x, k):
    """Michaelis-Menten / Hill-1 saturation ``x / (k + x)``.

    0 at x = 0, 1/2 at x = k, tends to 1. Negative ``x`` (solver undershoot) is treated as 0.
    """
    x = np.maximum(x, 0.0)
    return x / (k + x)


def hill(x, k, n):
    """Hill activation ``x^n / (k^n + x^n)``: 0 at 0, 1/2 at ``x = k``; ``x < 0`` treated as 0."""
    x = np.maximum(x, 0.0)
    xn = x**n
    return xn / (k**n + xn)


def repression(x, k, n):
    """Hill repression ``1 / (1 + (x/k)^n)``: 1 at 0, 1/2 at ``x = k``; ``x < 0`` treated as 0."""
    x = np.maximum(x, 0.0)
    return 1.0 / (1.0 + (x / k) ** n)
