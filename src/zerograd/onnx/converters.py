"""The export converters: one entry of ``CONVERTERS`` per zerograd function class.

Each reads the function's public attributes (``axis``, ``stride``, ``c``...) and the traced
arrays, and writes ONNX nodes. Functions that only run inside backward (``TanhGrad``,
``PoolingGrad``...) and the losses have none: a model's forward does not record them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zerograd.functions import activation as A
from zerograd.functions import arithmetic as R
from zerograd.functions import conv as C
from zerograd.functions import elementwise as E
from zerograd.functions import linalg as L
from zerograd.functions import normalization as N
from zerograd.functions import reduction as D
from zerograd.functions import shape as S
from zerograd.functions._im2col import pair
from zerograd.functions.pooling import AveragePooling, Pooling
from zerograd.onnx.export import Call, ExportContext, ExportError, register_converter

_INT64_MAX = np.iinfo(np.int64).max


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
    condition = ctx.const(np.asarray(call.function.condition, dtype=bool), "condition")
    ctx.node("Where", [condition, *call.inputs], call.outputs)


# -- activations ------------------------------------------------------------------------------
@register_converter(A.LeakyReLU)
def _leaky_relu(ctx: ExportContext, call: Call) -> None:
    ctx.node("LeakyRelu", call.inputs, call.outputs, alpha=float(call.function.slope))


def _softmax(op_type: str, log: bool) -> Any:
    def convert(ctx: ExportContext, call: Call) -> None:
        axis = call.function.axis
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


# -- linear algebra, convolution, pooling, normalization ----------------------------------------
@register_converter(L.Linear)
def _linear(ctx: ExportContext, call: Call) -> None:
    if call.xs[0].ndim == 2:
        ctx.node("Gemm", call.inputs, call.outputs)  # b of shape (O,), (1, O) or () broadcasts
    elif len(call.inputs) == 2:
        ctx.node("MatMul", call.inputs, call.outputs)
    else:
        ctx.node("Add", [ctx.one("MatMul", call.inputs[:2]), call.inputs[2]], call.outputs)


def _pads(pad: Any) -> list[int]:
    ph, pw = pair(pad)
    return [ph, pw, ph, pw]


@register_converter(C.Conv2d)
def _conv2d(ctx: ExportContext, call: Call) -> None:
    f, W = call.function, call.xs[1]
    ctx.node(
        "Conv",
        call.inputs,
        call.outputs,
        kernel_shape=list(W.shape[2:]),
        strides=list(pair(f.stride)),
        pads=_pads(f.pad),
    )


@register_converter(C.Deconv2d)
def _deconv2d(ctx: ExportContext, call: Call) -> None:
    f, x, W, y = call.function, call.xs[0], call.xs[1], call.ys[0]
    (SH, SW), (PH, PW) = pair(f.stride), pair(f.pad)
    KH, KW = W.shape[2:]
    natural = (SH * (x.shape[2] - 1) + KH - 2 * PH, SW * (x.shape[3] - 1) + KW - 2 * PW)
    ctx.node(
        "ConvTranspose",
        call.inputs,
        call.outputs,
        kernel_shape=[KH, KW],
        strides=[SH, SW],
        pads=_pads(f.pad),
        output_padding=[y.shape[2] - natural[0], y.shape[3] - natural[1]],
    )


def _pool(op_type: str, **extra: Any) -> Any:
    def convert(ctx: ExportContext, call: Call) -> None:
        f = call.function
        ctx.node(
            op_type,
            call.inputs,
            call.outputs,
            kernel_shape=list(pair(f.kernel_size)),
            strides=list(pair(f.stride)),
            pads=_pads(f.pad),
            **extra,
        )

    return convert


register_converter(Pooling)(_pool("MaxPool"))
register_converter(AveragePooling)(_pool("AveragePool", count_include_pad=1))


@register_converter(N.BatchNorm)
def _batch_norm(ctx: ExportContext, call: Call) -> None:
    f = call.function
    if f.train:
        raise ExportError(
            "zerograd.onnx.export: batch_norm was recorded in training mode; export traces "
            "the model in test mode, so call batch_norm with Config.train as it sets it"
        )
    dtype = call.xs[0].dtype
    mean = np.asarray(f.mean, dtype)
    avg_var = getattr(f, "avg_var", None)
    if avg_var is not None:
        var = np.asarray(getattr(avg_var, "data", avg_var), dtype)
    else:
        var = _running_var(np.asarray(f.inv_std), f.eps)
    ins = [*call.inputs, ctx.const(mean, "mean"), ctx.const(var, "var")]
    ctx.node("BatchNormalization", ins, call.outputs, epsilon=float(f.eps), momentum=float(f.decay))


def _running_var(inv_std: np.ndarray, eps: float) -> np.ndarray:
    """The running variance a test-mode batch_norm used, from the ``1 / sqrt(var + eps)`` it
    kept: inverted in float64, then the nearest value (within a few units in the last place)
    whose ``1 / sqrt(var + eps)`` gives ``inv_std`` bit for bit, so an imported model
    computes exactly what the original did."""
    guess = (1.0 / np.square(inv_std.astype(np.float64)) - eps).astype(inv_std.dtype)
    var = guess.copy()
    found = np.zeros(var.shape, bool)
    for k in (0, 1, -1, 2, -2, 3, -3, 4, -4):
        candidate = guess
        for _ in range(abs(k)):
            candidate = np.nextafter(candidate, np.inf if k > 0 else -np.inf).astype(guess.dtype)
        ok = ~found & (1 / np.sqrt(candidate + eps) == inv_std)
        var[ok] = candidate[ok]
        found |= ok
    return var


# -- shapes ------------------------------------------------------------------------------------
@register_converter(S.Reshape)
def _reshape(ctx: ExportContext, call: Call) -> None:
    x, y = call.xs[0], call.ys[0]
    shape = list(y.shape)
    if ctx.dynamic_batch and x.ndim and shape:
        # Keep the batch symbolic: copy it (0) where the first axis is kept, else let it
        # fold into the first axis (-1), as in (N, T, D) -> (N*T, D).
        shape[0] = 0 if shape[0] == x.shape[0] else -1
    ctx.node("Reshape", [call.inputs[0], ctx.ints(shape)], call.outputs)


@register_converter(S.Transpose)
def _transpose(ctx: ExportContext, call: Call) -> None:
    axes, ndim = call.function.axes, call.xs[0].ndim
    perm = list(range(ndim))[::-1] if axes is None else [int(a) % ndim for a in axes]
    ctx.node("Transpose", call.inputs, call.outputs, perm=perm)


@register_converter(S.Concat)
def _concat(ctx: ExportContext, call: Call) -> None:
    ctx.node("Concat", call.inputs, call.outputs, axis=int(call.function.axis))


@register_converter(S.Split)
def _split(ctx: ExportContext, call: Call) -> None:
    f, x = call.function, call.xs[0]
    axis = int(f.axis) % x.ndim
    sizes = [shape[axis] for shape in f.shapes]
    ctx.node("Split", [call.inputs[0], ctx.ints(sizes, "split")], call.outputs, axis=axis)


@register_converter(S.GetItem)
def _get_item(ctx: ExportContext, call: Call) -> None:
    index, x = call.function.slices, call.xs[0]
    items = index if isinstance(index, tuple) else (index,)
    arrays = [i for i, s in enumerate(items) if isinstance(s, np.ndarray) and s.ndim > 0]
    if arrays:
        if len(arrays) != 1 or any(
            s != slice(None) for s in items if not isinstance(s, np.ndarray)
        ):
            raise ExportError(
                f"zerograd.onnx.export: get_item with index {index!r} has no ONNX form: one "
                f"integer array on one axis (a gather) is supported"
            )
        array = items[arrays[0]]
        if array.dtype.kind not in "iu":
            raise ExportError(f"zerograd.onnx.export: get_item with a {array.dtype} index array")
        # An index array that is a graph input (embed_id's ids) stays an input.
        ids = ctx.input_arrays.get(id(array)) or ctx.const(array.astype(np.int64), "indices")
        ctx.node("Gather", [call.inputs[0], ids], call.outputs, axis=arrays[0])
        return
    _basic_index(ctx, call, items, x.ndim)


def _basic_index(ctx: ExportContext, call: Call, items: tuple[Any, ...], ndim: int) -> None:
    """``x[items]`` for ints, slices, None and Ellipsis: Slice, then Squeeze and Unsqueeze."""
    n_axes = sum(1 for s in items if s is not None and s is not Ellipsis)
    if n_axes > ndim or sum(s is Ellipsis for s in items) > 1:
        raise ExportError(f"zerograd.onnx.export: get_item: too many indices {items!r}")
    expanded: list[Any] = []
    for s in items:
        if s is Ellipsis:
            expanded.extend([slice(None)] * (ndim - n_axes))
        else:
            expanded.append(s)
    expanded.extend([slice(None)] * (ndim - sum(1 for s in expanded if s is not None)))
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    axis = out_axis = 0
    for s in expanded:
        if s is None:
            unsqueeze.append(out_axis)
            out_axis += 1
            continue
        if isinstance(s, (int, np.integer)):
            i = int(s)
            starts.append(i)
            ends.append(i + 1 if i != -1 else _INT64_MAX)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
        elif s != slice(None):
            step = 1 if s.step is None else int(s.step)
            low, high = (0, _INT64_MAX) if step > 0 else (-1, -_INT64_MAX - 1)
            starts.append(low if s.start is None else int(s.start))
            ends.append(high if s.stop is None else int(s.stop))
            axes.append(axis)
            steps.append(step)
            out_axis += 1
        else:
            out_axis += 1
        axis += 1
    y = call.inputs[0]
    if axes:
        args = [
            ctx.ints(v, h)
            for v, h in ((starts, "starts"), (ends, "ends"), (axes, "axes"), (steps, "steps"))
        ]
        y = ctx.one("Slice", [y, *args])
    if squeeze:
        y = ctx.one("Squeeze", [y, ctx.ints(squeeze, "axes")])
    if unsqueeze:
        y = ctx.one("Unsqueeze", [y, ctx.ints(unsqueeze, "axes")])
    ctx.node("Identity", [y], call.outputs)


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
