"""``SGD`` and ``MomentumSGD``, updating in place without temporaries."""

from __future__ import annotations

from zerograd import cuda
from zerograd.autograd.variable import Parameter
from zerograd.optimizers.base import Hyper, Optimizer

__all__ = ["SGD", "MomentumSGD"]


class SGD(Optimizer):
    """Stochastic gradient descent: ``p -= lr * g``.

    ``lr * g`` is computed in the gradient's dtype and the subtraction in the wider of the
    two, rounded once into ``p`` (DeZero's arithmetic: a float32 parameter with a float64
    gradient moves by the float64 step).

    >>> import numpy as np, zerograd as zg, zerograd.optimizers as O
    >>> p = zg.Parameter(np.array([1.0, 2.0]))
    >>> p.grad = zg.Variable(np.array([10.0, 10.0]))
    >>> O.SGD(lr=0.1).setup([p]).update()
    >>> p.data
    array([0., 1.])
    """

    _hyper = ("lr",)
    lr = Hyper()
    _slots = ()

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__()
        self.lr = lr

    def update_one(self, param: Parameter) -> None:
        g = param.grad.data  # type: ignore[union-attr]
        s = self._tmp(param, 0, g.dtype)
        cuda.get_array_module(s).multiply(g, self.lr, out=s)
        param.data -= s


class MomentumSGD(Optimizer):
    """SGD with momentum (DeZero's form): ``v = momentum * v - lr * g; p += v``, with ``v`` of
    the parameter's dtype and ``lr * g`` of the gradient's."""

    _hyper = ("lr", "momentum")
    lr = Hyper()
    momentum = Hyper()
    _slots = ("v",)

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__()
        self.lr = lr
        self.momentum = momentum

    def update_one(self, param: Parameter) -> None:
        g = param.grad.data  # type: ignore[union-attr]
        v = self._slot(param, "v")
        s = self._tmp(param, 0, g.dtype)
        v *= self.momentum
        cuda.get_array_module(s).multiply(g, self.lr, out=s)
        v -= s
        param.data += v
