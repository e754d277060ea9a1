"""Losses and metrics: ``mean_squared_error softmax_cross_entropy sigmoid_cross_entropy
binary_cross_entropy accuracy`` and DeZero's ``_simple`` variants.

``mean_squared_error`` and ``softmax_cross_entropy`` compute DeZero's forward step for step;
``sigmoid_cross_entropy`` uses the stable form ``max(x, 0) - x t + log(1 + exp(-|x|))``,
which stays finite for confident logits where DeZero's ``log(sigmoid(x))`` gives inf/NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zerograd import cuda
from zerograd.autograd.function import Function
from zerograd.autograd.variable import Variable, as_array, as_variable
from zerograd.functions._util import array_of, check_labels, logsumexp_array, shape_error
from zerograd.functions.activation import Sigmoid, Softmax, softmax
from zerograd.functions.elementwise import clip, log
from zerograd.functions.reduction import sum


class MeanSquaredError(Function):
    array_backward = True
    retained_inputs = (0, 1)

    def forward(self, x0: Any, x1: Any) -> Any:
        try:
            diff = x0 - x1
        except ValueError:
            raise shape_error(
                "mean_squared_error", x0, x1, expected="shapes that broadcast"
            ) from None
        if diff.ndim == 0:
            raise shape_error("mean_squared_error", x0, x1, expected="a batch axis (ndim >= 1)")
        y = (diff**2).sum() / len(diff)
        return self.xp.asarray(y, dtype=diff.dtype)

    def backward(self, gy: Any) -> Any:
        diff = self.saved_input(0) - self.saved_input(1)
        # diff has the broadcast shape; the base class sums each gradient back to its input's
        # shape (DeZero returned the broadcast shape: wrong for broadcasting inputs).
        gx0 = gy * diff * (2.0 / len(diff))
        n0, n1 = self.needs_grad
        return (gx0 if n0 else None), (-gx0 if n1 else None)


def mean_squared_error(x0: Any, x1: Any) -> Variable:
    """``sum((x0 - x1)**2) / len(x0 - x1)``: squared error summed, averaged over the batch."""
    return MeanSquaredError()(x0, x1)


def mean_squared_error_simple(x0: Any, x1: Any) -> Variable:
    """``mean_squared_error`` composed from basic functions (DeZero's version)."""
    x0, x1 = as_variable(x0), as_variable(x1)
    diff = x0 - x1
    return sum(diff**2) / len(diff)


class SoftmaxCrossEntropy(Function):
    array_backward = True
    check_shapes = False
    retained_inputs = (0,)
    p: Any = None  # the forward's softmax until backward takes it

    def __init__(self, t: Any, ignore_index: int | None, label_smoothing: float) -> None:
        # The labels are a parameter, not an input: they take no gradient and no graph edge.
        self.labels = t
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, x: Any) -> Any:
        t = self.labels
        if x.ndim != 2:
            raise ValueError(
                f"softmax_cross_entropy: x must be 2-D (batch, classes), got shape {x.shape}"
            )
        xp = self.xp
        N, C = x.shape
        t = check_labels("softmax_cross_entropy", t, N, C, self.ignore_index)
        if self.ignore_index is None and not self.label_smoothing:
            # DeZero's computation, step for step: logsumexp shares max, exp and sum with the
            # softmax that backward needs, which is kept (values identical to DeZero's).
            m = x.max(axis=1, keepdims=True)
            e = x - m
            xp.exp(e, out=e)
            s = e.sum(axis=1, keepdims=True)
            log_z = m + xp.log(s)
            if self.needs_grad[0]:
                e /= s
                self.p = e
            self.t = t
            self.rows = rows = xp.arange(N)  # backward reuses it
            # (x - log_z)[i, t_i] == x[i, t_i] - log_z[i]: gather first, subtract N values
            log_p = x[rows, t] - log_z[:, 0]
            return -log_p.sum() / np.float32(N)
        log_z = logsumexp_array(xp, x, 1)
        log_p = x - log_z
        valid = xp.ones(N, dtype=bool) if self.ignore_index is None else t != self.ignore_index
        self.t = xp.where(valid, t, 0)
        self.valid = valid
        count = int(valid.sum())
        eps = self.label_smoothing
        loss = -log_p[xp.arange(N), self.t] * (1 - eps)
        if eps:
            loss = loss - log_p.mean(axis=1) * eps
        # With every label ignored the mean is 0/0: NaN, as in PyTorch.
        return (loss * valid).sum() / (np.float32(count) if count else np.float32(np.nan))

    def backward(self, gy: Any) -> Any:
        x = self.saved_input(0)
        N, C = x.shape
        plain = self.ignore_index is None and not self.label_smoothing
        p = self.p  # the forward's softmax, good for one fast backward
        if p is not None:
            self.p = None
        if p is None or isinstance(gy, Variable):
            p = self.ops.apply(Softmax(1), x)
        if plain and not isinstance(p, Variable):
            # Fast path: subtract the one-hot target in place (same values as p - eye[t]).
            p[self.rows, self.t] -= 1
            p *= gy * (1 / N)
            return p
        target = self.xp.eye(C, dtype=array_of(x).dtype)[self.t]
        if plain:
            return (p - target) * (gy * (1 / N))
        eps = self.label_smoothing
        if eps:
            target = target * (1 - eps) + eps / C
        count = int(self.valid.sum())
        valid = self.valid[:, None].astype(target.dtype)
        return (p - target) * valid * (gy * (1 / count if count else np.nan))


def softmax_cross_entropy(
    x: Any, t: Any, ignore_index: int | None = None, label_smoothing: float = 0.0
) -> Variable:
    """Mean over the batch of ``-log softmax(x)[i, t[i]]`` for logits ``x`` (N, C) and integer
    labels ``t`` (N,), computed stably (logits of +-1000 are fine).

    ``ignore_index``: rows whose label equals it contribute nothing and the mean is over the
    other rows (pass -100 for PyTorch's convention). ``label_smoothing`` (eps): the target is
    ``(1 - eps) * one_hot + eps / C``, as in PyTorch.
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"softmax_cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}"
        )
    t = array_of(t)
    if not hasattr(t, "dtype"):
        t = np.asarray(t)
    if cuda.cupy is not None:  # the labels are no input, so check their device here
        cuda.check_same_device("SoftmaxCrossEntropy", [array_of(x), t])
    return SoftmaxCrossEntropy(t, ignore_index, label_smoothing)(x)


def softmax_cross_entropy_simple(x: Any, t: Any) -> Variable:
    """``softmax_cross_entropy`` composed from ``softmax``, ``clip``, ``log`` and indexing
    (DeZero's version; probabilities are clipped at 1e-15 to avoid ``log(0)``)."""
    x, t = as_variable(x), as_variable(t)
    N = x.shape[0]
    labels = check_labels("softmax_cross_entropy_simple", t.data, N, x.shape[1])
    p = softmax(x)
    p = clip(p, 1e-15, 1.0)
    log_p = log(p)
    tlog_p = log_p[np.arange(N), labels]
    return -1 * sum(tlog_p) / N


class SigmoidCrossEntropy(Function):
    array_backward = True
    retained_inputs = (0, 1)

    def forward(self, x: Any, t: Any) -> Any:
        xp = self.xp
        # -t log(sigmoid x) - (1 - t) log(1 - sigmoid x), rewritten so that nothing overflows.
        loss = xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))
        return xp.asarray(loss.sum() / len(x), dtype=loss.dtype)

    def backward(self, gy: Any) -> Any:
        x, t = self.saved_input(0), self.saved_input(1)
        scale = gy * (1 / len(x))
        n0, n1 = self.needs_grad
        gx = (self.ops.apply(Sigmoid(), x) - t) * scale if n0 else None
        gt = -x * scale if n1 else None
        return gx, gt


def sigmoid_cross_entropy(x: Any, t: Any) -> Variable:
    """Binary cross entropy of logits ``x`` against targets ``t`` in [0, 1], summed and divided
    by the batch size ``len(x)``: ``sum(max(x,0) - x t + log(1 + exp(-|x|))) / N``."""
    if x.ndim != t.ndim:
        t = t.reshape(*x.shape)
    if x.ndim == 0 or x.shape != t.shape:
        raise shape_error("sigmoid_cross_entropy", x, t, expected="x and t of one shape (N, ...)")
    return SigmoidCrossEntropy()(x, t)


def binary_cross_entropy(p: Any, t: Any) -> Variable:
    """Binary cross entropy of probabilities ``p`` against targets ``t``, summed and divided by
    ``len(t)``; ``p`` is clipped to ``[1e-15, 0.999]`` first (DeZero's computation)."""
    if p.ndim != t.ndim:
        t = t.reshape(*p.shape)
    if p.ndim == 0 or p.shape != t.shape:
        raise shape_error("binary_cross_entropy", p, t, expected="p and t of one shape (N, ...)")
    N = len(t)
    p = clip(p, 1e-15, 0.999)
    tlog_p = t * log(p) + (1 - t) * log(1 - p)
    return -1 * sum(tlog_p) / N


def accuracy(y: Any, t: Any) -> Variable:
    """Fraction of rows whose largest score ``y.argmax(axis=1)`` equals the label ``t``
    (not differentiable)."""
    y, t = as_variable(y), as_variable(t)
    if y.ndim < 2 or y.shape[0] != t.size:
        raise shape_error("accuracy", y, t, expected="scores (N, C, ...) and N labels")
    pred = y.data.argmax(axis=1).reshape(t.shape)
    result = pred == t.data
    acc = result.mean()
    return Variable(as_array(acc))
