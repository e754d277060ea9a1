"""Linear algebra: ``matmul`` (batched, N-D, with NumPy's 1-D rules)."""

from __future__ import annotations

from typing import Any

from zerograd.autograd.function import Function
from zerograd.autograd.variable import Variable
from zerograd.functions._util import shape_error


class MatMul(Function):
    lean = True

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
        x_shape, w_shape = self._in_shapes
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
