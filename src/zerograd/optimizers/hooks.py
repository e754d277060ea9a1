"""Optimizer hooks: called with the list of parameters that have gradients, before the
update. ``WeightDecay``, ``ClipGrad`` and ``FreezeParam`` (which works here)."""

from __future__ import annotations

import math
from typing import Any

from zerograd.autograd.variable import Parameter

__all__ = ["ClipGrad", "FreezeParam", "WeightDecay"]


class WeightDecay:
    """L2 regularization: ``grad += rate * param`` (DeZero's; added to the gradient)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate

    def __call__(self, params: list[Parameter]) -> None:
        for param in params:
            # The engine gives each parameter a gradient array of its own, so this is safe.
            param.grad.data += self.rate * param.data  # type: ignore[union-attr]


class ClipGrad:
    """Scale all gradients by ``max_norm / (norm + 1e-6)`` when their global L2 norm exceeds
    ``max_norm``."""

    def __init__(self, max_norm: float) -> None:
        self.max_norm = max_norm

    def __call__(self, params: list[Parameter]) -> None:
        total: Any = 0.0
        for param in params:
            g = param.grad.data  # type: ignore[union-attr]
            total += (g * g).sum()  # summed on the device, one transfer below
        total_norm = math.sqrt(float(total))
        rate = self.max_norm / (total_norm + 1e-6)
        if rate < 1:
            for param in params:
                param.grad.data *= rate  # type: ignore[union-attr]


class FreezeParam:
    """Keep the given layers' (or parameters') values fixed: their gradients are dropped
    before the update. DeZero's version always crashes; this one works."""

    def __init__(self, *layers: Any) -> None:
        self.freeze_params: list[Parameter] = []
        for layer in layers:
            if isinstance(layer, Parameter):
                self.freeze_params.append(layer)
            else:
                self.freeze_params.extend(layer.params())

    def __call__(self, params: list[Parameter]) -> None:
        for p in self.freeze_params:
            p.grad = None
