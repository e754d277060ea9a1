"""``RNN`` and ``LSTM``: recurrent layers that keep their state between calls."""

from __future__ import annotations

from typing import Any

import zerograd.functions as F
from zerograd.autograd.variable import Variable
from zerograd.layers.layer import Layer
from zerograd.layers.linear import Linear

__all__ = ["LSTM", "RNN"]


class RNN(Layer):
    """Elman RNN: ``h = tanh(x @ Wx + bx + h_prev @ Wh)``; call ``reset_state()`` between
    sequences.

    DeZero builds ``h2h`` with ``in_size=in_size`` (a shape error whenever ``in_size`` is
    given and differs from ``hidden_size``); here ``h2h`` maps ``hidden_size`` to
    ``hidden_size``. Weights are drawn at the same points as DeZero's (``h2h`` lazily at the
    second step when ``in_size`` is None), so seeded runs print the book's numbers.
    """

    def __init__(self, hidden_size: int, in_size: int | None = None) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.x2h = Linear(hidden_size, in_size=in_size)
        self.h2h = Linear(
            hidden_size, in_size=None if in_size is None else hidden_size, nobias=True
        )
        self.h: Variable | None = None

    def reset_state(self) -> None:
        self.h = None

    def forward(self, x: Any) -> Variable:
        if self.h is None:
            h_new = F.tanh(self.x2h(x))
        else:
            h_new = F.tanh(self.x2h(x) + self.h2h(self.h))
        self.h = h_new
        return h_new

    def extra_repr(self) -> str:
        return f"hidden_size={self.hidden_size}"

    def _repr_children(self) -> list[tuple[str, Any]]:
        return []


class LSTM(Layer):
    """Long short-term memory layer (DeZero's gates; no peepholes).

    ``f, i, o = sigmoid(x @ Wx* + bx* + h @ Wh*)``, ``u = tanh(x @ Wxu + bxu + h @ Whu)``,
    ``c = f * c_prev + i * u``, ``h = o * tanh(c)``. On the first step after
    ``reset_state()`` the ``h``/``c`` terms are absent (a zero initial state).
    Parameters, in order: ``x2f x2i x2o x2u`` (``W``, ``b``), then ``h2f h2i h2o h2u`` (``W``).
    """

    def __init__(self, hidden_size: int, in_size: int | None = None) -> None:
        super().__init__()
        H = hidden_size
        self.hidden_size = hidden_size
        self.x2f = Linear(H, in_size=in_size)
        self.x2i = Linear(H, in_size=in_size)
        self.x2o = Linear(H, in_size=in_size)
        self.x2u = Linear(H, in_size=in_size)
        self.h2f = Linear(H, in_size=H, nobias=True)
        self.h2i = Linear(H, in_size=H, nobias=True)
        self.h2o = Linear(H, in_size=H, nobias=True)
        self.h2u = Linear(H, in_size=H, nobias=True)
        self.reset_state()

    def reset_state(self) -> None:
        self.h: Variable | None = None
        self.c: Variable | None = None

    def forward(self, x: Any) -> Variable:
        if self.h is None:
            f = F.sigmoid(self.x2f(x))
            i = F.sigmoid(self.x2i(x))
            o = F.sigmoid(self.x2o(x))
            u = F.tanh(self.x2u(x))
        else:
            f = F.sigmoid(self.x2f(x) + self.h2f(self.h))
            i = F.sigmoid(self.x2i(x) + self.h2i(self.h))
            o = F.sigmoid(self.x2o(x) + self.h2o(self.h))
            u = F.tanh(self.x2u(x) + self.h2u(self.h))
        c_new = i * u if self.c is None else f * self.c + i * u
        h_new = o * F.tanh(c_new)
        self.h, self.c = h_new, c_new
        return h_new

    def extra_repr(self) -> str:
        return f"hidden_size={self.hidden_size}"

    def _repr_children(self) -> list[tuple[str, Any]]:
        return []
