"""The import table: one entry of ``IMPORTERS`` per ONNX operator, run as zerograd functions.

Attribute defaults are the ONNX specification's. Operator variants zerograd has no function
for (grouped or dilated convolutions, asymmetric padding, ``ceil_mode``...) raise an
``OnnxImportError`` naming the node and the attribute.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import zerograd.functions as F
from zerograd.autograd import Variable
from zerograd.functions.activation import NormalCdf
from zerograd.onnx.load import OnnxImportError, register_importer


def _unsupported(node: Any, what: str) -> OnnxImportError:
    return OnnxImportError(f"zerograd.onnx.load: node {node.name!r} ({node.op_type}): {what}")


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape)


def _ints(a: Any) -> list[int]:
    return [int(v) for v in np.asarray(a).reshape(-1)]


def _unary(op_type: str, fn: Any) -> None:
    register_importer(op_type)(lambda xs, attrs, node: fn(xs[0]))


_op: str
_fn: Any
for _op, _fn in (
    ("Neg", F.neg),
    ("Relu", F.relu),
    ("Sigmoid", F.sigmoid),
    ("Tanh", F.tanh),
    ("Exp", F.exp),
    ("Log", F.log),
    ("Sqrt", F.sqrt),
    ("Abs", F.abs),
    ("Sin", F.sin),
    ("Cos", F.cos),
    ("Softplus", F.softplus),
):
    _unary(_op, _fn)

for _op, _fn in (
    ("Add", F.add),
    ("Sub", F.sub),
    ("Mul", F.mul),
    ("Div", F.div),
    ("Pow", F.pow),
    ("MatMul", F.matmul),
):
    register_importer(_op)(lambda xs, attrs, node, fn=_fn: fn(xs[0], xs[1]))


def _fold(fn: Any) -> Any:
    def run(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
        y = xs[0]
        for x in xs[1:]:
            y = fn(y, x)
        return y

    return run


register_importer("Max")(_fold(F.maximum))
register_importer("Min")(_fold(F.minimum))
register_importer("Sum")(_fold(F.add))


@register_importer("Identity")
def _identity(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    return xs[0]


def _one_output(attrs: dict[str, Any], node: Any) -> None:
    if len([o for o in node.outputs if o]) > 1 or attrs.get("training_mode", 0):
        raise _unsupported(node, "only the inference form (one output) is supported")


@register_importer("Dropout", static=(1, 2), check=_one_output)
def _dropout(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    if len(xs) > 2 and xs[2] is not None and bool(np.asarray(xs[2])):
        raise _unsupported(node, "training_mode=True is not supported")
    return xs[0]


@register_importer("Erf")
def _erf(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    # erf(x) = 2 Phi(x sqrt 2) - 1 (Phi: the standard normal CDF)
    return 2 * NormalCdf()(F.mul(xs[0], math.sqrt(2.0))) - 1


@register_importer("LeakyRelu")
def _leaky_relu(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    return F.leaky_relu(xs[0], attrs.get("alpha", 0.01))


def _softmax(fn: Any) -> Any:
    def run(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
        x = xs[0]
        ndim = len(_shape(x))
        if node.opset >= 13:
            return fn(x, attrs.get("axis", -1) % ndim)
        # Before opset 13: over all axes from ``axis`` on (the input flattened to 2-D).
        axis = attrs.get("axis", 1) % ndim
        return fn(x, tuple(range(axis, ndim)))

    return run


register_importer("Softmax")(_softmax(F.softmax))
register_importer("LogSoftmax")(_softmax(F.log_softmax))


@register_importer("Clip", static=(1, 2))
def _clip(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    lo = xs[1] if len(xs) > 1 and xs[1] is not None else attrs.get("min")
    hi = xs[2] if len(xs) > 2 and xs[2] is not None else attrs.get("max")
    lo = None if lo is None else float(np.asarray(lo))
    hi = None if hi is None else float(np.asarray(hi))
    if lo is None and hi is None:
        return xs[0]
    return F.clip(xs[0], lo, hi)


@register_importer("Where")
def _where(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    return F.where(xs[0], xs[1], xs[2])


@register_importer("Gemm")
def _gemm(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    a, b = xs[0], xs[1]
    c = xs[2] if len(xs) > 2 else None
    if attrs.get("transA", 0):
        a = F.transpose(a)
    if attrs.get("transB", 0):
        b = F.transpose(b)
    alpha, beta = attrs.get("alpha", 1.0), attrs.get("beta", 1.0)
    if alpha == 1.0 and beta == 1.0 and (c is None or len(_shape(c)) <= 1):
        return F.linear(a, b, c)  # zerograd's Linear: the same computation as the export
    y = F.matmul(a, b)
    if alpha != 1.0:
        y = y * alpha
    if c is not None:
        y = y + (c if beta == 1.0 else c * beta)
    return y


def _window(node: Any, attrs: dict[str, Any], nd: int = 2) -> tuple[list[int], list[int]]:
    """Strides and symmetric pads of a 2-D window op; refuses what zerograd has no form of."""
    if attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise _unsupported(node, f"auto_pad={attrs['auto_pad']} is not supported")
    if any(d != 1 for d in attrs.get("dilations", [1] * nd)):
        raise _unsupported(node, f"dilations {attrs['dilations']} are not supported")
    pads = list(attrs.get("pads", [0] * 2 * nd))
    if len(pads) != 2 * nd or pads[:nd] != pads[nd:]:
        raise _unsupported(node, f"pads {pads}: only 2-D, symmetric padding is supported")
    strides = list(attrs.get("strides", [1] * nd))
    if len(strides) != nd:
        raise _unsupported(node, f"strides {strides}: only 2-D windows are supported")
    return strides, pads[:nd]


def _check_conv(attrs: dict[str, Any], node: Any) -> None:
    if attrs.get("group", 1) != 1:
        raise _unsupported(node, f"group={attrs['group']} (grouped convolution) is not supported")
    _window(node, attrs)


@register_importer("Conv", check=_check_conv)
def _conv(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    strides, pads = _window(node, attrs)
    return F.conv2d(xs[0], xs[1], xs[2] if len(xs) > 2 else None, tuple(strides), tuple(pads))


@register_importer("ConvTranspose", check=_check_conv)
def _conv_transpose(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    strides, pads = _window(node, attrs)
    x, W = xs[0], xs[1]
    H, W_ = _shape(x)[2:]
    KH, KW = _shape(W)[2:]
    if "output_shape" in attrs:
        outsize = tuple(attrs["output_shape"][-2:])
    else:
        extra = list(attrs.get("output_padding", [0, 0]))
        outsize = (
            strides[0] * (H - 1) + KH - 2 * pads[0] + extra[0],
            strides[1] * (W_ - 1) + KW - 2 * pads[1] + extra[1],
        )
    b = xs[2] if len(xs) > 2 else None
    return F.deconv2d(x, W, b, tuple(strides), tuple(pads), outsize)


def _check_pool(attrs: dict[str, Any], node: Any) -> None:
    if attrs.get("ceil_mode", 0) or attrs.get("storage_order", 0):
        raise _unsupported(node, "ceil_mode and storage_order are not supported")
    if len([o for o in node.outputs if o]) > 1:
        raise _unsupported(node, "the Indices output is not supported")
    _, pads = _window(node, attrs)
    if any(pads) and node.op_type == "AveragePool" and not attrs.get("count_include_pad", 0):
        raise _unsupported(node, "count_include_pad=0 with padding is not supported")


@register_importer("MaxPool", check=_check_pool)
def _max_pool(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    strides, pads = _window(node, attrs)
    return F.pooling(xs[0], tuple(attrs["kernel_shape"]), tuple(strides), tuple(pads))


@register_importer("AveragePool", check=_check_pool)
def _average_pool(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    strides, pads = _window(node, attrs)
    return F.average_pooling(xs[0], tuple(attrs["kernel_shape"]), tuple(strides), tuple(pads))


@register_importer("GlobalAveragePool")
def _global_average_pool(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    shape = _shape(xs[0])
    if len(shape) != 4:
        raise _unsupported(node, f"input of shape {shape}: only (N, C, H, W) is supported")
    return F.average_pooling(xs[0], shape[2:], 1)


@register_importer("BatchNormalization", buffers=(3, 4), check=_one_output)
def _batch_norm(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    x, gamma, beta, mean, var = xs
    return F.batch_norm(
        x, gamma, beta, mean, var, decay=attrs.get("momentum", 0.9), eps=attrs.get("epsilon", 1e-5)
    )


# -- shapes ------------------------------------------------------------------------------------
@register_importer("Reshape", static=(1,))
def _reshape(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    x, shape = xs[0], _ints(xs[1])
    if not attrs.get("allowzero", 0):
        shape = [_shape(x)[i] if s == 0 else s for i, s in enumerate(shape)]
    return F.reshape(x, tuple(shape))


@register_importer("Flatten")
def _flatten(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    shape = _shape(xs[0])
    axis = attrs.get("axis", 1) % (len(shape) + 1) if shape else 0
    return F.reshape(xs[0], (math.prod(shape[:axis]), math.prod(shape[axis:])))


@register_importer("Transpose")
def _transpose(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    perm = attrs.get("perm")
    return F.transpose(xs[0], None if perm is None else tuple(perm))


@register_importer("Concat")
def _concat(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    return F.concat([x for x in xs if x is not None], axis=attrs["axis"])


@register_importer("Split", static=(1,))
def _split(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    x = xs[0]
    axis = attrs.get("axis", 0) % len(_shape(x))
    sizes = _ints(xs[1]) if len(xs) > 1 and xs[1] is not None else attrs.get("split")
    n = len(node.outputs)
    if sizes is None:
        length = _shape(x)[axis]
        step = -(-length // n)  # ceil: the last piece may be smaller (opset 18)
        sizes = [min(step, length - i * step) for i in range(n)]
    ys = F.split(x, list(np.cumsum(sizes)[:-1]), axis=axis)
    return ys


def _axes_arg(xs: list[Any], attrs: dict[str, Any], ndim: int) -> list[int] | None:
    raw = xs[1] if len(xs) > 1 and xs[1] is not None else attrs.get("axes")
    return None if raw is None else [a % ndim for a in _ints(raw)]


@register_importer("Squeeze", static=(1,))
def _squeeze(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    shape = _shape(xs[0])
    axes = _axes_arg(xs, attrs, len(shape))
    if axes is None:
        axes = [i for i, s in enumerate(shape) if s == 1]
    return F.reshape(xs[0], tuple(s for i, s in enumerate(shape) if i not in axes))


@register_importer("Unsqueeze", static=(1,))
def _unsqueeze(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    shape = list(_shape(xs[0]))
    ndim = len(shape) + len(_axes_arg(xs, attrs, 1) or [])
    for a in sorted(_axes_arg(xs, attrs, ndim) or []):
        shape.insert(a, 1)
    return F.reshape(xs[0], tuple(shape))


@register_importer("Slice", static=(1, 2, 3, 4))
def _slice(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    x = xs[0]
    ndim = len(_shape(x))
    if len(xs) > 1:
        starts, ends = _ints(xs[1]), _ints(xs[2])
        axes = _ints(xs[3]) if len(xs) > 3 and xs[3] is not None else list(range(len(starts)))
        steps = _ints(xs[4]) if len(xs) > 4 and xs[4] is not None else [1] * len(starts)
    else:  # opset < 10: attributes
        starts, ends = list(attrs["starts"]), list(attrs["ends"])
        axes = list(attrs.get("axes", range(len(starts))))
        steps = [1] * len(starts)
    index: list[Any] = [slice(None)] * ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        # NumPy's slices clamp like ONNX's; ends beyond int64's range mean "to the end".
        stop = None if abs(end) >= 2**62 else end
        index[axis % ndim] = slice(start, stop, step)
    return F.get_item(x, tuple(index))


@register_importer("Gather", static=(1,))
def _gather(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    x, indices = xs[0], np.asarray(xs[1])
    axis = attrs.get("axis", 0) % len(_shape(x))
    index = (slice(None),) * axis + ((int(indices) if indices.ndim == 0 else indices),)
    if not isinstance(x, Variable):
        return np.asarray(x)[index]  # a shape computation on constants
    return F.get_item(x, index)


@register_importer("Expand", static=(1,))
def _expand(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    shape = np.broadcast_shapes(_shape(xs[0]), tuple(_ints(xs[1])))
    return F.broadcast_to(xs[0], shape)


# -- reductions --------------------------------------------------------------------------------
def _reduce(fn: Any, axes_input: bool) -> Any:
    def run(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
        x = xs[0]
        ndim = len(_shape(x))
        axes = _axes_arg(xs if axes_input else xs[:1], attrs, ndim)
        if axes is None and attrs.get("noop_with_empty_axes", 0):
            return x
        axis = None if axes is None else tuple(axes)
        return fn(x, axis=axis, keepdims=bool(attrs.get("keepdims", 1)))

    return run


for _op, _fn in (
    ("ReduceSum", F.sum),
    ("ReduceMean", F.mean),
    ("ReduceMax", F.max),
    ("ReduceMin", F.min),
    ("ReduceLogSumExp", F.logsumexp),
):
    register_importer(_op, static=(1,))(_reduce(_fn, True))


# -- constants and shape computations ----------------------------------------------------------
@register_importer("Constant")
def _constant(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    for key, dtype in (
        ("value", None),
        ("value_float", np.float32),
        ("value_floats", np.float32),
        ("value_int", np.int64),
        ("value_ints", np.int64),
    ):
        if key in attrs:
            return np.asarray(attrs[key], dtype=dtype)
    raise _unsupported(node, f"Constant with attributes {sorted(attrs)} is not supported")


@register_importer("Shape")
def _shape_op(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    shape = _shape(xs[0])
    return np.asarray(shape[attrs.get("start", 0) : attrs.get("end", len(shape))], dtype=np.int64)


@register_importer("Cast")
def _cast(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    from onnx import helper

    dtype = np.dtype(helper.tensor_dtype_to_np_dtype(attrs["to"]))
    x = xs[0]
    if not isinstance(x, Variable):
        return np.asarray(x).astype(dtype)
    if x.dtype == dtype:
        return x
    raise _unsupported(node, f"casting a computed {x.dtype} value to {dtype} is not supported")
