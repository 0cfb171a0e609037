"""Check analytic gradients against central finite differences, as seed 003 does by hand.

For a function f of tensors x_1..x_k and a fixed random projection r of its output,
L = sum(f(x) * r) is a scalar whose gradient with respect to every element x_j[i] is checked:

    dL/dx_j[i]  ~=  (L(x_j[i] + eps) - L(x_j[i] - eps)) / (2 eps)

A random r (instead of one check per output element) catches a wrong gradient with
probability 1 while costing one backward pass. Everything runs in float64.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from scratchnn.tensor import Tensor, no_grad


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the finite-difference estimate."""


def gradcheck(function: Callable[..., Tensor], inputs: Tensor | Sequence[Tensor],
              eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0,
              raise_exception: bool = True) -> bool:
    """True if every input's gradient matches central differences; else GradcheckError
    naming the input, the worst element, and both values (or False, with
    ``raise_exception=False``).

    ``inputs``: a float64 tensor or a sequence of them (other values are passed through);
    those with ``requires_grad`` are checked.
    """
    if not raise_exception:
        try:
            return gradcheck(function, inputs, eps, atol, rtol, seed)
        except GradcheckError:
            return False
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} is {inputs[i].dtype}; use float64 "
                             "(finite differences in float32 are too coarse)")
    output = function(*inputs)
    projection = np.random.default_rng(seed).standard_normal(output.shape)
    for i in checked:
        inputs[i].grad = None
    (output * Tensor(projection, dtype=np.float64)).sum().backward()

    def projected_output() -> float:
        with no_grad():
            return float(np.sum(function(*inputs).data * projection))

    for i in checked:
        data = inputs[i].data
        analytic = inputs[i].grad.data if inputs[i].grad is not None else np.zeros_like(data)
        numeric = np.zeros_like(data)
        for position in np.ndindex(data.shape):
            original = data[position]
            data[position] = original + eps
            plus = projected_output()
            data[position] = original - eps
            minus = projected_output()
            data[position] = original
            numeric[position] = (plus - minus) / (2 * eps)
        error = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        if error.size and (error > 0).any():
            worst = np.unravel_index(np.argmax(error), error.shape)
            raise GradcheckError(
                f"gradcheck: input {i} (shape {data.shape}) element {tuple(map(int, worst))}: "
                f"analytic {analytic[worst]:.8g} vs numerical {numeric[worst]:.8g} "
                f"({int((error > 0).sum())} of {error.size} elements disagree)"
            )
    return True
