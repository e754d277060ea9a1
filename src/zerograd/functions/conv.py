"""Convolution: ``conv2d deconv2d conv2d_simple im2col col2im``.

``conv2d`` is DeZero's computation: im2col, then a tensordot over (C, KH, KW) with the
weights, so outputs match DeZero (and Chainer's ``convolution_2d``) bit for bit. The columns
are built channels-last, so the tensordot's matrix is a free reshape instead of a copy.

Every backward is made of the other functions here (``conv2d``'s input gradient is a
``deconv2d``, its weight gradient a ``Conv2DGradW``, and so on around the circle), so all of
them are differentiable to any order, with respect to every input.
"""

from __future__ import annotations

from typing import Any

from zerograd.autograd.function import Function
from zerograd.autograd.variable import Variable, as_variable
from zerograd.functions._im2col import (
    batch_slices,
    checked_pair,
    col2im_add,
    col2im_array,
    conv_geometry,
    crop,
    get_deconv_outsize,
    im2col_array,
    im2col_matrix,
    im2col_nhwc,
    padded_zeros,
    pair,
)
from zerograd.functions._util import as_shape, shape_error
from zerograd.functions.linalg import linear


def _check_weights(name: str, x: Any, W: Any, b: Any, in_axis: int, out_axis: int) -> None:
    if W.ndim != 4:
        raise shape_error(name, x, W, expected="W of 4 dimensions")
    if W.shape[in_axis] == 0:
        raise shape_error(name, x, W, expected="at least one input channel")
    if x.ndim == 4 and x.shape[1] != W.shape[in_axis]:
        raise shape_error(name, x, W, expected=f"x's channels (axis 1) equal to W.shape[{in_axis}]")
    if b is not None and tuple(b.shape) != (W.shape[out_axis],):
        raise shape_error(name, W, b, expected=f"b of shape ({W.shape[out_axis]},)")


class Conv2d(Function):
    array_backward = True

    def __init__(self, stride: Any = 1, pad: Any = 0) -> None:
        self.stride = checked_pair("conv2d", "stride", stride, 1)
        self.pad = checked_pair("conv2d", "pad", pad, 0)

    def forward(self, x: Any, W: Any, b: Any = None) -> Any:
        _check_weights("conv2d", x, W, b, 1, 0)
        g = conv_geometry("conv2d", x.shape, W.shape[2:], self.stride, self.pad)
        needs = self.needs_grad
        self.retain_inputs(*((1,) if needs[0] else ()), *((0,) if needs[1] else ()))
        N, C = x.shape[:2]
        OC, _, KH, KW = W.shape
        self.x_size, self.kernel = x.shape[2:], (KH, KW)
        # DeZero's tensordot(col, W, ((1, 2, 3), (1, 2, 3))) is one matrix product of these
        # two matrices. Its bits depend on the BLAS call (the operands' layouts and sizes),
        # so both are laid out as DeZero's and the batch is multiplied whole.
        col = im2col_matrix(x, g)
        Wt = W.transpose(1, 2, 3, 0).reshape(C * KH * KW, OC)  # a view, as in tensordot
        y = self.xp.dot(col, Wt).reshape(N, g[6], g[7], OC)
        if b is not None:
            y += b
        return y.transpose(0, 3, 1, 2)

    def backward(self, gy: Any) -> Any:
        needs = self.needs_grad
        ops = self.ops
        gx = gW = gb = None
        if needs[0]:
            deconv = Deconv2d(self.stride, self.pad, self.x_size)
            gx = ops.apply(deconv, gy, self.saved_input(1))
        if needs[1]:
            grad_w = Conv2DGradW(self.kernel, self.stride, self.pad)
            gW = ops.apply(grad_w, self.saved_input(0), gy)
        if len(needs) == 2:
            return gx, gW
        if needs[2]:
            gb = ops.sum(gy, axis=(0, 2, 3))
        return gx, gW, gb


def conv2d(x: Any, W: Any, b: Any = None, stride: Any = 1, pad: Any = 0) -> Variable:
    """2-D convolution (cross-correlation) of ``x`` (N, C, H, W) with filters ``W``
    (OC, C, KH, KW) plus bias ``b`` (OC,): ``y[n, o] = sum_c x[n, c] * W[o, c] + b[o]``,
    shape (N, OC, OH, OW) with ``OH = (H + 2 PH - KH) // SH + 1``."""
    if b is None:
        return Conv2d(stride, pad)(x, W)
    return Conv2d(stride, pad)(x, W, b)


class Deconv2d(Function):
    array_backward = True

    def __init__(self, stride: Any = 1, pad: Any = 0, outsize: Any = None) -> None:
        self.stride = checked_pair("deconv2d", "stride", stride, 1)
        self.pad = checked_pair("deconv2d", "pad", pad, 0)
        self.outsize = None if outsize is None else checked_pair("deconv2d", "outsize", outsize, 1)

    def forward(self, x: Any, W: Any, b: Any = None) -> Any:
        _check_weights("deconv2d", x, W, b, 0, 1)
        if x.ndim != 4:
            raise ValueError(f"deconv2d: x must be 4-D (N, C, H, W), got shape {x.shape}")
        needs = self.needs_grad
        self.retain_inputs(*((1,) if needs[0] else ()), *((0,) if needs[1] else ()))
        (SH, SW), (PH, PW) = self.stride, self.pad
        _, OC, KH, KW = W.shape
        N, _, H, W_ = x.shape
        if self.outsize is None:
            out_h = get_deconv_outsize(H, KH, SH, PH)
            out_w = get_deconv_outsize(W_, KW, SW, PW)
        else:
            out_h, out_w = self.outsize
        img_shape = (N, OC, out_h, out_w)
        self.kernel = (KH, KW)
        g = conv_geometry("deconv2d", img_shape, (KH, KW), self.stride, self.pad)
        if g[6:] != (H, W_):
            raise ValueError(
                f"deconv2d: an output of size {(out_h, out_w)} does not convolve back to the "
                f"input's {(H, W_)} with kernel {(KH, KW)}, stride {self.stride}, pad {self.pad}"
            )
        xp = self.xp
        img = padded_zeros(xp, img_shape, g, xp.result_type(x.dtype, W.dtype))
        for s in batch_slices(xp, N, OC * KH * KW * H * W_ * x.itemsize):
            gcol = xp.tensordot(W, x[s], (0, 1))  # (OC, KH, KW, n, H, W): DeZero's product
            col2im_add(img[s], gcol.transpose(3, 0, 1, 2, 4, 5), g)
        y = crop(img, img_shape, g)
        if b is not None:
            y += b.reshape((1, b.size, 1, 1))
        return y

    def backward(self, gy: Any) -> Any:
        needs = self.needs_grad
        ops = self.ops
        gx = gW = gb = None
        if needs[0]:
            gx = ops.apply(Conv2d(self.stride, self.pad), gy, self.saved_input(1))
        if needs[1]:
            grad_w = Conv2DGradW(self.kernel, self.stride, self.pad)
            gW = ops.apply(grad_w, gy, self.saved_input(0))
        if len(needs) == 2:
            return gx, gW
        if needs[2]:
            gb = ops.sum(gy, axis=(0, 2, 3))
        return gx, gW, gb


def deconv2d(
    x: Any, W: Any, b: Any = None, stride: Any = 1, pad: Any = 0, outsize: Any = None
) -> Variable:
    """2-D transposed convolution of ``x`` (N, C, H, W) with ``W`` (C, OC, KH, KW): the
    gradient of ``conv2d`` with respect to its input. Output (N, OC, OH, OW) with
    ``OH = SH (H - 1) + KH - 2 PH`` unless ``outsize`` gives it."""
    if b is None:
        return Deconv2d(stride, pad, outsize)(x, W)
    return Deconv2d(stride, pad, outsize)(x, W, b)


class Conv2DGradW(Function):
    """``gW[o, c, kh, kw] = sum_{n, oh, ow} gy[n, o, oh, ow] * col[n, c, kh, kw, oh, ow]``:
    bilinear in the image ``x`` and the output gradient ``gy``."""

    array_backward = True
    check_shapes = False
    retained_inputs = (0, 1)

    def __init__(self, kernel_size: Any, stride: Any, pad: Any) -> None:
        self.kernel_size = pair(kernel_size)
        self.stride = pair(stride)
        self.pad = pair(pad)

    def forward(self, x: Any, gy: Any) -> Any:
        g = conv_geometry("conv2d", x.shape, self.kernel_size, self.stride, self.pad)
        xp = self.xp
        N, C = x.shape[:2]
        OC = gy.shape[1]
        K = C * g[0] * g[1]
        gW: Any = None
        for s in batch_slices(xp, N, g[6] * g[7] * K * x.itemsize):
            col = im2col_nhwc(x[s], g).reshape(-1, K)
            part = gy[s].transpose(1, 0, 2, 3).reshape(OC, -1).dot(col)
            if gW is None:
                gW = part
            else:
                gW += part
        return gW.reshape(OC, C, *self.kernel_size)

    def backward(self, ggW: Any) -> Any:
        x, gy = self.saved_input(0), self.saved_input(1)
        ops = self.ops
        outsize = tuple(x.shape[2:])
        gx = ops.apply(Deconv2d(self.stride, self.pad, outsize), gy, ggW)
        ggy = ops.apply(Conv2d(self.stride, self.pad), x, ggW)
        return gx, ggy


def conv2d_simple(x: Any, W: Any, b: Any = None, stride: Any = 1, pad: Any = 0) -> Variable:
    """``conv2d`` composed from ``im2col``, ``linear``, ``reshape`` and ``transpose`` (DeZero's
    step-by-step version)."""
    x, Weight = as_variable(x), as_variable(W)
    _check_weights("conv2d_simple", x, Weight, b, 1, 0)
    N = x.shape[0]
    OC, _, KH, KW = Weight.shape
    g = conv_geometry("conv2d_simple", x.shape, (KH, KW), stride, pad)
    col = im2col(x, (KH, KW), stride, pad, to_matrix=True)
    Weight = Weight.reshape(OC, -1).transpose()
    t = linear(col, Weight, b)
    return t.reshape(N, g[6], g[7], OC).transpose(0, 3, 1, 2)


class Im2col(Function):
    array_backward = True
    check_shapes = False

    def __init__(self, kernel_size: Any, stride: Any, pad: Any, to_matrix: bool) -> None:
        self.kernel_size = kernel_size
        self.stride = stride
        self.pad = pad
        self.to_matrix = to_matrix

    def forward(self, x: Any) -> Any:
        self.input_shape = x.shape
        return im2col_array(x, self.kernel_size, self.stride, self.pad, self.to_matrix)

    def backward(self, gy: Any) -> Any:
        spec = (self.input_shape, self.kernel_size, self.stride, self.pad, self.to_matrix)
        return self.ops.apply(Col2im(*spec), gy)


def im2col(
    x: Any, kernel_size: Any, stride: Any = 1, pad: Any = 0, to_matrix: bool = True
) -> Variable:
    """Extract the patches a filter of ``kernel_size`` sees in ``x`` (N, C, H, W): a matrix
    ``(N*OH*OW, C*KH*KW)`` if ``to_matrix``, else ``(N, C, KH, KW, OH, OW)``."""
    return Im2col(kernel_size, stride, pad, to_matrix)(x)


class Col2im(Function):
    array_backward = True
    check_shapes = False

    def __init__(
        self, input_shape: Any, kernel_size: Any, stride: Any, pad: Any, to_matrix: bool
    ) -> None:
        self.input_shape = tuple(input_shape)
        self.kernel_size = kernel_size
        self.stride = stride
        self.pad = pad
        self.to_matrix = to_matrix

    def forward(self, x: Any) -> Any:
        return col2im_array(
            x, self.input_shape, self.kernel_size, self.stride, self.pad, self.to_matrix
        )

    def backward(self, gy: Any) -> Any:
        spec = (self.kernel_size, self.stride, self.pad, self.to_matrix)
        return self.ops.apply(Im2col(*spec), gy)


def col2im(
    x: Any,
    input_shape: Any,
    kernel_size: Any,
    stride: Any = 1,
    pad: Any = 0,
    to_matrix: bool = True,
) -> Variable:
    """Sum patches back into an image of ``input_shape`` (the adjoint of ``im2col``)."""
    input_shape = as_shape("col2im", input_shape, "input_shape")
    if len(input_shape) != 4:
        raise ValueError(f"col2im: input_shape must be (N, C, H, W), got {input_shape}")
    return Col2im(input_shape, kernel_size, stride, pad, to_matrix)(x)
