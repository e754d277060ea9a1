"""Optimizer hooks: called with the list of parameters that have gradients, before the
update. ``WeightDecay``, ``ClipGrad`` and ``FreezeParam`` (which works here).

Hooks compose in any order: ``Optimizer.update`` hands each hook the parameters that still
have a gradient after the hooks before it, and each hook also skips a parameter whose
gradient is ``None`` when called directly.
"""

from __future__ import annotations

import math
from typing import Any

from zerograd.autograd.variable import Parameter
from zerograd.optimizers.base import Hyper

__all__ = ["ClipGrad", "FreezeParam", "WeightDecay"]


class WeightDecay:
    """L2 regularization: ``grad += rate * param`` (DeZero's; added to the gradient)."""

    rate = Hyper()

    def __init__(self, rate: float) -> None:
        self.rate = rate

    def __call__(self, params: list[Parameter]) -> None:
        for param in params:
            if param.grad is not None:
                # The engine gives each parameter a gradient array of its own, so this is safe.
                param.grad.data += self.rate * param.data


class ClipGrad:
    """Scale all gradients by ``max_norm / (norm + 1e-6)`` when their global L2 norm exceeds
    ``max_norm`` (DeZero's arithmetic)."""

    max_norm = Hyper(low_open=True)

    def __init__(self, max_norm: float) -> None:
        self.max_norm = max_norm

    def __call__(self, params: list[Parameter]) -> None:
        grads = [p.grad.data for p in params if p.grad is not None]
        total: Any = 0  # DeZero's int start: the sums' dtype decides, on NumPy 1.x and 2.x
        for g in grads:
            total += (g * g).sum()  # summed on the device, one transfer below
        total_norm = math.sqrt(float(total))
        rate = self.max_norm / (total_norm + 1e-6)
        if rate < 1:
            for g in grads:
                g *= rate


class FreezeParam:
    """Keep the given layers' (or parameters') values fixed: their gradients are dropped
    before the update. DeZero's version always crashes; this one works."""

    def __init__(self, *layers: Any) -> None:
        self.freeze_params: list[Parameter] = []
        for layer in layers:
            if isinstance(layer, Parameter):
                self.freeze_params.append(layer)
            elif callable(getattr(layer, "params", None)):
                self.freeze_params.extend(layer.params())
            else:
                raise TypeError(
                    f"FreezeParam: expected Layers or Parameters, got {type(layer).__name__}"
                )

    def __call__(self, params: list[Parameter]) -> None:
        for p in self.freeze_params:
            p.grad = None
