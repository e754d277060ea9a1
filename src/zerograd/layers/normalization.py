"""``BatchNorm``: batch normalization with running statistics kept as buffers."""

from __future__ import annotations

from typing import Any

import zerograd.functions as F
from zerograd import cuda
from zerograd.autograd.config import Config
from zerograd.autograd.variable import Parameter, Variable
from zerograd.functions.normalization import check_batch_statistics
from zerograd.layers.layer import Layer

__all__ = ["BatchNorm"]


class BatchNorm(Layer):
    """Batch normalization over axis 1 of 2-D ``(N, C)`` or 4-D ``(N, C, H, W)`` input.

    In training (``Config.train``) it normalizes with the batch statistics and updates the
    running ``avg_mean``/``avg_var`` (``avg = decay * avg + (1 - decay) * batch``, unbiased
    variance); in ``test_mode()`` it uses the running statistics. ``gamma`` and ``beta`` are
    parameters; ``avg_mean`` and ``avg_var`` are *buffers* (DeZero makes them Parameters):
    saved under DeZero's keys, never handed to an optimizer. All four are created at the
    first call, sized ``C`` with the input's dtype.
    """

    avg_mean: Variable  # buffers (register_buffer)
    avg_var: Variable

    def __init__(self, decay: float = 0.9, eps: float = 2e-5) -> None:
        super().__init__()
        self.decay = decay
        self.eps = eps
        self.register_buffer("avg_mean", Variable(None, name="avg_mean"))
        self.register_buffer("avg_var", Variable(None, name="avg_var"))
        self.gamma = Parameter(None, name="gamma")
        self.beta = Parameter(None, name="beta")

    def _init_params(self, x: Any) -> None:
        xp = cuda.get_array_module(x)
        D = x.shape[1]
        if self.avg_mean.data is None:
            self.avg_mean.data = xp.zeros(D, dtype=x.dtype)
        if self.avg_var.data is None:
            self.avg_var.data = xp.ones(D, dtype=x.dtype)
        if self.gamma.data is None:
            self.gamma.data = xp.ones(D, dtype=x.dtype)
        if self.beta.data is None:
            self.beta.data = xp.zeros(D, dtype=x.dtype)

    def forward(self, x: Any) -> Variable:
        if x.ndim not in (2, 4):
            raise ValueError(
                f"BatchNorm: expected input of shape (N, C) or (N, C, H, W), got shape "
                f"{tuple(x.shape)}"
            )
        if Config.train:  # before anything is created or updated
            check_batch_statistics("BatchNorm", x.shape)
        if self.avg_mean.data is None or self.gamma.data is None:
            self._init_params(x)
        if x.shape[1] != self.gamma.data.shape[0]:
            raise ValueError(
                f"BatchNorm: input of shape {tuple(x.shape)} has {x.shape[1]} channels; this "
                f"layer was built for {self.gamma.data.shape[0]}"
            )
        # In training batch_norm updates the buffers in place and bumps their versions.
        return F.batch_norm(
            x, self.gamma, self.beta, self.avg_mean, self.avg_var, self.decay, self.eps
        )

    def extra_repr(self) -> str:
        size = None if self.gamma.data is None else self.gamma.data.shape[0]
        return f"size={size}, decay={self.decay}, eps={self.eps}"
