"""``UnaryElementwise``, the base of zerograd's one-input elementwise functions."""

from __future__ import annotations

from zerograd.autograd.function import Function


class UnaryElementwise(Function):
    """Base of one-input elementwise functions (``sin``, ``relu``, ``x * 2``): a subclass
    writes ``forward``, ``backward`` and what backward reads, nothing else.

    - ``forward(self, x)`` computes on the array ``x`` with ``self.xp`` (NumPy, or CuPy for
      CuPy inputs) and elementwise operations only: ufuncs, operators, ``clip``. On NumPy 2 a
      0-d float ``x`` comes as a NumPy scalar; a forward that must not get one (indexing,
      assignment through a mask, scalar math that differs from the array loop) sets
      ``elementwise = False``.
    - ``backward(self, gy)`` returns the gradient of ``x``, in ``x``'s shape, written with
      ``self.ops`` (NumPy's names: on raw arrays by default, differentiable functions under
      ``create_graph=True``) and ``self.saved_input(0)`` / ``self.saved_output(0)``.
    - ``retained_inputs = (0,)`` / ``retained_outputs = (0,)`` name what backward reads;
      nothing else is kept after the call.

    The class sets ``array_backward`` (backward returns raw arrays on the fast path),
    ``elementwise`` and ``check_shapes = False`` (the gradient comes in the input's shape). It
    defines neither ``forward`` nor ``backward``: a subclass's backward keeps the engine's short
    path.

    >>> import numpy as np
    >>> import zerograd as zg
    >>> class Softsign(UnaryElementwise):
    ...     retained_inputs = (0,)
    ...
    ...     def forward(self, x):
    ...         return x / (1 + self.xp.abs(x))
    ...
    ...     def backward(self, gy):
    ...         return gy / (1 + self.ops.abs(self.saved_input(0))) ** 2
    >>> x = zg.Variable(np.array([-3.0, 1.0]))
    >>> y = Softsign()(x)
    >>> y.backward()
    >>> y, x.grad
    (variable([-0.75  0.5 ]), variable([0.0625 0.25  ]))
    """

    array_backward = True
    elementwise = True
    check_shapes = False
