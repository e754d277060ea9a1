"""``SGD`` and ``MomentumSGD``, updating in place without temporaries."""

from __future__ import annotations

from zerograd import cuda
from zerograd.autograd.variable import Parameter
from zerograd.optimizers.base import Optimizer

__all__ = ["SGD", "MomentumSGD"]


class SGD(Optimizer):
    """Stochastic gradient descent: ``p -= lr * g``.

    >>> import numpy as np, zerograd as zg, zerograd.optimizers as O
    >>> p = zg.Parameter(np.array([1.0, 2.0]))
    >>> p.grad = zg.Variable(np.array([10.0, 10.0]))
    >>> O.SGD(lr=0.1).setup([p]).update()
    >>> p.data
    array([0., 1.])
    """

    _hyper = ("lr",)
    _slots = ()

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__()
        self.lr = lr

    def update_one(self, param: Parameter) -> None:
        s = self._tmp(param)
        cuda.get_array_module(s).multiply(param.grad.data, self.lr, out=s)  # type: ignore[union-attr]
        param.data -= s


class MomentumSGD(Optimizer):
    """SGD with momentum (DeZero's form): ``v = momentum * v - lr * g; p += v``."""

    _hyper = ("lr", "momentum")
    _slots = ("v",)

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__()
        self.lr = lr
        self.momentum = momentum

    def update_one(self, param: Parameter) -> None:
        v = self._slot(param, "v")
        s = self._tmp(param)
        v *= self.momentum
        cuda.get_array_module(s).multiply(param.grad.data, self.lr, out=s)  # type: ignore[union-attr]
        v -= s
        param.data += v
