"""Elementwise math beyond arithmetic: trigonometric and hyperbolic functions, log1p/expm1,
erf, the piecewise-constant ones (floor, ceil, round, sign), nan_to_num and clone.

Each derivative is the textbook one; ``g`` is the gradient of the output.
"""

from __future__ import annotations

import math

import numpy as np

from scratchnn.tensor import Function


class Sin(Function):
    """out = sin a;  da = g * cos a."""

    def forward(self, a):
        self.saved = a
        return np.sin(a)

    def backward(self, grad_output):
        return grad_output * np.cos(self.saved)


class Cos(Function):
    """out = cos a;  da = -g * sin a."""

    def forward(self, a):
        self.saved = a
        return np.cos(a)

    def backward(self, grad_output):
        return -grad_output * np.sin(self.saved)


class Tan(Function):
    """out = tan a;  da = g * (1 + out**2)."""

    saves_inputs = False
    saves_output = True

    def forward(self, a):
        out = np.tan(a)
        self.saved = out
        return out

    def backward(self, grad_output):
        return grad_output * (1 + self.saved * self.saved)


class Asin(Function):
    """out = asin a;  da = g / sqrt(1 - a**2)."""

    def forward(self, a):
        self.saved = a
        with np.errstate(invalid="ignore"):
            return np.arcsin(a)

    def backward(self, grad_output):
        a = self.saved
        with np.errstate(divide="ignore", invalid="ignore"):
            return grad_output / np.sqrt(1 - a * a)


class Acos(Function):
    """out = acos a;  da = -g / sqrt(1 - a**2)."""

    def forward(self, a):
        self.saved = a
        with np.errstate(invalid="ignore"):
            return np.arccos(a)

    def backward(self, grad_output):
        a = self.saved
        with np.errstate(divide="ignore", invalid="ignore"):
            return -grad_output / np.sqrt(1 - a * a)


class Atan(Function):
    """out = atan a;  da = g / (1 + a**2)."""

    def forward(self, a):
        self.saved = a
        return np.arctan(a)

    def backward(self, grad_output):
        a = self.saved
        return grad_output / (1 + a * a)


class Atan2(Function):
    """out = atan2(a, b), the angle of the point (b, a);
    da = g * b / (a**2 + b**2),  db = -g * a / (a**2 + b**2)."""

    def forward(self, a, b):
        self.saved = (a, b)
        return np.arctan2(a, b)

    def backward(self, grad_output):
        a, b = self.saved
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = grad_output / (a * a + b * b)
        grad_a = scale * b if self.needs_input_grad[0] else None
        grad_b = -scale * a if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Sinh(Function):
    """out = sinh a;  da = g * cosh a."""

    def forward(self, a):
        self.saved = a
        return np.sinh(a)

    def backward(self, grad_output):
        return grad_output * np.cosh(self.saved)


class Cosh(Function):
    """out = cosh a;  da = g * sinh a."""

    def forward(self, a):
        self.saved = a
        return np.cosh(a)

    def backward(self, grad_output):
        return grad_output * np.sinh(self.saved)


class Log1p(Function):
    """out = ln(1 + a), exact for tiny a;  da = g / (1 + a)."""

    def forward(self, a):
        self.saved = a
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log1p(a)

    def backward(self, grad_output):
        return grad_output / (1 + self.saved)


class Expm1(Function):
    """out = e**a - 1, exact for tiny a;  da = g * (out + 1)."""

    saves_inputs = False
    saves_output = True

    def forward(self, a):
        out = np.expm1(a)
        self.saved = out
        return out

    def backward(self, grad_output):
        return grad_output * (self.saved + 1)


_erf = np.frompyfunc(math.erf, 1, 1)


class Erf(Function):
    """out = erf a = 2/sqrt(pi) * integral_0^a e**(-t**2) dt;  da = g * 2/sqrt(pi) * e**(-a**2).

    NumPy has no erf; each element goes through ``math.erf`` (correctly rounded, slower than
    a ufunc: about 0.1 us per element)."""

    def forward(self, a):
        self.saved = a
        return np.asarray(_erf(a), dtype=a.dtype)

    def backward(self, grad_output):
        a = self.saved
        return grad_output * (2 / math.sqrt(math.pi)) * np.exp(-a * a)


class Piecewise(Function):
    """out = floor/ceil/round/sign of a (the ``function`` option): constant between jumps, so
    da = 0 everywhere (PyTorch's convention at the jumps too)."""

    saves_inputs = False

    def forward(self, a, function=None):
        self.saved = (a.shape, a.dtype)
        return function(a)

    def backward(self, grad_output):
        shape, dtype = self.saved
        return np.zeros(shape, dtype=dtype)


class NanToNum(Function):
    """out = a with NaN, +inf, -inf replaced by ``nan``, ``posinf``, ``neginf``;
    da = g where a is finite, 0 where it was replaced."""

    saves_inputs = False

    def forward(self, a, nan=0.0, posinf=None, neginf=None):
        self.saved = np.isfinite(a)
        return np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, grad_output):
        return grad_output * self.saved


class Clone(Function):
    """out = a copy of a (own memory);  da = g."""

    saves_inputs = False

    def forward(self, a):
        return np.array(a, copy=True, order="C")

    def backward(self, grad_output):
        return grad_output
