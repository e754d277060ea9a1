"""Import table entries for the math families: arithmetic, elementwise, activations,
reductions and constants (one ``IMPORTERS`` entry per ONNX operator), plus the helpers the
other importers share. Attribute defaults are the ONNX specification's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import zerograd.functions as F
from zerograd.autograd import Variable
from zerograd.functions.activation import NormalCdf
from zerograd.onnx.load import OnnxImportError, register_importer


def unsupported(node: Any, what: str) -> OnnxImportError:
    return OnnxImportError(f"zerograd.onnx.load: node {node.name!r} ({node.op_type}): {what}")


def shape_of(x: Any) -> tuple[int, ...]:
    return tuple(x.shape)


def ints(a: Any) -> list[int]:
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


def one_output(attrs: dict[str, Any], node: Any) -> None:
    if len([o for o in node.outputs if o]) > 1 or attrs.get("training_mode", 0):
        raise unsupported(node, "only the inference form (one output) is supported")


@register_importer("Dropout", static=(1, 2), check=one_output)
def _dropout(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    if len(xs) > 2 and xs[2] is not None and bool(np.asarray(xs[2])):
        raise unsupported(node, "training_mode=True is not supported")
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
        ndim = len(shape_of(x))
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


def axes_arg(xs: list[Any], attrs: dict[str, Any], ndim: int) -> list[int] | None:
    raw = xs[1] if len(xs) > 1 and xs[1] is not None else attrs.get("axes")
    return None if raw is None else [a % ndim for a in ints(raw)]


# -- reductions --------------------------------------------------------------------------------
def _reduce(fn: Any, axes_input: bool) -> Any:
    def run(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
        x = xs[0]
        ndim = len(shape_of(x))
        axes = axes_arg(xs if axes_input else xs[:1], attrs, ndim)
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
    raise unsupported(node, f"Constant with attributes {sorted(attrs)} is not supported")


@register_importer("Shape")
def _shape_op(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    shape = shape_of(xs[0])
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
    raise unsupported(node, f"casting a computed {x.dtype} value to {dtype} is not supported")
