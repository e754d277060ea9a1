"""Linear algebra: ``matmul`` (batched, N-D, with NumPy's 1-D rules), ``linear``,
``linear_simple`` and ``embed_id``."""

from __future__ import annotations

from typing import Any

import numpy as np

from zerograd.autograd.function import Function
from zerograd.autograd.variable import Variable, as_variable
from zerograd.functions._util import array_of, shape_error
from zerograd.functions.shape import get_item


class MatMul(Function):
    array_backward = True

    def forward(self, x: Any, W: Any) -> Any:
        if x.ndim == 0 or W.ndim == 0:
            raise shape_error("matmul", x, W, expected="operands with at least one dimension")
        nx, nw = self.needs_grad
        self.retain_inputs(*((1,) if nx else ()), *((0,) if nw else ()))
        try:
            return self.xp.matmul(x, W)
        except ValueError:
            raise shape_error(
                "matmul",
                x,
                W,
                expected="x.shape[-1] == W.shape[-2] and batch dimensions that broadcast",
            ) from None

    def backward(self, gy: Any) -> Any:
        nx, nw = self.needs_grad
        x_shape, w_shape = self.input_shapes()
        ops = self.ops
        # NumPy promotes a 1-D x to a row and a 1-D W to a column, then drops that axis from
        # the result; put it back in gy and work with matrices.
        g_shape = tuple(gy.shape)
        if len(w_shape) == 1:
            g_shape = g_shape + (1,)
        if len(x_shape) == 1:
            g_shape = g_shape[:-1] + (1,) + g_shape[-1:]
        gy = ops.reshape(gy, g_shape)
        gx = gW = None
        if nx:
            W = self.saved_input(1)
            if len(w_shape) == 1:
                W = ops.reshape(W, (-1, 1))
            gx = ops.matmul(gy, _swap(ops, W))
            if len(x_shape) == 1:
                gx = ops.reshape(gx, tuple(gx.shape[:-2]) + tuple(gx.shape[-1:]))
        if nw:
            x = self.saved_input(0)
            if len(x_shape) == 1:
                x = ops.reshape(x, (1, -1))
            gW = ops.matmul(_swap(ops, x), gy)
            if len(w_shape) == 1:
                gW = ops.reshape(gW, tuple(gW.shape[:-1]))
        return gx, gW


def _swap(ops: Any, a: Any) -> Any:
    """Swap the last two axes."""
    axes = list(range(a.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return ops.transpose(a, tuple(axes))


def matmul(x: Any, W: Any) -> Variable:
    """Matrix product ``x @ W`` with batch broadcasting (NumPy's ``matmul`` semantics)."""
    return MatMul()(x, W)


class Linear(Function):
    """``x @ W + b`` for ``x`` of shape ``(..., I)``, ``W`` of shape ``(I, O)``, ``b`` ``(O,)``."""

    array_backward = True
    check_shapes = False  # backward returns every gradient in its input's shape

    def forward(self, x: Any, W: Any, b: Any = None) -> Any:
        if W.ndim != 2 or x.ndim == 0 or x.shape[-1] != W.shape[0]:
            raise shape_error("linear", x, W, expected="x (..., I) and W (I, O)")
        if b is not None:
            if b.shape not in ((W.shape[1],), (1, W.shape[1]), ()):
                raise shape_error("linear", W, b, expected=f"W (I, O) and b ({W.shape[1]},)")
            self.b_shape = b.shape
        needs = self.needs_grad
        nx, nw = needs[0], needs[1]
        # x is needed for gW, W for gx. When both are kept, so is b (a parameter, alive
        # anyway): keeping every input is the engine's cheapest case.
        if nx and nw:
            self.retained_inputs = (0, 1, 2) if b is not None else (0, 1)
        else:
            self.retained_inputs = (1,) if nx else (0,) if nw else ()
        y = x.dot(W)  # DeZero's computation
        if b is not None:
            y += b
        return y

    def backward(self, gy: Any) -> Any:
        # ``@``, ``.T``, ``.reshape`` and ``.sum`` work alike on arrays (the fast path) and on
        # Variables (create_graph), and cost less than the generic ``ops`` functions.
        needs = self.needs_grad
        gx = gW = None
        if needs[0]:
            gx = gy @ self.saved_input(1).T
        if needs[1] or (len(needs) == 3 and needs[2]):
            if gy.ndim != 2:  # (..., O): contract over every leading axis
                gy = gy.reshape((-1, gy.shape[-1]))
            if needs[1]:
                x = self.saved_input(0)
                if x.ndim != 2:
                    x = x.reshape((-1, x.shape[-1]))
                gW = x.T @ gy
        if len(needs) == 2:
            return gx, gW
        gb = None
        if needs[2]:
            gb = gy.sum(axis=0)
            if gb.shape != self.b_shape:  # b of shape (1, O) or ()
                gb = gb.reshape(self.b_shape) if self.b_shape else gb.sum()
        return gx, gW, gb


def linear(x: Any, W: Any, b: Any = None) -> Variable:
    """Affine map ``x @ W + b`` (``b`` optional), one function node."""
    if b is None:
        return Linear()(x, W)
    return Linear()(x, W, b)


def linear_simple(x: Any, W: Any, b: Any = None) -> Variable:
    """``matmul(x, W) + b`` composed from two functions (DeZero's version); frees the
    intermediate product's data, which backward does not need."""
    x, W = as_variable(x), as_variable(W)
    t = matmul(x, W)
    if b is None:
        return t
    y = t + b
    t.data = None  # release the intermediate (Add does not keep its inputs)
    return y


def embed_id(x: Any, W: Any) -> Variable:
    """Rows of the embedding matrix ``W`` (V, D) for the integer ids ``x``: ``W[x]``; the
    gradient scatter-adds back into the rows used."""
    ids = array_of(x)
    if not hasattr(ids, "dtype"):
        ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise ValueError(f"embed_id: ids x must be integers, got dtype {ids.dtype}")
    if W.ndim < 1:
        raise ValueError("embed_id: W must have at least one axis (vocabulary, ...)")
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= W.shape[0]):
        raise ValueError(
            f"embed_id: ids must lie in [0, {W.shape[0]}) for W of shape {tuple(W.shape)}; got "
            f"ids from {int(ids.min())} to {int(ids.max())}"
        )
    return get_item(W, ids)
