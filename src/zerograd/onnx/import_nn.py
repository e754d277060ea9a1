"""Import table entries for the network families: Gemm, convolution, pooling,
normalization and shapes. Variants zerograd has no function for (grouped or dilated
convolutions, asymmetric padding, ``ceil_mode``...) are refused at load time by each entry's
``check``, with an ``OnnxImportError`` naming the node and the attribute.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import zerograd.functions as F
from zerograd.autograd import Variable
from zerograd.onnx.import_math import axes_arg, ints, one_output, shape_of, unsupported
from zerograd.onnx.load import register_importer


@register_importer("Gemm")
def _gemm(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    a, b = xs[0], xs[1]
    c = xs[2] if len(xs) > 2 else None
    if attrs.get("transA", 0):
        a = F.transpose(a)
    if attrs.get("transB", 0):
        b = F.transpose(b)
    alpha, beta = attrs.get("alpha", 1.0), attrs.get("beta", 1.0)
    if alpha == 1.0 and beta == 1.0 and (c is None or len(shape_of(c)) <= 1):
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
        raise unsupported(node, f"auto_pad={attrs['auto_pad']} is not supported")
    if any(d != 1 for d in attrs.get("dilations", [1] * nd)):
        raise unsupported(node, f"dilations {attrs['dilations']} are not supported")
    pads = list(attrs.get("pads", [0] * 2 * nd))
    if len(pads) != 2 * nd or pads[:nd] != pads[nd:]:
        raise unsupported(node, f"pads {pads}: only 2-D, symmetric padding is supported")
    strides = list(attrs.get("strides", [1] * nd))
    if len(strides) != nd:
        raise unsupported(node, f"strides {strides}: only 2-D windows are supported")
    return strides, pads[:nd]


def _check_conv(attrs: dict[str, Any], node: Any) -> None:
    if attrs.get("group", 1) != 1:
        raise unsupported(node, f"group={attrs['group']} (grouped convolution) is not supported")
    _window(node, attrs)


@register_importer("Conv", check=_check_conv)
def _conv(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    strides, pads = _window(node, attrs)
    return F.conv2d(xs[0], xs[1], xs[2] if len(xs) > 2 else None, tuple(strides), tuple(pads))


@register_importer("ConvTranspose", check=_check_conv)
def _conv_transpose(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    strides, pads = _window(node, attrs)
    x, W = xs[0], xs[1]
    H, W_ = shape_of(x)[2:]
    KH, KW = shape_of(W)[2:]
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
        raise unsupported(node, "ceil_mode and storage_order are not supported")
    if len([o for o in node.outputs if o]) > 1:
        raise unsupported(node, "the Indices output is not supported")
    _, pads = _window(node, attrs)
    if any(pads) and node.op_type == "AveragePool" and not attrs.get("count_include_pad", 0):
        raise unsupported(node, "count_include_pad=0 with padding is not supported")


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
    shape = shape_of(xs[0])
    if len(shape) != 4:
        raise unsupported(node, f"input of shape {shape}: only (N, C, H, W) is supported")
    return F.average_pooling(xs[0], shape[2:], 1)


@register_importer("BatchNormalization", buffers=(3, 4), check=one_output)
def _batch_norm(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    x, gamma, beta, mean, var = xs
    return F.batch_norm(
        x, gamma, beta, mean, var, decay=attrs.get("momentum", 0.9), eps=attrs.get("epsilon", 1e-5)
    )


# -- shapes ------------------------------------------------------------------------------------
@register_importer("Reshape", static=(1,))
def _reshape(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    x, shape = xs[0], ints(xs[1])
    if not attrs.get("allowzero", 0):
        shape = [shape_of(x)[i] if s == 0 else s for i, s in enumerate(shape)]
    return F.reshape(x, tuple(shape))


@register_importer("Flatten")
def _flatten(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    shape = shape_of(xs[0])
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
    axis = attrs.get("axis", 0) % len(shape_of(x))
    sizes = ints(xs[1]) if len(xs) > 1 and xs[1] is not None else attrs.get("split")
    n = len(node.outputs)
    if sizes is None:
        length = shape_of(x)[axis]
        step = -(-length // n)  # ceil: the last piece may be smaller (opset 18)
        sizes = [min(step, length - i * step) for i in range(n)]
    ys = F.split(x, list(np.cumsum(sizes)[:-1]), axis=axis)
    return ys


@register_importer("Squeeze", static=(1,))
def _squeeze(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    shape = shape_of(xs[0])
    axes = axes_arg(xs, attrs, len(shape))
    if axes is None:
        axes = [i for i, s in enumerate(shape) if s == 1]
    return F.reshape(xs[0], tuple(s for i, s in enumerate(shape) if i not in axes))


@register_importer("Unsqueeze", static=(1,))
def _unsqueeze(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    shape = list(shape_of(xs[0]))
    ndim = len(shape) + len(axes_arg(xs, attrs, 1) or [])
    for a in sorted(axes_arg(xs, attrs, ndim) or []):
        shape.insert(a, 1)
    return F.reshape(xs[0], tuple(shape))


@register_importer("Slice", static=(1, 2, 3, 4))
def _slice(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    x = xs[0]
    ndim = len(shape_of(x))
    if len(xs) > 1:
        starts, ends = ints(xs[1]), ints(xs[2])
        axes = ints(xs[3]) if len(xs) > 3 and xs[3] is not None else list(range(len(starts)))
        steps = ints(xs[4]) if len(xs) > 4 and xs[4] is not None else [1] * len(starts)
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
    axis = attrs.get("axis", 0) % len(shape_of(x))
    index = (slice(None),) * axis + ((int(indices) if indices.ndim == 0 else indices),)
    if not isinstance(x, Variable):
        return np.asarray(x)[index]  # a shape computation on constants
    return F.get_item(x, index)


@register_importer("Expand", static=(1,))
def _expand(xs: list[Any], attrs: dict[str, Any], node: Any) -> Any:
    shape = np.broadcast_shapes(shape_of(xs[0]), tuple(ints(xs[1])))
    return F.broadcast_to(xs[0], shape)
