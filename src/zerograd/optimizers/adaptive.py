"""Adaptive optimizers: ``AdaGrad``, ``AdaDelta``, ``Adam`` and ``AdamW``.

Each update follows DeZero's formula with the same order of floating-point operations (so
results match DeZero bit for bit), computed in place in scratch arrays instead of
temporaries.
"""

from __future__ import annotations

import math

from zerograd import cuda
from zerograd.autograd.variable import Parameter
from zerograd.optimizers.base import Optimizer

__all__ = ["AdaDelta", "AdaGrad", "Adam", "AdamW"]


class AdaGrad(Optimizer):
    """``h += g * g; p -= lr * g / (sqrt(h) + eps)``."""

    _hyper = ("lr", "eps")

    def __init__(self, lr: float = 0.001, eps: float = 1e-8) -> None:
        super().__init__()
        self.lr = lr
        self.eps = eps

    def update_one(self, param: Parameter) -> None:
        g = param.grad.data  # type: ignore[union-attr]
        h = self._slot(param, "h")
        s, d = self._tmp(param, 0), self._tmp(param, 1)
        xp = cuda.get_array_module(g)
        xp.multiply(g, g, out=s)
        h += s
        xp.multiply(g, self.lr, out=s)
        xp.sqrt(h, out=d)
        d += self.eps
        s /= d
        param.data -= s


class AdaDelta(Optimizer):
    """``msg = rho*msg + (1-rho)*g*g; dx = sqrt((msdx+eps) / (msg+eps)) * g;
    msdx = rho*msdx + (1-rho)*dx*dx; p -= lr * dx`` (DeZero's has no ``lr``: 1.0)."""

    _hyper = ("rho", "eps", "lr")

    def __init__(self, rho: float = 0.95, eps: float = 1e-6, lr: float = 1.0) -> None:
        super().__init__()
        self.rho = rho
        self.eps = eps
        self.lr = lr

    def update_one(self, param: Parameter) -> None:
        g = param.grad.data  # type: ignore[union-attr]
        msg, msdx = self._slot(param, "msg"), self._slot(param, "msdx")
        dx, s = self._tmp(param, 0), self._tmp(param, 1)
        rho, eps = self.rho, self.eps
        xp = cuda.get_array_module(g)
        msg *= rho
        xp.multiply(g, 1 - rho, out=s)
        s *= g
        msg += s
        xp.add(msdx, eps, out=dx)
        xp.add(msg, eps, out=s)
        dx /= s
        xp.sqrt(dx, out=dx)
        dx *= g
        msdx *= rho
        xp.multiply(dx, 1 - rho, out=s)
        s *= dx
        msdx += s
        if self.lr != 1.0:
            dx *= self.lr
        param.data -= dx


class Adam(Optimizer):
    """Adam (DeZero's form): per ``update()`` ``t += 1`` and
    ``lr = alpha * sqrt(1 - beta2**t) / (1 - beta1**t)``; per parameter
    ``m += (1-beta1)*(g-m); v += (1-beta2)*(g*g-v); p -= lr * m / (sqrt(v) + eps)``."""

    _hyper: tuple[str, ...] = ("alpha", "beta1", "beta2", "eps")
    _counters = ("t",)

    def __init__(
        self, alpha: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        super().__init__()
        self.t = 0
        self.alpha = alpha
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps

    def update(self) -> None:
        self.t += 1
        super().update()

    @property
    def lr(self) -> float:
        fix1 = 1.0 - math.pow(self.beta1, self.t)
        fix2 = 1.0 - math.pow(self.beta2, self.t)
        return self.alpha * math.sqrt(fix2) / fix1

    def update_one(self, param: Parameter) -> None:
        g = param.grad.data  # type: ignore[union-attr]
        m, v = self._slot(param, "m"), self._slot(param, "v")
        s, d = self._tmp(param, 0), self._tmp(param, 1)
        beta1, beta2 = self.beta1, self.beta2
        xp = cuda.get_array_module(g)
        xp.subtract(g, m, out=s)
        s *= 1 - beta1
        m += s
        xp.multiply(g, g, out=s)
        s -= v
        s *= 1 - beta2
        v += s
        xp.multiply(m, self.lr, out=s)
        xp.sqrt(v, out=d)
        d += self.eps
        s /= d
        param.data -= s


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter; PyTorch's ``AdamW``): before
    the Adam step, ``p *= 1 - alpha * weight_decay``."""

    _hyper = ("alpha", "beta1", "beta2", "eps", "weight_decay")

    def __init__(
        self,
        alpha: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(alpha, beta1, beta2, eps)
        self.weight_decay = weight_decay

    def update_one(self, param: Parameter) -> None:
        if self.weight_decay:
            param.data *= 1 - self.alpha * self.weight_decay
        super().update_one(param)
