"""Export converters for the math families: arithmetic, elementwise, activations and
reductions. One entry of ``CONVERTERS`` per zerograd function class; each reads the
function's public attributes (``c``, ``axis``, ``slope``...) and the traced arrays.

Functions that only run inside backward (``TanhGrad``, ``PoolingGrad``...) and the losses
have none: a model's forward does not record them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zerograd import cuda
from zerograd.functions import activation as A
from zerograd.functions import arithmetic as R
from zerograd.functions import elementwise as E
from zerograd.functions import linalg as L
from zerograd.functions import reduction as D
from zerograd.onnx.export import Call, ExportContext, register_converter


def _same(op_type: str, **attrs: Any) -> Any:
    """A converter to one ONNX node with the same inputs and outputs."""

    def convert(ctx: ExportContext, call: Call) -> None:
        ctx.node(op_type, call.inputs, call.outputs, **attrs)

    return convert


_cls: type
_op: str
for _cls, _op in (
    (R.Add, "Add"),
    (R.Sub, "Sub"),
    (R.Mul, "Mul"),
    (R.Div, "Div"),
    (R.Neg, "Neg"),
    (R.ElementwisePow, "Pow"),
    (E.Sin, "Sin"),
    (E.Cos, "Cos"),
    (E.Tanh, "Tanh"),
    (E.Exp, "Exp"),
    (E.Log, "Log"),
    (E.Sqrt, "Sqrt"),
    (E.Abs, "Abs"),
    (E.Maximum, "Max"),
    (E.Minimum, "Min"),
    (A.Sigmoid, "Sigmoid"),
    (A.ReLU, "Relu"),
    (L.MatMul, "MatMul"),
):
    register_converter(_cls)(_same(_op))


def _constant_op(op_type: str, reflected: bool = False) -> Any:
    """``x op c`` (``c op x`` if reflected) for a scalar kept as the function's ``c``."""

    def convert(ctx: ExportContext, call: Call) -> None:
        x = call.xs[0]
        c = ctx.const(np.asarray(call.function.c, dtype=x.dtype), "c")  # x's dtype, as forward
        args = [c, call.inputs[0]] if reflected else [call.inputs[0], c]
        ctx.node(op_type, args, call.outputs)

    return convert


for _cls, _op, _reflected in (
    (R.AddConstant, "Add", False),
    (R.SubConstant, "Sub", False),
    (R.ConstantSub, "Sub", True),
    (R.MulConstant, "Mul", False),
    (R.DivConstant, "Div", False),
    (R.Pow, "Pow", False),
):
    register_converter(_cls)(_constant_op(_op, _reflected))


@register_converter(E.Square)
def _square(ctx: ExportContext, call: Call) -> None:
    ctx.node("Mul", [call.inputs[0], call.inputs[0]], call.outputs)


@register_converter(E.Clip)
def _clip(ctx: ExportContext, call: Call) -> None:
    f, dtype = call.function, call.xs[0].dtype
    bounds = [
        "" if b is None else ctx.const(np.asarray(b, dtype), "bound") for b in (f.x_min, f.x_max)
    ]
    ctx.node("Clip", [call.inputs[0], *bounds], call.outputs)


@register_converter(E.Where)
def _where(ctx: ExportContext, call: Call) -> None:
    condition = ctx.const(cuda.as_numpy(call.function.condition).astype(bool), "condition")
    ctx.node("Where", [condition, *call.inputs], call.outputs)


# -- activations ------------------------------------------------------------------------------
@register_converter(A.LeakyReLU)
def _leaky_relu(ctx: ExportContext, call: Call) -> None:
    ctx.node("LeakyRelu", call.inputs, call.outputs, alpha=float(call.function.slope))


def _softmax(op_type: str, log: bool) -> Any:
    def convert(ctx: ExportContext, call: Call) -> None:
        axis = call.function.axis
        if isinstance(axis, tuple) and len(axis) == 1:  # normalized axes are tuples
            axis = axis[0]
        if isinstance(axis, (int, np.integer)):
            ctx.node(op_type, call.inputs, call.outputs, axis=int(axis))
            return
        # Several axes (or all): the shifted formula, as forward computes it.
        axes = None if axis is None else [int(a) for a in axis]
        x = call.inputs[0]
        shifted = ctx.one("Sub", [x, ctx.reduce("ReduceMax", x, axes, True)])
        e = ctx.one("Exp", [shifted])
        total = ctx.reduce("ReduceSum", e, axes, True)
        if log:
            ctx.node("Sub", [shifted, ctx.one("Log", [total])], call.outputs)
        else:
            ctx.node("Div", [e, total], call.outputs)

    return convert


register_converter(A.Softmax)(_softmax("Softmax", False))
register_converter(A.LogSoftmax)(_softmax("LogSoftmax", True))


@register_converter(A.Softplus)
def _softplus(ctx: ExportContext, call: Call) -> None:
    beta, dtype = call.function.beta, call.xs[0].dtype
    if beta == 1:
        ctx.node("Softplus", call.inputs, call.outputs)
        return
    b = ctx.const(np.asarray(beta, dtype), "beta")
    y = ctx.one("Softplus", [ctx.one("Mul", [call.inputs[0], b])])
    ctx.node("Div", [y, b], call.outputs)


@register_converter(A.NormalCdf)
def _normal_cdf(ctx: ExportContext, call: Call) -> None:
    dtype = call.xs[0].dtype
    erf = ctx.one(
        "Erf", [ctx.one("Div", [call.inputs[0], ctx.const(np.asarray(math.sqrt(2.0), dtype))])]
    )
    one_plus = ctx.one("Add", [erf, ctx.const(np.asarray(1.0, dtype), "one")])
    ctx.node("Mul", [one_plus, ctx.const(np.asarray(0.5, dtype), "half")], call.outputs)


# -- reductions --------------------------------------------------------------------------------
def _axes(axis: Any, ndim: int) -> list[int] | None:
    if axis is None:
        return None
    return [int(a) % ndim for a in (axis if isinstance(axis, tuple) else (axis,))]


def _reduction(op_type: str) -> Any:
    def convert(ctx: ExportContext, call: Call) -> None:
        f = call.function
        axes = _axes(f.axis, call.xs[0].ndim)
        ctx.reduce(op_type, call.inputs[0], axes, bool(f.keepdims), call.outputs)

    return convert


register_converter(D.Sum)(_reduction("ReduceSum"))
register_converter(D.Max)(_reduction("ReduceMax"))
register_converter(D.Min)(_reduction("ReduceMin"))


@register_converter(D.LogSumExp)
def _logsumexp(ctx: ExportContext, call: Call) -> None:
    f, x = call.function, call.inputs[0]
    axes = _axes(f.axis, call.xs[0].ndim)
    m = ctx.reduce("ReduceMax", x, axes, True)
    total = ctx.reduce("ReduceSum", ctx.one("Exp", [ctx.one("Sub", [x, m])]), axes, True)
    y = ctx.one("Add", [ctx.one("Log", [total]), m])
    if f.keepdims:
        ctx.node("Identity", [y], call.outputs)
    elif axes is None:
        ctx.node("Reshape", [y, ctx.ints([])], call.outputs)
    else:
        ctx.node("Squeeze", [y, ctx.ints(axes, "axes")], call.outputs)


def _batch_shape(ctx: ExportContext, x: Any, shape: Any, keep: int) -> list[int]:
    """A constant target ``shape`` for ``x``: with ``dynamic_batch``, a first axis equal to
    x's stays symbolic as ``keep`` (Reshape's 0 copies it; Expand's 1 keeps it)."""
    shape = [int(s) for s in shape]
    if ctx.dynamic_batch and shape and len(shape) == x.ndim and shape[0] == x.shape[0]:
        shape[0] = keep
    return shape


@register_converter(D.SumTo)
def _sum_to(ctx: ExportContext, call: Call) -> None:
    x, shape = call.xs[0], tuple(call.function.shape)
    lead = x.ndim - len(shape)
    axes = list(range(lead)) + [
        i + lead for i, s in enumerate(shape) if s == 1 and x.shape[i + lead] != 1
    ]
    y = ctx.reduce("ReduceSum", call.inputs[0], axes, True)
    target = ctx.ints(_batch_shape(ctx, x, shape, 0))
    ctx.node("Reshape", [y, target], call.outputs)


@register_converter(D.BroadcastTo)
def _broadcast_to(ctx: ExportContext, call: Call) -> None:
    shape = ctx.ints(_batch_shape(ctx, call.xs[0], call.function.shape, 1))
    ctx.node("Expand", [call.inputs[0], shape], call.outputs)
