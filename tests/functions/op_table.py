"""The op table: one row per differentiable function (STYLE.md, item 8).

Each row names the function, a NumPy reference written independently of zerograd, its torch
twin (where torch has one), the input domain and shapes, the forward tolerance and the
derivative orders to check. ``test_op_table.py`` runs every row through one parametrized
test, and ``test_torch_parity.py`` against its twin, on the row's inputs and on every edge
kind (``EDGE_KINDS``).
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
    #: The same function in PyTorch, ``twin(torch, *tensors)``, or None where torch has none.
    twin: Callable[..., Any] | None = None
    #: Takes logits: also checked on float32 logits of magnitude 1e4 (edge kind "huge").
    logits: bool = False
    #: Input shapes for the edge kinds whose generic shapes (see ``edge_inputs``) do not fit.
    edge_shapes: tuple[tuple[str, tuple[tuple[int, ...], ...]], ...] = ()

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


def _linear(T: Any, x: Any, W: Any, b: Any = None) -> Any:
    return x @ W if b is None else x @ W + b


def _bn_twin(T: Any, x: Any, g: Any, b: Any) -> Any:
    zeros, ones = T.zeros(3, dtype=x.dtype), T.ones(3, dtype=x.dtype)
    return T.nn.functional.batch_norm(x, zeros, ones, g, b, training=True, eps=2e-5)


def _bn_test_twin(T: Any, x: Any, g: Any, b: Any) -> Any:
    mean, var = T.full((3,), 0.1, dtype=x.dtype), T.full((3,), 1.5, dtype=x.dtype)
    return T.nn.functional.batch_norm(x, mean, var, g, b, training=False, eps=2e-5)


_COND = np.array([[True, False, True, True], [False, False, True, False], [True] * 4])
_T = np.array([0, 2, 1, 2])
_T_IGN = np.array([0, -100, 1, 2])
_IDS = np.array([[0, 2], [2, 1]])
_ADV = (np.array([0, 2, 0]), slice(1, None))
POS = (0.5, 2.0)
_LO, _HI = np.array([[-0.5], [0.1], [2.0]]), np.array([0.7, 0.3, 1.5, 0.0])

OPS: list[Op] = [
    # arithmetic (the Variable operators)
    Op("add", F.add, np.add, [(3, 4), (4,)], twin=lambda T, a, b: a + b),
    Op("sub", F.sub, np.subtract, [(3, 4), (3, 1)], twin=lambda T, a, b: a - b),
    Op("rsub", F.rsub, lambda a, b: b - a, [(3, 4), (4,)], twin=lambda T, a, b: b - a),
    Op("mul", F.mul, np.multiply, [(3, 4), (4,)], twin=lambda T, a, b: a * b),
    Op("div", F.div, np.divide, [(3, 4), (4,)], [(-2, 2), POS], twin=lambda T, a, b: a / b),
    Op(
        "rdiv",
        F.rdiv,
        lambda a, b: b / a,
        [(3, 4), (4,)],
        [POS, (-2, 2)],
        twin=lambda T, a, b: b / a,
    ),
    Op("neg", F.neg, np.negative, [(3, 4)], twin=lambda T, x: -x),
    Op("pow", lambda x: F.pow(x, 3.0), lambda x: x**3.0, [(3, 4)], twin=lambda T, x: x**3.0),
    Op("pow_var", F.pow, np.power, [(3, 4), (4,)], [POS, (-2, 2)], twin=lambda T, x, c: x**c),
    Op("rpow", lambda x: F.rpow(x, 2.0), lambda x: 2.0**x, [(3, 4)], twin=lambda T, x: 2.0**x),
    # elementwise
    Op("sin", F.sin, np.sin, [(3, 4)], twin=lambda T, x: x.sin()),
    Op("cos", F.cos, np.cos, [(3, 4)], twin=lambda T, x: x.cos()),
    Op("tanh", F.tanh, np.tanh, [(3, 4)], twin=lambda T, x: x.tanh()),
    Op("exp", F.exp, np.exp, [(3, 4)], twin=lambda T, x: x.exp()),
    Op("log", F.log, np.log, [(3, 4)], POS, twin=lambda T, x: x.log()),
    Op("sqrt", F.sqrt, np.sqrt, [(3, 4)], POS, twin=lambda T, x: x.sqrt()),
    Op("square", F.square, np.square, [(3, 4)], twin=lambda T, x: x.square()),
    Op("abs", F.abs, np.abs, [(3, 4)], twin=lambda T, x: x.abs()),
    Op(
        "clip",
        lambda x: F.clip(x, -0.5, 0.7),
        lambda x: np.clip(x, -0.5, 0.7),
        [(3, 4)],
        twin=lambda T, x: x.clamp(-0.5, 0.7),
    ),
    Op("maximum", F.maximum, np.maximum, [(3, 4), (4,)], twin=lambda T, a, b: a.maximum(b)),
    Op("minimum", F.minimum, np.minimum, [(3, 4), (3, 1)], twin=lambda T, a, b: a.minimum(b)),
    Op(
        "clip_array_bounds",
        lambda x: F.clip(x, _LO.astype(x.dtype), _HI.astype(x.dtype)),
        lambda x: np.clip(x, _LO, _HI),
        [(4,)],
        twin=lambda T, x: x.clamp(T.from_numpy(_LO), T.from_numpy(_HI)),
    ),
    Op(
        "where",
        lambda a, b: F.where(_COND, a, b),
        lambda a, b: np.where(_COND, a, b),
        [(3, 4), (4,)],
        twin=lambda T, a, b: T.where(T.from_numpy(_COND), a, b),
    ),
    # shape
    Op(
        "reshape",
        lambda x: F.reshape(x, (4, 3)),
        lambda x: x.reshape(4, 3),
        [(3, 4)],
        twin=lambda T, x: x.reshape(4, 3),
    ),
    Op(
        "transpose",
        lambda x: F.transpose(x, (1, 2, 0)),
        lambda x: x.transpose(1, 2, 0),
        [(2, 3, 4)],
        twin=lambda T, x: x.permute(1, 2, 0),
    ),
    Op(
        "get_item",
        lambda x: F.get_item(x, (slice(None), 1)),
        lambda x: x[:, 1],
        [(3, 4)],
        twin=lambda T, x: x[:, 1],
    ),
    Op(
        "get_item_adv",
        lambda x: F.get_item(x, _ADV),
        lambda x: x[_ADV],
        [(3, 4)],
        twin=lambda T, x: x[T.from_numpy(_ADV[0]), 1:],
    ),
    Op(
        "expand_dims",
        lambda x: F.expand_dims(x, -1),
        lambda x: x[..., None],
        [(3, 4)],
        twin=lambda T, x: x.unsqueeze(-1),
    ),
    Op(
        "flatten",
        F.flatten,
        lambda x: x.reshape(len(x), -1),
        [(2, 3, 4)],
        twin=lambda T, x: x.flatten(1),
    ),
    Op(
        "concat",
        lambda a, b: F.concat([a, b], axis=1),
        lambda a, b: np.concatenate([a, b], 1),
        [(3, 4), (3, 2)],
        twin=lambda T, a, b: T.cat([a, b], 1),
    ),
    Op(
        "stack",
        lambda a, b: F.stack([a, b], axis=1),
        lambda a, b: np.stack([a, b], 1),
        [(3, 4), (3, 4)],
        twin=lambda T, a, b: T.stack([a, b], 1),
    ),
    Op(
        "split",
        lambda x: F.split(x, [1, 3], axis=1),
        lambda x: np.split(x, [1, 3], axis=1),
        [(3, 4)],
        twin=lambda T, x: list(T.tensor_split(x, [1, 3], 1)),
    ),
    # reductions
    Op(
        "sum",
        lambda x: F.sum(x, axis=(0, 2)),
        lambda x: x.sum(axis=(0, 2)),
        [(2, 3, 4)],
        twin=lambda T, x: x.sum((0, 2)),
    ),
    Op(
        "sum_to",
        lambda x: F.sum_to(x, (3, 1)),
        lambda x: x.sum(axis=1, keepdims=True),
        [(3, 4)],
        twin=lambda T, x: x.sum_to_size(3, 1),
    ),
    Op(
        "broadcast_to",
        lambda x: F.broadcast_to(x, (3, 4)),
        lambda x: np.broadcast_to(x, (3, 4)),
        [(4,)],
        twin=lambda T, x: x.broadcast_to((3, 4)),
    ),
    Op(
        "mean",
        lambda x: F.mean(x, axis=1, keepdims=True),
        lambda x: x.mean(1, keepdims=True),
        [(3, 4)],
        twin=lambda T, x: x.mean(1, keepdim=True),
    ),
    Op("average", F.average, np.mean, [(3, 4)], twin=lambda T, x: x.mean()),
    Op(
        "var",
        lambda x: F.var(x, axis=0, ddof=1),
        lambda x: x.var(axis=0, ddof=1),
        [(3, 4)],
        twin=lambda T, x: x.var(0, correction=1),
    ),
    Op(
        "max",
        lambda x: F.max(x, axis=1),
        lambda x: x.max(axis=1),
        [(3, 4)],
        twin=lambda T, x: x.amax(1),
    ),
    Op(
        "min",
        lambda x: F.min(x, axis=(0, 2), keepdims=True),
        lambda x: x.min((0, 2), keepdims=True),
        [(2, 3, 4)],
        twin=lambda T, x: x.amin((0, 2), keepdim=True),
    ),
    Op(
        "logsumexp",
        F.logsumexp,
        lambda x: np.log(np.exp(x).sum(axis=1)),
        [(3, 4)],
        twin=lambda T, x: x.logsumexp(1),
        logits=True,
    ),
    Op(
        "logsumexp_all",
        lambda x: F.logsumexp(x, axis=None),
        lambda x: np.log(np.exp(x).sum()),
        [(3, 4)],
        twin=lambda T, x: x.logsumexp(tuple(range(x.ndim))) if x.numel() else x.sum().log(),
        logits=True,
    ),
    # linear algebra
    Op(
        "matmul",
        F.matmul,
        np.matmul,
        [(2, 3, 4), (4, 5)],
        twin=lambda T, a, b: a @ b,
        edge_shapes=(("empty_axis", ((2, 3, 0), (0, 5))),),
    ),
    Op("linear", F.linear, lambda x, W, b: x @ W + b, [(3, 4), (4, 5), (5,)], twin=_linear),
    Op("linear_nd", F.linear, lambda x, W, b: x @ W + b, [(2, 3, 4), (4, 5), (5,)], twin=_linear),
    Op(
        "linear_bias_row",
        F.linear,
        lambda x, W, b: x @ W + b,
        [(3, 4), (4, 5), (1, 5)],
        twin=_linear,
    ),
    Op(
        "linear_bias_scalar",
        F.linear,
        lambda x, W, b: x @ W + b,
        [(2, 3, 4), (4, 5), ()],
        twin=_linear,
    ),
    Op("linear_no_bias", F.linear, lambda x, W: x @ W, [(2, 3, 4), (4, 5)], twin=_linear),
    Op(
        "linear_vector",
        F.linear,
        lambda x, W, b: x @ W + b,
        [(4,), (4, 5), (5,)],
        twin=_linear,
        edge_shapes=(("empty_batch", ((0,), (0, 5), (5,))),),
    ),
    Op(
        "linear_simple",
        F.linear_simple,
        lambda x, W, b: x @ W + b,
        [(3, 4), (4, 5), (5,)],
        twin=_linear,
    ),
    Op(
        "embed_id",
        lambda W: F.embed_id(_IDS, W),
        lambda W: W[_IDS],
        [(3, 4)],
        twin=lambda T, W: T.nn.functional.embedding(T.from_numpy(_IDS), W),
    ),
    # activations
    Op(
        "sigmoid",
        F.sigmoid,
        lambda x: 1 / (1 + np.exp(-x)),
        [(3, 4)],
        (-4, 4),
        twin=lambda T, x: x.sigmoid(),
        logits=True,
    ),
    Op(
        "sigmoid_simple",
        F.sigmoid_simple,
        lambda x: 1 / (1 + np.exp(-x)),
        [(3, 4)],
        (-4, 4),
        twin=lambda T, x: 1 / (1 + (-x).exp()),  # the same composition
    ),
    Op(
        "relu",
        F.relu,
        lambda x: np.maximum(x, 0),
        [(3, 4)],
        twin=lambda T, x: x.relu(),
        logits=True,
    ),
    Op(
        "leaky_relu",
        F.leaky_relu,
        lambda x: np.where(x > 0, x, 0.2 * x),
        [(3, 4)],
        twin=lambda T, x: T.nn.functional.leaky_relu(x, 0.2),
        logits=True,
    ),
    Op(
        "softmax",
        F.softmax,
        _softmax,
        [(3, 4)],
        twin=lambda T, x: x.softmax(1),
        logits=True,
    ),
    Op(
        "softmax_axis0",
        lambda x: F.softmax(x, axis=0),
        lambda x: _softmax(x, 0),
        [(3, 4)],
        twin=lambda T, x: x.softmax(0),
        logits=True,
    ),
    Op(
        "softmax_simple",
        F.softmax_simple,
        _softmax,
        [(3, 4)],
        twin=lambda T, x: x.softmax(1),
        logits=True,
    ),
    Op(
        "log_softmax",
        F.log_softmax,
        _log_softmax,
        [(3, 4)],
        twin=lambda T, x: x.log_softmax(1),
        logits=True,
    ),
    Op(
        "log_softmax_last",
        lambda x: F.log_softmax(x, axis=-1),
        lambda x: _log_softmax(x, -1),
        [(2, 3, 4)],
        twin=lambda T, x: x.log_softmax(-1),
        logits=True,
    ),
    Op(
        "softplus",
        lambda x: F.softplus(x, 2.0),
        lambda x: np.log1p(np.exp(2 * x)) / 2,
        [(3, 4)],
        twin=lambda T, x: T.nn.functional.softplus(x, beta=2.0),
        logits=True,
    ),
    Op(
        "gelu",
        F.gelu,
        lambda x: x * 0.5 * (1 + _erf(x / np.sqrt(2))),
        [(3, 4)],
        (-3, 3),
        twin=lambda T, x: T.nn.functional.gelu(x),
    ),
    Op(
        "gelu_tanh",
        lambda x: F.gelu(x, approximate="tanh"),
        lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
        [(3, 4)],
        twin=lambda T, x: T.nn.functional.gelu(x, approximate="tanh"),
    ),
    # losses
    Op(
        "mean_squared_error",
        F.mean_squared_error,
        lambda a, b: ((a - b) ** 2).sum() / len(a),
        [(3, 4), (4,)],
        twin=lambda T, a, b: ((a - b) ** 2).sum() / (a - b).shape[0],
    ),
    Op(
        "mean_squared_error_simple",
        F.mean_squared_error_simple,
        lambda a, b: ((a - b) ** 2).sum() / len(a),
        [(3, 4), (3, 4)],
        twin=lambda T, a, b: ((a - b) ** 2).sum() / (a - b).shape[0],
    ),
    Op(
        "softmax_cross_entropy",
        lambda x: F.softmax_cross_entropy(x, _T),
        lambda x: _sce_ref(x, _T),
        [(4, 3)],
        twin=lambda T, x: T.nn.functional.cross_entropy(x, T.from_numpy(_T)),
        logits=True,
    ),
    Op(
        "softmax_cross_entropy_options",
        lambda x: F.softmax_cross_entropy(x, _T_IGN, ignore_index=-100, label_smoothing=0.1),
        lambda x: _sce_ref(x, _T_IGN, -100, 0.1),
        [(4, 3)],
        twin=lambda T, x: T.nn.functional.cross_entropy(
            x, T.from_numpy(_T_IGN), ignore_index=-100, label_smoothing=0.1
        ),
        logits=True,
    ),
    Op(
        "softmax_cross_entropy_simple",
        lambda x: F.softmax_cross_entropy_simple(x, _T),
        lambda x: _sce_ref(x, _T),
        [(4, 3)],
        twin=lambda T, x: T.nn.functional.cross_entropy(x, T.from_numpy(_T)),
    ),
    Op(
        "sigmoid_cross_entropy",
        F.sigmoid_cross_entropy,
        lambda x, t: (
            -(t * np.log(1 / (1 + np.exp(-x))) + (1 - t) * np.log(1 / (1 + np.exp(x)))).sum()
            / len(x)
        ),
        [(4, 3), (4, 3)],
        [(-3, 3), (0, 1)],
        twin=lambda T, x, t: (
            T.nn.functional.binary_cross_entropy_with_logits(x, t, reduction="sum") / x.shape[0]
        ),
        logits=True,
    ),
    Op(
        "binary_cross_entropy",  # DeZero's clipping to [1e-15, 0.999]: torch has no twin
        F.binary_cross_entropy,
        lambda p, t: -(t * np.log(p) + (1 - t) * np.log(1 - p)).sum() / len(p),
        [(4, 3), (4, 3)],
        [(0.05, 0.95), (0, 1)],
    ),
    # normalization and regularization
    Op(
        "batch_norm",
        lambda x, g, b: F.batch_norm(x, g, b, np.zeros(3, x.dtype), np.ones(3, x.dtype)),
        batch_norm_ref,
        [(5, 3), (3,), (3,)],
        twin=_bn_twin,
    ),
    Op(
        "batch_norm_4d",
        lambda x, g, b: F.batch_nrom(x, g, b, np.zeros(3, x.dtype), np.ones(3, x.dtype)),
        batch_norm_ref,
        [(2, 3, 2, 3), (3,), (3,)],
        twin=_bn_twin,
    ),
    Op(
        "batch_norm_test",
        _bn_test_fn,
        lambda x, g, b: (x - 0.1) / np.sqrt(1.5 + 2e-5) * g + b,
        [(5, 3), (3,), (3,)],
        twin=_bn_test_twin,
    ),
    Op(
        "layer_norm",
        F.layer_norm,
        lambda x, g, b: (
            (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * g + b
        ),
        [(3, 4), (4,), (4,)],
        twin=lambda T, x, g, b: T.nn.functional.layer_norm(x, g.shape, g, b, eps=1e-5),
    ),
    Op("dropout", _dropout_fn, _dropout_ref, [(3, 4)]),  # NumPy's RNG: no torch twin
    # convolution and pooling
    Op(
        "conv2d",
        lambda x, W, b: F.conv2d(x, W, b, stride=2, pad=1),
        lambda x, W, b: conv2d_ref(x, W, b, 2, 1),
        [(2, 2, 5, 5), (3, 2, 3, 3), (3,)],
        twin=lambda T, x, W, b: T.nn.functional.conv2d(x, W, b, stride=2, padding=1),
    ),
    Op(
        "conv2d_simple",
        lambda x, W, b: F.conv2d_simple(x, W, b, stride=1, pad=1),
        lambda x, W, b: conv2d_ref(x, W, b, 1, 1),
        [(1, 2, 4, 4), (3, 2, 3, 3), (3,)],
        twin=lambda T, x, W, b: T.nn.functional.conv2d(x, W, b, stride=1, padding=1),
    ),
    Op(
        "deconv2d",
        lambda x, W, b: F.deconv2d(x, W, b, stride=2, pad=1),
        lambda x, W, b: deconv2d_ref(x, W, b, 2, 1),
        [(2, 2, 3, 3), (2, 3, 3, 3), (3,)],
        twin=lambda T, x, W, b: T.nn.functional.conv_transpose2d(x, W, b, stride=2, padding=1),
        edge_shapes=(("empty_batch", ((0, 2, 3, 3), (2, 3, 3, 3), (3,))),),
    ),
    Op(
        "pooling",
        lambda x: F.pooling(x, 3, stride=2, pad=1),
        lambda x: _windows(x, 3, 2, 1, -np.inf).max(axis=(4, 5)),
        [(2, 2, 5, 5)],
        twin=lambda T, x: T.nn.functional.max_pool2d(x, 3, 2, 1),
    ),
    Op(  # ties share the gradient (``max``'s rule), where torch's max_pool2d picks one
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
        twin=lambda T, x: T.nn.functional.avg_pool2d(x, 3, 2, 1, count_include_pad=True),
    ),
    Op(
        "im2col",
        lambda x: F.im2col(x, 3, 2, 1),
        lambda x: im2col_ref(x, 3, 2, 1),
        [(2, 2, 5, 5)],
        twin=lambda T, x: (
            T.nn.functional.unfold(x, 3, padding=1, stride=2).transpose(1, 2).reshape(-1, 18)
        ),
    ),
    Op(
        "col2im",
        lambda c: F.col2im(c, (2, 2, 5, 5), 3, 2, 1),
        lambda c: col2im_ref(c, (2, 2, 5, 5), 3, 2, 1),
        [(18, 18)],
        twin=lambda T, c: T.nn.functional.fold(
            c.reshape(2, 9, 18).transpose(1, 2), (5, 5), 3, padding=1, stride=2
        ),
    ),
]


# -- the edge dimension -------------------------------------------------------------------------
#: Each row is also run on these inputs (``edge_inputs``): 0-d, a zero-size batch (axis 0), a
#: zero-size last axis (the reduced one for most rows), +-0, +-inf and NaN entries, values
#: rounded to integers (ties for max, maximum, pooling; zeros for relu and abs), and for
#: ``logits`` rows float32 logits of magnitude 1e4.
EDGE_KINDS = ("0d", "empty_batch", "empty_axis", "zeros", "infs", "nan", "ties", "huge")


def _special(x: np.ndarray, first: float, last: float) -> np.ndarray:
    x = x.copy()
    if x.size:
        x.flat[0] = first
        x.flat[-1] = last if x.size > 1 else first
    return x


def edge_inputs(op: Op, kind: str) -> list[np.ndarray] | None:
    """The row's inputs turned into edge inputs of ``kind`` (None: the kind does not apply)."""
    xs = op.inputs()
    shapes = dict(op.edge_shapes)
    if kind in shapes:
        rng = np.random.default_rng(2)
        return [rng.uniform(-2.0, 2.0, size=s) for s in shapes[kind]]
    if kind == "0d":
        return [np.asarray(x.flat[0]) for x in xs]
    if kind in ("empty_batch", "empty_axis"):
        if xs[0].ndim == 0:
            return None
        axis = 0 if kind == "empty_batch" else -1
        n = xs[0].shape[axis]
        out = []
        for i, x in enumerate(xs):
            shape = list(x.shape)
            # the first input, and the others that share its length on that axis
            if i == 0 or (x.ndim and shape[axis] == n and (axis == -1 or x.ndim == xs[0].ndim)):
                shape[axis] = 0
            out.append(np.zeros(shape) if shape != list(x.shape) else x)
        return out
    if kind == "zeros":
        return [_special(x, 0.0, -0.0) for x in xs]
    if kind == "infs":
        return [_special(x, np.inf, -np.inf) for x in xs]
    if kind == "nan":  # the first input's first entry, and the last input's last one
        xs[0] = _special(xs[0], np.nan, xs[0].flat[-1] if xs[0].size else np.nan)
        if len(xs) > 1 and xs[-1].size:
            xs[-1] = _special(xs[-1], xs[-1].flat[0], np.nan)
        return xs
    if kind == "ties":
        return [np.asarray(np.round(x)) for x in xs]
    if kind == "huge":
        return [(x * 1e4).astype(np.float32) for x in xs] if op.logits else None
    raise ValueError(kind)


def function_names(op: Op) -> list[str]:
    """The public functions a row's error may name: those whose name starts the row's."""
    return [n for n in F.__all__ if op.name == n or op.name.startswith(n + "_")]
