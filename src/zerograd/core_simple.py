"""The book's simple core (steps 23 to 32 of *Deep Learning from Scratch 3*).

DeZero's ``dezero.core_simple``: a small, separate engine in which ``grad`` is a raw ndarray
and backward records nothing (there is no ``create_graph``). It is kept apart from zerograd's
engine on purpose: the book's early steps use it, and it reads top to bottom in one sitting.
What it fixes from DeZero: backward pops from a heap instead of re-sorting its list at each
insert, and backward on a leaf just seeds its gradient.

>>> import numpy as np
>>> x = Variable(np.array(3.0))
>>> y = x ** 2 + 2 * x
>>> y.backward()
>>> print(x.grad)
8.0
"""

from __future__ import annotations

import heapq
import itertools
import weakref
from typing import Any

import numpy as np

from zerograd.autograd.config import Config, no_grad, using_config
from zerograd.autograd.variable import ArrayLike

__all__ = [
    "Add",
    "Config",
    "Div",
    "Function",
    "Mul",
    "Neg",
    "Pow",
    "Sub",
    "Variable",
    "add",
    "as_array",
    "as_variable",
    "div",
    "mul",
    "neg",
    "no_grad",
    "pow",
    "rdiv",
    "rsub",
    "setup_variable",
    "sub",
    "using_config",
]


class Variable(ArrayLike):
    """An ndarray in the graph; ``grad`` is an ndarray (or None) after ``backward()``."""

    __array_priority__ = 200

    def __init__(self, data: Any, name: str | None = None) -> None:
        if data is not None and not isinstance(data, np.ndarray):
            raise TypeError(f"{type(data)} is not supported")
        self.data = data
        self.name = name
        self.grad: Any = None
        self.creator: Function | None = None
        self.generation = 0

    def set_creator(self, func: Function) -> None:
        self.creator = func
        self.generation = func.generation + 1

    def cleargrad(self) -> None:
        self.grad = None

    def backward(self, retain_grad: bool = False) -> None:
        """Accumulate gradients (ndarrays) into every variable behind this one."""
        if self.grad is None:
            self.grad = np.ones_like(self.data)
        if self.creator is None:
            return
        counter = itertools.count()  # tie-breaker: functions themselves are not ordered
        heap = [(-self.creator.generation, next(counter), self.creator)]
        seen = {self.creator}
        while heap:
            f = heapq.heappop(heap)[2]
            gys = [output().grad for output in f.outputs]  # type: ignore[union-attr]
            gxs = f.backward(*gys)
            if not isinstance(gxs, tuple):
                gxs = (gxs,)
            for x, gx in zip(f.inputs, gxs):
                x.grad = gx if x.grad is None else x.grad + gx
                if x.creator is not None and x.creator not in seen:
                    seen.add(x.creator)
                    heapq.heappush(heap, (-x.creator.generation, next(counter), x.creator))
            if not retain_grad:
                for y in f.outputs:
                    y().grad = None  # type: ignore[union-attr]

    # Operators are defined here, where readers see them (DeZero installs them at import).
    def __add__(self, other: Any) -> Variable:
        return add(self, other)

    def __radd__(self, other: Any) -> Variable:
        return add(self, other)

    def __mul__(self, other: Any) -> Variable:
        return mul(self, other)

    def __rmul__(self, other: Any) -> Variable:
        return mul(self, other)

    def __neg__(self) -> Variable:
        return neg(self)

    def __sub__(self, other: Any) -> Variable:
        return sub(self, other)

    def __rsub__(self, other: Any) -> Variable:
        return rsub(self, other)

    def __truediv__(self, other: Any) -> Variable:
        return div(self, other)

    def __rtruediv__(self, other: Any) -> Variable:
        return rdiv(self, other)

    def __pow__(self, other: Any) -> Variable:
        return pow(self, other)


def as_variable(obj: Any) -> Variable:
    """``obj`` if it is a Variable, else ``Variable(obj)``."""
    if isinstance(obj, Variable):
        return obj
    return Variable(obj)


def as_array(x: Any) -> Any:
    """Scalars become 0-d arrays; everything else is returned as is."""
    if np.isscalar(x):
        return np.array(x)
    return x


class Function:
    """DeZero's Function: ``forward`` on arrays, ``backward`` on arrays (in this core)."""

    generation = 0

    def __call__(self, *inputs: Any) -> Any:
        variables = [as_variable(x) for x in inputs]
        xs = [x.data for x in variables]
        ys = self.forward(*xs)
        if not isinstance(ys, tuple):
            ys = (ys,)
        outputs = [Variable(as_array(y)) for y in ys]
        if Config.enable_backprop:
            self.generation = max([x.generation for x in variables])
            for output in outputs:
                output.set_creator(self)
            self.inputs = variables
            self.outputs = [weakref.ref(output) for output in outputs]
        return outputs if len(outputs) > 1 else outputs[0]

    def forward(self, *xs: Any) -> Any:
        raise NotImplementedError()

    def backward(self, *gys: Any) -> Any:
        raise NotImplementedError()


class Add(Function):
    def forward(self, x0: Any, x1: Any) -> Any:
        return x0 + x1

    def backward(self, gy: Any) -> Any:
        return gy, gy


def add(x0: Any, x1: Any) -> Variable:
    return Add()(x0, as_array(x1))


class Mul(Function):
    def forward(self, x0: Any, x1: Any) -> Any:
        return x0 * x1

    def backward(self, gy: Any) -> Any:
        x0, x1 = self.inputs[0].data, self.inputs[1].data
        return gy * x1, gy * x0


def mul(x0: Any, x1: Any) -> Variable:
    return Mul()(x0, as_array(x1))


class Neg(Function):
    def forward(self, x: Any) -> Any:
        return -x

    def backward(self, gy: Any) -> Any:
        return -gy


def neg(x: Any) -> Variable:
    return Neg()(x)


class Sub(Function):
    def forward(self, x0: Any, x1: Any) -> Any:
        return x0 - x1

    def backward(self, gy: Any) -> Any:
        return gy, -gy


def sub(x0: Any, x1: Any) -> Variable:
    return Sub()(x0, as_array(x1))


def rsub(x0: Any, x1: Any) -> Variable:
    return Sub()(as_array(x1), x0)


class Div(Function):
    def forward(self, x0: Any, x1: Any) -> Any:
        return x0 / x1

    def backward(self, gy: Any) -> Any:
        x0, x1 = self.inputs[0].data, self.inputs[1].data
        gx0 = gy / x1
        gx1 = gy * (-x0 / x1**2)
        return gx0, gx1


def div(x0: Any, x1: Any) -> Variable:
    return Div()(x0, as_array(x1))


def rdiv(x0: Any, x1: Any) -> Variable:
    return Div()(as_array(x1), x0)


class Pow(Function):
    def __init__(self, c: Any) -> None:
        self.c = c

    def forward(self, x: Any) -> Any:
        return x**self.c

    def backward(self, gy: Any) -> Any:
        x = self.inputs[0].data
        c = self.c
        return c * x ** (c - 1) * gy


def pow(x: Any, c: Any) -> Variable:
    return Pow(c)(x)


def setup_variable() -> None:
    """DeZero installs Variable's operators here; this core defines them on the class."""
