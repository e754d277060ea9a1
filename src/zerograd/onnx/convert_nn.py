"""Export converters for the network families: linear algebra, convolution, pooling,
normalization and shapes (one ``CONVERTERS`` entry per function class)."""

from __future__ import annotations

from typing import Any

import numpy as np

from zerograd import cuda
from zerograd.functions import conv as C
from zerograd.functions import linalg as L
from zerograd.functions import normalization as N
from zerograd.functions import shape as S
from zerograd.functions._im2col import pair
from zerograd.functions.pooling import AveragePooling, Pooling
from zerograd.onnx.export import Call, ExportContext, ExportError, register_converter

_INT64_MAX = np.iinfo(np.int64).max


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
    mean = cuda.as_numpy(f.mean).astype(dtype, copy=False)
    avg_var = getattr(f, "avg_var", None)
    if avg_var is not None:
        var = cuda.as_numpy(avg_var).astype(dtype, copy=False)
    else:
        var = _running_var(cuda.as_numpy(f.inv_std), f.eps)
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


def _is_array(s: Any) -> bool:
    return isinstance(s, cuda.array_types)


def _index_item(s: Any) -> Any:
    """An item of an index, with a 0-d integer array as the int it holds."""
    if _is_array(s) and s.ndim == 0 and s.dtype.kind in "iu":
        return int(s)
    return s


@register_converter(S.GetItem)
def _get_item(ctx: ExportContext, call: Call) -> None:
    index, x = call.function.slices, call.xs[0]
    items: tuple[Any, ...] = index if isinstance(index, tuple) else (index,)
    items = tuple(_index_item(s) for s in items)
    arrays = [i for i, s in enumerate(items) if _is_array(s)]
    if arrays:
        if len(arrays) != 1 or any(s != slice(None) for s in items if not _is_array(s)):
            raise ExportError(
                f"zerograd.onnx.export: get_item with index {index!r} has no ONNX form: one "
                f"integer array on one axis (a gather) is supported"
            )
        given = items[arrays[0]]
        array = cuda.as_numpy(given)
        if array.dtype.kind not in "iu":
            raise ExportError(f"zerograd.onnx.export: get_item with a {array.dtype} index array")
        # An index array that is a graph input (embed_id's ids) stays an input.
        ids = ctx.input_arrays.get(id(given)) or ctx.const(array.astype(np.int64), "indices")
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
