"""im2col and col2im on arrays (NumPy or CuPy), and the geometry helpers of convolution.

Two column layouts, both filled with one strided copy per kernel tap (KH * KW copies, never
an element-wise loop or ``np.add.at``):

- *channels-last* ``(N, OH, OW, C, KH, KW)``: reshaped to a matrix ``(N*OH*OW, C*KH*KW)``
  for free. It is DeZero's ``to_matrix=True`` layout (same values, same order), built without
  DeZero's extra transposing copy; convolution multiplies it with the weights.
- *channels-first* ``(N, C, KH, KW, OH, OW)``: DeZero's ``to_matrix=False`` layout, used by
  pooling, where each tap is a contiguous block.

``get_conv_outsize``, ``get_deconv_outsize`` and ``pair`` are DeZero's ``utils`` helpers.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from zerograd import cuda

Geometry = tuple[int, int, int, int, int, int, int, int]  # KH, KW, SH, SW, PH, PW, OH, OW


def get_conv_outsize(input_size: int, kernel_size: int, stride: int, pad: int) -> int:
    """Output length of a convolution: ``(input_size + 2 pad - kernel_size) // stride + 1``."""
    return (input_size + pad * 2 - kernel_size) // stride + 1


def get_deconv_outsize(size: int, k: int, s: int, p: int) -> int:
    """Output length of a transposed convolution: ``s (size - 1) + k - 2 p``."""
    return s * (size - 1) + k - 2 * p


def pair(x: Any) -> tuple[int, int]:
    """``x`` as a pair: an int ``n`` becomes ``(n, n)``; a pair stays as it is."""
    if isinstance(x, (int, np.integer)):
        return (int(x), int(x))
    if isinstance(x, (tuple, list)) and len(x) == 2:
        return (int(x[0]), int(x[1]))
    raise ValueError(f"pair: expected an int or a pair of ints, got {x!r}")


def checked_pair(name: str, arg: str, value: Any, least: int) -> tuple[int, int]:
    """``pair(value)``, or a ValueError naming ``name`` and ``arg``; both ints >= ``least``."""
    try:
        p = pair(value)
    except (ValueError, TypeError):
        raise ValueError(f"{name}: {arg} must be an int or a pair of ints, got {value!r}") from None
    if p[0] < least or p[1] < least:
        raise ValueError(f"{name}: {arg} must be at least {least}, got {value!r}")
    return p


def conv_geometry(
    name: str, x_shape: tuple[int, ...], kernel_size: Any, stride: Any, pad: Any
) -> Geometry:
    """Check the arguments of a 2-D window operation on ``x_shape`` (N, C, H, W) and return
    ``(KH, KW, SH, SW, PH, PW, OH, OW)``; a ValueError names what yields an empty output."""
    if len(x_shape) != 4:
        raise ValueError(f"{name}: x must be 4-D (N, C, H, W), got shape {tuple(x_shape)}")
    KH, KW = checked_pair(name, "kernel_size", kernel_size, 1)
    SH, SW = checked_pair(name, "stride", stride, 1)
    PH, PW = checked_pair(name, "pad", pad, 0)
    H, W = x_shape[2:]
    OH = get_conv_outsize(H, KH, SH, PH)
    OW = get_conv_outsize(W, KW, SW, PW)
    if OH < 1 or OW < 1:
        raise ValueError(
            f"{name}: kernel_size {(KH, KW)}, stride {(SH, SW)} and pad {(PH, PW)} give an empty "
            f"output ({OH} x {OW}) for input of shape {tuple(x_shape)}"
        )
    return KH, KW, SH, SW, PH, PW, OH, OW


def taps(g: Geometry) -> Any:
    """For each kernel tap (j, i): the strided window of the padded image it reads."""
    KH, KW, SH, SW, _, _, OH, OW = g
    for j in range(KH):
        for i in range(KW):
            yield j, i, slice(j, j + SH * (OH - 1) + 1, SH), slice(i, i + SW * (OW - 1) + 1, SW)


def batch_slices(xp: Any, n: int, item_bytes: int) -> list[slice]:
    """Split a batch of ``n`` into nearly equal slices whose columns take about 2 MiB each, so
    that a slice's columns stay in cache between being built and being multiplied (on NumPy;
    other backends take the batch whole)."""
    if xp is not np:
        return [slice(0, n)]
    chunks = min(n, max(1, -(-n * item_bytes // _CHUNK_BYTES)))
    bounds = [n * k // chunks for k in range(chunks + 1)]
    return [slice(a, b) for a, b in itertools.pairwise(bounds)]


_CHUNK_BYTES = 2 << 20


# On GPUs each tap would be a kernel launch of its own; one CUDA kernel per call builds (or
# sums) all taps instead (Chainer's approach). Index formulas mirror the NumPy code above.
_IM2COL_NHWC = (
    "raw T img, int32 C, int32 H, int32 W, int32 OH, int32 OW, int32 KH, int32 KW, "
    "int32 SH, int32 SW, int32 PH, int32 PW",
    "T col",
    """
    int kx = i % KW;
    int ky = i / KW % KH;
    int c = i / (KW * KH) % C;
    int ox = i / (KW * KH * C) % OW;
    int oy = i / (KW * KH * C * OW) % OH;
    int n = i / (KW * KH * C * OW * OH);
    int y = oy * SH + ky - PH;
    int x = ox * SW + kx - PW;
    col = (y >= 0 && y < H && x >= 0 && x < W) ? img[((n * C + c) * H + y) * W + x] : (T)0;
    """,
)
_COL2IM_ADD = (
    "raw T col, int32 HP, int32 WP, int32 OH, int32 OW, int32 KH, int32 KW, int32 SH, int32 SW",
    "T img",
    """
    int x = i % WP;
    int y = i / WP % HP;
    int nc = i / (WP * HP);
    T val = 0;
    for (int ky = 0; ky < KH; ++ky) {
        int ty = y - ky;
        if (ty < 0 || ty % SH != 0 || ty / SH >= OH) continue;
        for (int kx = 0; kx < KW; ++kx) {
            int tx = x - kx;
            if (tx < 0 || tx % SW != 0 || tx / SW >= OW) continue;
            val += col[(((nc * KH + ky) * KW + kx) * OH + ty / SH) * OW + tx / SW];
        }
    }
    img = img + val;
    """,
)
_gpu_kernels: dict[str, Any] = {}


def _gpu_kernel(name: str, spec: tuple[str, str, str]) -> Any:
    kernel = _gpu_kernels.get(name)
    if kernel is None:
        kernel = _gpu_kernels[name] = cuda.elementwise_kernel(*spec, f"zerograd_{name}")
    return kernel


def im2col_nhwc(x: Any, g: Geometry, out: Any = None) -> Any:
    """Columns ``(N, OH, OW, C, KH, KW)`` of image ``x`` (N, C, H, W), zero padded (into
    ``out`` if given, an array of that shape)."""
    xp = cuda.get_array_module(x)
    N, C, H, W = x.shape
    KH, KW, SH, SW, PH, PW, OH, OW = g
    if xp is not np:
        col = xp.empty((N, OH, OW, C, KH, KW), dtype=x.dtype) if out is None else out
        kernel = _gpu_kernel("im2col_nhwc", _IM2COL_NHWC)
        kernel(xp.ascontiguousarray(x), C, H, W, OH, OW, KH, KW, SH, SW, PH, PW, col)
        return col
    img = x.transpose(0, 2, 3, 1)  # channels last: each tap copies C-long runs
    if PH or PW:
        padded = xp.zeros((N, H + 2 * PH, W + 2 * PW, C), dtype=x.dtype)
        padded[:, PH : PH + H, PW : PW + W, :] = img
        img = padded
    col = xp.empty((N, OH, OW, C, KH, KW), dtype=x.dtype) if out is None else out
    for j, i, rows, cols in taps(g):
        col[:, :, :, :, j, i] = img[:, rows, cols, :]
    return col


def im2col_nchw(x: Any, g: Geometry, pad_value: float = 0) -> Any:
    """Columns ``(N, C, KH, KW, OH, OW)`` of image ``x`` (N, C, H, W), padded with
    ``pad_value``."""
    xp = cuda.get_array_module(x)
    N, C, H, W = x.shape
    KH, KW, _, _, PH, PW, OH, OW = g
    img = x
    if PH or PW:
        img = xp.full((N, C, H + 2 * PH, W + 2 * PW), pad_value, dtype=x.dtype)
        img[:, :, PH : PH + H, PW : PW + W] = x
    col = xp.empty((N, C, KH, KW, OH, OW), dtype=x.dtype)
    for j, i, rows, cols in taps(g):
        col[:, :, j, i] = img[:, :, rows, cols]
    return col


def padded_zeros(xp: Any, img_shape: tuple[int, ...], g: Geometry, dtype: Any) -> Any:
    """Zeros of ``img_shape`` (N, C, H, W) with the padding of ``g`` around H and W."""
    N, C, H, W = img_shape
    return xp.zeros((N, C, H + 2 * g[4], W + 2 * g[5]), dtype=dtype)


def crop(img: Any, img_shape: tuple[int, ...], g: Geometry) -> Any:
    """The inside of a padded image (a view)."""
    PH, PW = g[4], g[5]
    return img[:, :, PH : PH + img_shape[2], PW : PW + img_shape[3]] if PH or PW else img


def col2im_add(img: Any, col: Any, g: Geometry) -> None:
    """Add columns ``(N, C, KH, KW, OH, OW)`` (any strides) into the padded image ``img``, one
    kernel tap at a time (in tap order, as DeZero does)."""
    xp = cuda.get_array_module(img)
    if xp is not np:
        KH, KW, SH, SW, _, _, OH, OW = g
        kernel = _gpu_kernel("col2im_add", _COL2IM_ADD)
        kernel(xp.ascontiguousarray(col), img.shape[2], img.shape[3], OH, OW, KH, KW, SH, SW, img)
        return
    for j, i, rows, cols in taps(g):
        img[:, :, rows, cols] += col[:, :, j, i]


def col2im_nchw(col: Any, img_shape: tuple[int, ...], g: Geometry) -> Any:
    """Sum columns ``(N, C, KH, KW, OH, OW)`` (any strides) back into an image (N, C, H, W):
    the adjoint of ``im2col_nchw`` (and, through a transposed view, of ``im2col_nhwc``)."""
    img = padded_zeros(cuda.get_array_module(col), img_shape, g, col.dtype)
    col2im_add(img, col, g)
    return crop(img, img_shape, g)


def im2col_array(img: Any, kernel_size: Any, stride: Any, pad: Any, to_matrix: bool = True) -> Any:
    """DeZero's ``im2col_array``: ``(N*OH*OW, C*KH*KW)`` if ``to_matrix`` else
    ``(N, C, KH, KW, OH, OW)``."""
    g = conv_geometry("im2col", img.shape, kernel_size, stride, pad)
    if to_matrix:
        col = im2col_nhwc(img, g)
        return col.reshape(col.shape[0] * col.shape[1] * col.shape[2], -1)
    return im2col_nchw(img, g)


def col2im_array(
    col: Any,
    img_shape: tuple[int, ...],
    kernel_size: Any,
    stride: Any,
    pad: Any,
    to_matrix: bool = True,
) -> Any:
    """DeZero's ``col2im_array``: the adjoint of ``im2col_array`` (overlaps are summed)."""
    g = conv_geometry("col2im", tuple(img_shape), kernel_size, stride, pad)
    N, C = img_shape[:2]
    KH, KW, OH, OW = g[0], g[1], g[6], g[7]
    expected = (N * OH * OW, C * KH * KW) if to_matrix else (N, C, KH, KW, OH, OW)
    if col.size != int(np.prod(expected)):
        raise ValueError(
            f"col2im: columns of shape {tuple(col.shape)} do not fit image shape "
            f"{tuple(img_shape)} with kernel {(KH, KW)}; expected {expected}"
        )
    if to_matrix:
        col = col.reshape(N, OH, OW, C, KH, KW).transpose(0, 3, 4, 5, 1, 2)
    return col2im_nchw(col.reshape(N, C, KH, KW, OH, OW), tuple(img_shape), g)
