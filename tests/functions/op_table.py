"""The op table: one row per differentiable function (STYLE.md, item 8).

Each row names the function, a NumPy reference written independently of zerograd, the input
domain and shapes, the forward tolerance and the derivative orders to check.
``test_op_table.py`` runs every row through one parametrized test.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import zerograd.functions as F
from zerograd import test_mode

Domain = tuple[float, float]


@dataclass(frozen=True)
class Op:
    """One row: ``fn(*Variables)`` against ``ref(*arrays)`` on inputs drawn uniformly from
    ``domain`` (one pair for all inputs, or one per input) with ``shapes``."""

    name: str
    fn: Callable[..., Any]
    ref: Callable[..., Any]
    shapes: Sequence[tuple[int, ...]]
    domain: Domain | Sequence[Domain] = (-2.0, 2.0)
    rtol: float = 1e-7
    atol: float = 1e-9
    orders: tuple[int, ...] = (1, 2)
    f32_rtol: float = 1e-4  # float32 values and gradients against float64

    def inputs(self, seed: int = 0) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        domains = [self.domain] * len(self.shapes) if _is_pair(self.domain) else self.domain
        return [rng.uniform(lo, hi, size=s) for (lo, hi), s in zip(domains, self.shapes)]


def _is_pair(d: Any) -> bool:
    return len(d) == 2 and all(isinstance(v, (int, float)) for v in d)


# -- independent NumPy references --------------------------------------------------------------
_erf = np.vectorize(math.erf)


def _softmax(x: np.ndarray, axis: int = 1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x: np.ndarray, axis: int = 1) -> np.ndarray:
    return np.log(_softmax(x, axis))


def _pad(x: np.ndarray, p: int, value: float = 0.0) -> np.ndarray:
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=value)


def _windows(x: np.ndarray, k: int, s: int, p: int, value: float = 0.0) -> np.ndarray:
    """(N, C, OH, OW, k, k) windows of the padded image."""
    return sliding_window_view(_pad(x, p, value), (k, k), axis=(2, 3))[:, :, ::s, ::s]


def conv2d_ref(x: np.ndarray, W: np.ndarray, b: np.ndarray, s: int, p: int) -> np.ndarray:
    k = W.shape[2]
    return np.einsum("nchwij,ocij->nohw", _windows(x, k, s, p), W) + b[:, None, None]


def deconv2d_ref(x: np.ndarray, W: np.ndarray, b: np.ndarray, s: int, p: int) -> np.ndarray:
    N, _, H, Wd = x.shape
    _, OC, KH, KW = W.shape
    full = np.zeros((N, OC, s * (H - 1) + KH, s * (Wd - 1) + KW))
    for h in range(H):
        for w in range(Wd):
            full[:, :, h * s : h * s + KH, w * s : w * s + KW] += np.einsum(
                "nc,coij->noij", x[:, :, h, w], W
            )
    return full[:, :, p : full.shape[2] - p, p : full.shape[3] - p] + b[:, None, None]


def im2col_ref(x: np.ndarray, k: int, s: int, p: int) -> np.ndarray:
    w = _windows(x, k, s, p)  # (N, C, OH, OW, k, k)
    N, C, OH, OW = w.shape[:4]
    return w.transpose(0, 2, 3, 1, 4, 5).reshape(N * OH * OW, C * k * k)


def col2im_ref(col: np.ndarray, shape: tuple[int, ...], k: int, s: int, p: int) -> np.ndarray:
    N, C, H, W = shape
    OH, OW = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    c = col.reshape(N, OH, OW, C, k, k)
    img = np.zeros((N, C, H + 2 * p, W + 2 * p))
    for oh in range(OH):
        for ow in range(OW):
            img[:, :, oh * s : oh * s + k, ow * s : ow * s + k] += c[:, oh, ow]
    return img[:, :, p : p + H, p : p + W]


def batch_norm_ref(x: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    m, v = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - m) / np.sqrt(v + 2e-5) * g.reshape(shape) + b.reshape(shape)


def _sce_ref(x: np.ndarray, t: np.ndarray, ignore: int | None = None, eps: float = 0.0) -> Any:
    logp = _log_softmax(x)
    valid = np.ones(len(t), bool) if ignore is None else t != ignore
    tt = np.where(valid, t, 0)
    loss = -(1 - eps) * logp[np.arange(len(t)), tt] - eps * logp.mean(axis=1)
    return (loss * valid).sum() / valid.sum()


def _bn_test_fn(x: Any, g: Any, b: Any) -> Any:
    dtype = x.dtype
    with test_mode():
        return F.batch_norm(x, g, b, np.full(3, 0.1, dtype), np.full(3, 1.5, dtype))


def _dropout_fn(x: Any) -> Any:
    np.random.seed(7)
    return F.dropout(x, 0.4)


def _dropout_ref(x: np.ndarray) -> np.ndarray:
    np.random.seed(7)
    return x * (np.random.rand(*x.shape) > 0.4) / 0.6


_COND = np.array([[True, False, True, True], [False, False, True, False], [True] * 4])
_T = np.array([0, 2, 1, 2])
_T_IGN = np.array([0, -100, 1, 2])
_IDS = np.array([[0, 2], [2, 1]])
_ADV = (np.array([0, 2, 0]), slice(1, None))
POS = (0.5, 2.0)

OPS: list[Op] = [
    # arithmetic (the Variable operators)
    Op("add", F.add, np.add, [(3, 4), (4,)]),
    Op("sub", F.sub, np.subtract, [(3, 4), (3, 1)]),
    Op("rsub", F.rsub, lambda a, b: b - a, [(3, 4), (4,)]),
    Op("mul", F.mul, np.multiply, [(3, 4), (4,)]),
    Op("div", F.div, np.divide, [(3, 4), (4,)], [(-2, 2), POS]),
    Op("rdiv", F.rdiv, lambda a, b: b / a, [(3, 4), (4,)], [POS, (-2, 2)]),
    Op("neg", F.neg, np.negative, [(3, 4)]),
    Op("pow", lambda x: F.pow(x, 3.0), lambda x: x**3.0, [(3, 4)]),
    Op("pow_var", F.pow, np.power, [(3, 4), (4,)], [POS, (-2, 2)]),
    Op("rpow", lambda x: F.rpow(x, 2.0), lambda x: 2.0**x, [(3, 4)]),
    # elementwise
    Op("sin", F.sin, np.sin, [(3, 4)]),
    Op("cos", F.cos, np.cos, [(3, 4)]),
    Op("tanh", F.tanh, np.tanh, [(3, 4)]),
    Op("exp", F.exp, np.exp, [(3, 4)]),
    Op("log", F.log, np.log, [(3, 4)], POS),
    Op("sqrt", F.sqrt, np.sqrt, [(3, 4)], POS),
    Op("square", F.square, np.square, [(3, 4)]),
    Op("abs", F.abs, np.abs, [(3, 4)]),
    Op("clip", lambda x: F.clip(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7), [(3, 4)]),
    Op("maximum", F.maximum, np.maximum, [(3, 4), (4,)]),
    Op("minimum", F.minimum, np.minimum, [(3, 4), (3, 1)]),
    Op(
        "where",
        lambda a, b: F.where(_COND, a, b),
        lambda a, b: np.where(_COND, a, b),
        [(3, 4), (4,)],
    ),
    # shape
    Op("reshape", lambda x: F.reshape(x, (4, 3)), lambda x: x.reshape(4, 3), [(3, 4)]),
    Op(
        "transpose",
        lambda x: F.transpose(x, (1, 2, 0)),
        lambda x: x.transpose(1, 2, 0),
        [(2, 3, 4)],
    ),
    Op("get_item", lambda x: F.get_item(x, (slice(None), 1)), lambda x: x[:, 1], [(3, 4)]),
    Op("get_item_adv", lambda x: F.get_item(x, _ADV), lambda x: x[_ADV], [(3, 4)]),
    Op("expand_dims", lambda x: F.expand_dims(x, -1), lambda x: x[..., None], [(3, 4)]),
    Op("flatten", F.flatten, lambda x: x.reshape(2, -1), [(2, 3, 4)]),
    Op(
        "concat",
        lambda a, b: F.concat([a, b], axis=1),
        lambda a, b: np.concatenate([a, b], 1),
        [(3, 4), (3, 2)],
    ),
    Op(
        "stack",
        lambda a, b: F.stack([a, b], axis=1),
        lambda a, b: np.stack([a, b], 1),
        [(3, 4), (3, 4)],
    ),
    Op(
        "split",
        lambda x: F.split(x, [1, 3], axis=1),
        lambda x: np.split(x, [1, 3], axis=1),
        [(3, 4)],
    ),
    # reductions
    Op("sum", lambda x: F.sum(x, axis=(0, 2)), lambda x: x.sum(axis=(0, 2)), [(2, 3, 4)]),
    Op("sum_to", lambda x: F.sum_to(x, (3, 1)), lambda x: x.sum(axis=1, keepdims=True), [(3, 4)]),
    Op(
        "broadcast_to",
        lambda x: F.broadcast_to(x, (3, 4)),
        lambda x: np.broadcast_to(x, (3, 4)),
        [(4,)],
    ),
    Op(
        "mean",
        lambda x: F.mean(x, axis=1, keepdims=True),
        lambda x: x.mean(1, keepdims=True),
        [(3, 4)],
    ),
    Op("average", F.average, np.mean, [(3, 4)]),
    Op("var", lambda x: F.var(x, axis=0, ddof=1), lambda x: x.var(axis=0, ddof=1), [(3, 4)]),
    Op("max", lambda x: F.max(x, axis=1), lambda x: x.max(axis=1), [(3, 4)]),
    Op(
        "min",
        lambda x: F.min(x, axis=(0, 2), keepdims=True),
        lambda x: x.min((0, 2), keepdims=True),
        [(2, 3, 4)],
    ),
    Op("logsumexp", F.logsumexp, lambda x: np.log(np.exp(x).sum(axis=1)), [(3, 4)]),
    # linear algebra
    Op("matmul", F.matmul, np.matmul, [(2, 3, 4), (4, 5)]),
    Op("linear", F.linear, lambda x, W, b: x @ W + b, [(3, 4), (4, 5), (5,)]),
    Op("linear_nd", F.linear, lambda x, W, b: x @ W + b, [(2, 3, 4), (4, 5), (5,)]),
    Op("linear_bias_row", F.linear, lambda x, W, b: x @ W + b, [(3, 4), (4, 5), (1, 5)]),
    Op("linear_bias_scalar", F.linear, lambda x, W, b: x @ W + b, [(2, 3, 4), (4, 5), ()]),
    Op("linear_no_bias", F.linear, lambda x, W: x @ W, [(2, 3, 4), (4, 5)]),
    Op("linear_vector", F.linear, lambda x, W, b: x @ W + b, [(4,), (4, 5), (5,)]),
    Op("linear_simple", F.linear_simple, lambda x, W, b: x @ W + b, [(3, 4), (4, 5), (5,)]),
    Op("embed_id", lambda W: F.embed_id(_IDS, W), lambda W: W[_IDS], [(3, 4)]),
    # activations
    Op("sigmoid", F.sigmoid, lambda x: 1 / (1 + np.exp(-x)), [(3, 4)], (-4, 4)),
    Op("sigmoid_simple", F.sigmoid_simple, lambda x: 1 / (1 + np.exp(-x)), [(3, 4)], (-4, 4)),
    Op("relu", F.relu, lambda x: np.maximum(x, 0), [(3, 4)]),
    Op("leaky_relu", F.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x), [(3, 4)]),
    Op("softmax", F.softmax, _softmax, [(3, 4)]),
    Op("softmax_axis0", lambda x: F.softmax(x, axis=0), lambda x: _softmax(x, 0), [(3, 4)]),
    Op("softmax_simple", F.softmax_simple, _softmax, [(3, 4)]),
    Op("log_softmax", F.log_softmax, _log_softmax, [(3, 4)]),
    Op("softplus", lambda x: F.softplus(x, 2.0), lambda x: np.log1p(np.exp(2 * x)) / 2, [(3, 4)]),
    Op("gelu", F.gelu, lambda x: x * 0.5 * (1 + _erf(x / np.sqrt(2))), [(3, 4)], (-3, 3)),
    Op(
        "gelu_tanh",
        lambda x: F.gelu(x, approximate="tanh"),
        lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
        [(3, 4)],
    ),
    # losses
    Op(
        "mean_squared_error",
        F.mean_squared_error,
        lambda a, b: ((a - b) ** 2).sum() / 3,
        [(3, 4), (4,)],
    ),
    Op(
        "mean_squared_error_simple",
        F.mean_squared_error_simple,
        lambda a, b: ((a - b) ** 2).sum() / 3,
        [(3, 4), (3, 4)],
    ),
    Op(
        "softmax_cross_entropy",
        lambda x: F.softmax_cross_entropy(x, _T),
        lambda x: _sce_ref(x, _T),
        [(4, 3)],
    ),
    Op(
        "softmax_cross_entropy_options",
        lambda x: F.softmax_cross_entropy(x, _T_IGN, ignore_index=-100, label_smoothing=0.1),
        lambda x: _sce_ref(x, _T_IGN, -100, 0.1),
        [(4, 3)],
    ),
    Op(
        "softmax_cross_entropy_simple",
        lambda x: F.softmax_cross_entropy_simple(x, _T),
        lambda x: _sce_ref(x, _T),
        [(4, 3)],
    ),
    Op(
        "sigmoid_cross_entropy",
        F.sigmoid_cross_entropy,
        lambda x, t: (
            -(t * np.log(1 / (1 + np.exp(-x))) + (1 - t) * np.log(1 / (1 + np.exp(x)))).sum() / 4
        ),
        [(4, 3), (4, 3)],
        [(-3, 3), (0, 1)],
    ),
    Op(
        "binary_cross_entropy",
        F.binary_cross_entropy,
        lambda p, t: -(t * np.log(p) + (1 - t) * np.log(1 - p)).sum() / 4,
        [(4, 3), (4, 3)],
        [(0.05, 0.95), (0, 1)],
    ),
    # normalization and regularization
    Op(
        "batch_norm",
        lambda x, g, b: F.batch_norm(x, g, b, np.zeros(3, x.dtype), np.ones(3, x.dtype)),
        batch_norm_ref,
        [(5, 3), (3,), (3,)],
    ),
    Op(
        "batch_norm_4d",
        lambda x, g, b: F.batch_nrom(x, g, b, np.zeros(3, x.dtype), np.ones(3, x.dtype)),
        batch_norm_ref,
        [(2, 3, 2, 3), (3,), (3,)],
    ),
    Op(
        "batch_norm_test",
        _bn_test_fn,
        lambda x, g, b: (x - 0.1) / np.sqrt(1.5 + 2e-5) * g + b,
        [(5, 3), (3,), (3,)],
    ),
    Op(
        "layer_norm",
        F.layer_norm,
        lambda x, g, b: (
            (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * g + b
        ),
        [(3, 4), (4,), (4,)],
    ),
    Op("dropout", _dropout_fn, _dropout_ref, [(3, 4)]),
    # convolution and pooling
    Op(
        "conv2d",
        lambda x, W, b: F.conv2d(x, W, b, stride=2, pad=1),
        lambda x, W, b: conv2d_ref(x, W, b, 2, 1),
        [(2, 2, 5, 5), (3, 2, 3, 3), (3,)],
    ),
    Op(
        "conv2d_simple",
        lambda x, W, b: F.conv2d_simple(x, W, b, stride=1, pad=1),
        lambda x, W, b: conv2d_ref(x, W, b, 1, 1),
        [(1, 2, 4, 4), (3, 2, 3, 3), (3,)],
    ),
    Op(
        "deconv2d",
        lambda x, W, b: F.deconv2d(x, W, b, stride=2, pad=1),
        lambda x, W, b: deconv2d_ref(x, W, b, 2, 1),
        [(2, 2, 3, 3), (2, 3, 3, 3), (3,)],
    ),
    Op(
        "pooling",
        lambda x: F.pooling(x, 3, stride=2, pad=1),
        lambda x: _windows(x, 3, 2, 1, -np.inf).max(axis=(4, 5)),
        [(2, 2, 5, 5)],
    ),
    Op(
        "pooling_simple",
        lambda x: F.pooling_simple(x, 2, stride=2),
        lambda x: _windows(x, 2, 2, 0).max(axis=(4, 5)),
        [(2, 2, 4, 4)],
    ),
    Op(
        "average_pooling",
        lambda x: F.average_pooling(x, 3, stride=2, pad=1),
        lambda x: _windows(x, 3, 2, 1).mean(axis=(4, 5)),
        [(2, 2, 5, 5)],
    ),
    Op("im2col", lambda x: F.im2col(x, 3, 2, 1), lambda x: im2col_ref(x, 3, 2, 1), [(2, 2, 5, 5)]),
    Op(
        "col2im",
        lambda c: F.col2im(c, (2, 2, 5, 5), 3, 2, 1),
        lambda c: col2im_ref(c, (2, 2, 5, 5), 3, 2, 1),
        [(18, 18)],
    ),
]
