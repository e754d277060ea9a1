"""Normalization and regularization: ``batch_norm`` (alias ``batch_nrom``), ``layer_norm``,
``dropout``.

``batch_norm``'s forward and running-statistics update are DeZero's, step for step; its
backward is written with differentiable functions, so it is twice differentiable.
"""

from __future__ import annotations

from typing import Any

from zerograd import cuda
from zerograd.autograd.config import Config, backprop_enabled
from zerograd.autograd.function import Function
from zerograd.autograd.variable import Variable, as_variable
from zerograd.functions._util import shape_error
from zerograd.functions.reduction import mean


def dropout(x: Any, dropout_ratio: float = 0.5) -> Variable:
    """Zero each element with probability ``dropout_ratio`` and scale the rest by
    ``1 / (1 - dropout_ratio)`` in training; the identity in ``test_mode()``.

    The mask is DeZero's ``np.random.rand(*x.shape) > dropout_ratio``, drawn from NumPy's (or
    CuPy's) global RNG, so a seeded DeZero program draws the same numbers.
    """
    x = as_variable(x)
    if not 0.0 <= dropout_ratio <= 1.0:
        raise ValueError(f"dropout: dropout_ratio must be in [0, 1], got {dropout_ratio}")
    if not Config.train:
        return x
    xp = cuda.get_array_module(x.data)
    mask = xp.random.rand(*x.shape) > dropout_ratio
    if dropout_ratio == 1.0:
        return x * mask  # everything dropped (and no division by zero)
    scale = xp.array(1.0 - dropout_ratio).astype(x.dtype)
    return x * mask / scale


def _stat_array(stat: Any) -> Any:
    return stat.data if isinstance(stat, Variable) else stat


class BatchNorm(Function):
    """Normalize ``x`` (N, C) or (N, C, H, W) per channel C, then scale and shift."""

    array_backward = True
    check_shapes = False

    def __init__(self, mean: Any, var: Any, decay: float, eps: float) -> None:
        self.avg_mean = mean
        self.avg_var = var
        self.decay = decay
        self.eps = eps
        self.train = bool(Config.train)

    def forward(self, x: Any, gamma: Any, beta: Any) -> Any:
        self._check(x, gamma, beta)
        needs = self.needs_grad
        self.retain_inputs(0, *((1,) if needs[0] else ()))
        x_ndim = x.ndim
        if x_ndim == 4:
            N, C, H, W = x.shape
            x = x.transpose(0, 2, 3, 1).reshape(-1, C)  # (N, C, H, W) -> (N*H*W, C)
        xp = self.xp
        avg_mean, avg_var = _stat_array(self.avg_mean), _stat_array(self.avg_var)
        if self.train:
            mean = x.mean(axis=0)
            var = x.var(axis=0)
            inv_std = 1 / xp.sqrt(var + self.eps)
            xc = (x - mean) * inv_std

            m = x.size // gamma.size
            s = m - 1.0 if m - 1.0 > 1.0 else 1.0
            adjust = m / s  # unbiased estimate for the running variance
            avg_mean *= self.decay
            avg_mean += (1 - self.decay) * mean
            avg_var *= self.decay
            avg_var += (1 - self.decay) * adjust * var
            for stat in (self.avg_mean, self.avg_var):
                if isinstance(stat, Variable):
                    stat.bump_version()
        else:
            inv_std = 1 / xp.sqrt(avg_var + self.eps)
            mean = avg_mean.copy()  # the running statistics may change before backward
            xc = (x - avg_mean) * inv_std
        self.mean, self.inv_std = mean, inv_std
        self.avg_mean = self.avg_var = None  # not needed any more
        y = gamma * xc + beta
        if x_ndim == 4:
            y = y.reshape(N, H, W, C).transpose(0, 3, 1, 2)  # back to (N, C, H, W)
        return y

    def _check(self, x: Any, gamma: Any, beta: Any) -> None:
        if x.ndim not in (2, 4):
            raise ValueError(f"batch_norm: x must be 2-D (N, C) or 4-D (N, C, H, W), got {x.shape}")
        C = x.shape[1]
        stats = [_stat_array(self.avg_mean), _stat_array(self.avg_var)]
        for name, a in (("gamma", gamma), ("beta", beta), ("mean", stats[0]), ("var", stats[1])):
            if tuple(a.shape) != (C,):
                raise shape_error("batch_norm", x, a, expected=f"{name} of shape ({C},)")

    def backward(self, gy: Any) -> Any:
        ops = self.ops
        x = self.saved_input(0)
        needs = self.needs_grad
        four_d = x.ndim == 4
        if four_d:
            N, C, H, W = x.shape
            x = ops.reshape(ops.transpose(x, (0, 2, 3, 1)), (-1, C))
            gy = ops.reshape(ops.transpose(gy, (0, 2, 3, 1)), (-1, C))
        m = x.shape[0]
        if self.train and backprop_enabled():
            # Recorded backward: the statistics are functions of x, so differentiate them too.
            mu = ops.mean(x, axis=0)
            xc = x - mu
            inv_std = (ops.mean(xc * xc, axis=0) + self.eps) ** -0.5
            xhat = xc * inv_std
        else:
            inv_std = self.inv_std
            xhat = (x - self.mean) * inv_std
        gbeta = ops.sum(gy, axis=0)
        ggamma = ops.sum(xhat * gy, axis=0)
        gx = None
        if needs[0]:
            scale = self.saved_input(1) * inv_std
            if self.train:
                gx = (gy - gbeta / m - xhat * ggamma / m) * scale
            else:
                gx = gy * scale
            if four_d:
                gx = ops.transpose(ops.reshape(gx, (N, H, W, C)), (0, 3, 1, 2))
        return gx, (ggamma if needs[1] else None), (gbeta if needs[2] else None)


def batch_norm(
    x: Any, gamma: Any, beta: Any, mean: Any, var: Any, decay: float = 0.9, eps: float = 2e-5
) -> Variable:
    """Batch normalization: ``gamma * (x - mu) / sqrt(sigma2 + eps) + beta`` per channel.

    In training (``Config.train``) ``mu``/``sigma2`` are the batch's statistics and the running
    ``mean``/``var`` (arrays, or Variables holding them) are updated in place:
    ``mean = decay * mean + (1 - decay) * mu`` and likewise ``var`` with the unbiased batch
    variance. In ``test_mode()`` the running statistics are used.
    """
    return BatchNorm(mean, var, decay, eps)(x, gamma, beta)


batch_nrom = batch_norm  # DeZero's spelling, which DeZero's own BatchNorm layer calls


def layer_norm(x: Any, gamma: Any = None, beta: Any = None, eps: float = 1e-5) -> Variable:
    """Normalize over the trailing axes that ``gamma`` spans (the last axis when ``gamma`` is
    None): ``(x - mean) / sqrt(var + eps) * gamma + beta``, with the biased variance
    (PyTorch's ``layer_norm``)."""
    x = as_variable(x)
    k = 1 if gamma is None else max(gamma.ndim, 1)
    for name, p in (("gamma", gamma), ("beta", beta)):
        if p is not None and tuple(p.shape) != tuple(x.shape[x.ndim - k :]):
            raise shape_error(
                "layer_norm", x, p, expected=f"{name} of x's trailing shape {x.shape[-k:]}"
            )
    if x.ndim < k:
        raise shape_error("layer_norm", x, expected=f"at least {k} dimension(s)")
    axes = tuple(range(x.ndim - k, x.ndim))
    xc = x - mean(x, axes, keepdims=True)
    y = xc * (mean(xc * xc, axes, keepdims=True) + eps) ** -0.5
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y
