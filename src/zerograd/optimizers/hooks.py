"""Optimizer hooks: called with the list of parameters that have gradients, before the
update. ``WeightDecay``, ``ClipGrad`` and ``FreezeParam`` (which works here); and
``clip_grad_norm``, ``ClipGrad`` as a function (torch's ``clip_grad_norm_``).

Hooks compose in any order: ``Optimizer.update`` hands each hook the parameters that still
have a gradient after the hooks before it, and each hook also skips a parameter whose
gradient is ``None`` when called directly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from zerograd.autograd.variable import Parameter, Variable
from zerograd.optimizers.base import Hyper

__all__ = ["ClipGrad", "FreezeParam", "WeightDecay", "clip_grad_norm"]


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
        _clip(params, self.max_norm)


def _clip(params: list[Parameter], max_norm: float) -> float:
    """Clip the gradients of ``params`` (those without one are skipped) to global L2 norm
    ``max_norm`` with DeZero's arithmetic; return the norm before clipping."""
    grads = [p.grad.data for p in params if p.grad is not None]
    total: Any = 0  # DeZero's int start: the sums' dtype decides, on NumPy 1.x and 2.x
    for g in grads:
        total += (g * g).sum()  # summed on the device, one transfer below
    total_norm = math.sqrt(float(total))
    rate = max_norm / (total_norm + 1e-6)
    if rate < 1:
        for g in grads:
            g *= rate
    return total_norm


def clip_grad_norm(params: Variable | Iterable[Variable] | Any, max_norm: float) -> float:
    """Scale the gradients of ``params`` (Parameters or Variables, or a Layer) in place so that
    their global L2 norm is at most ``max_norm`` (``ClipGrad``'s rule, torch's
    ``clip_grad_norm_``); return the norm before clipping. Variables without a gradient are
    skipped.

    >>> import numpy as np, zerograd as zg
    >>> from zerograd.optimizers import clip_grad_norm
    >>> p = zg.Parameter(np.zeros(2))
    >>> p.grad = zg.Variable(np.array([3.0, 4.0]))
    >>> clip_grad_norm([p], max_norm=1.0)
    5.0
    >>> np.round(p.grad.data, 6)
    array([0.6, 0.8])
    """
    if hasattr(params, "params") and callable(params.params):
        params = params.params()
    elif isinstance(params, Variable):
        params = [params]
    items = list(params)
    for i, p in enumerate(items):
        if not isinstance(p, Variable):
            raise TypeError(
                f"clip_grad_norm: params[{i}] is a {type(p).__name__}, not a Parameter or Variable"
            )
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float)):
        raise TypeError(f"clip_grad_norm: max_norm must be a number, got {type(max_norm).__name__}")
    if not max_norm > 0 or math.isinf(max_norm):
        raise ValueError(
            f"clip_grad_norm: max_norm must be a positive finite number, got {max_norm}"
        )
    return _clip(items, float(max_norm))  # type: ignore[arg-type]


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
