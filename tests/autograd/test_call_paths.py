"""``Function.__call__``'s fast path (one or two NumPy Variables into one of zerograd's own
functions) and its general path record the same call.

Each case makes one call twice on the same upstream graph: once with plain ``Variable`` inputs
(the fast path) and once with the same inputs seen through a ``Variable`` subclass (the
general path), then compares everything the call keeps and what backward computes from it.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import zerograd as zg
import zerograd.functions as F
from zerograd.autograd import Function, Variable, keep_inputs
from zerograd.autograd.function import Constant
from zerograd.autograd.variable import Parameter

# zerograd's Variable classes, and a subclass of each that the fast path does not take.
GENERAL = {
    cls: type(f"General{cls.__name__}", (cls,), {}) for cls in (Variable, Constant, Parameter)
}


class SinCosOf2(Function):
    """Two inputs, two outputs: the fast path hands a tuple result to ``_record``."""

    array_backward = True
    retained_inputs = (0, 1)

    def forward(self, a: Any, b: Any) -> Any:
        return self.xp.sin(a) * b, self.xp.cos(a) + b

    def backward(self, g0: Any, g1: Any) -> Any:
        a, b = self.saved_input(0), self.saved_input(1)
        ops = self.ops
        ga = gb = None
        if g0 is not None:
            ga, gb = g0 * ops.cos(a) * b, g0 * ops.sin(a)
        if g1 is not None:
            ga = -g1 * ops.sin(a) if ga is None else ga - g1 * ops.sin(a)
            gb = g1 if gb is None else gb + g1
        return ga, gb


class Shifts(Function):
    """``x + 0.25`` and ``x + 0.5``: a node with two outputs to feed the calls."""

    array_backward = True

    def forward(self, x: Any) -> Any:
        return x + 0.25, x + 0.5

    def backward(self, g0: Any, g1: Any) -> Any:
        return g1 if g0 is None else g0 if g1 is None else g0 + g1


OPS: dict[str, Callable[..., Any]] = {
    "sin": F.sin,
    "tanh": F.tanh,  # keeps its output
    "square": F.square,  # keeps its input
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,  # keeps what the wanted gradients need
    "div": lambda a, b: a / b,
    "matmul": F.matmul,  # not elementwise
    "sincos2": lambda a, b: SinCosOf2()(a, b),
}
ARITY = {name: 1 if name in ("sin", "tanh", "square") else 2 for name in OPS}

# What feeds the call: a leaf, a leaf that wants no gradient, a constant, a parameter, output
# 0 / output 1 of a node.
KINDS = ("leaf", "frozen", "constant", "param", "out0", "out1")
SHAPES = {"0d": ((), ()), "same": ((2, 2), (2, 2)), "broadcast": ((2, 2), (2,))}
MODES = ("plain", "no_grad", "keep_inputs", "anomaly")


def _mode(mode: str) -> contextlib.AbstractContextManager[Any]:
    return {
        "plain": contextlib.nullcontext(),
        "no_grad": zg.no_grad(),
        "keep_inputs": keep_inputs(),
        "anomaly": zg.detect_anomaly(),
    }[mode]


def _input(kind: str, shape: tuple[int, ...], dtype: str, seed: int) -> tuple[Variable, list[Any]]:
    """An input of ``kind`` and the leaves behind it."""
    data = np.asarray(np.random.default_rng(seed).uniform(0.5, 1.5, size=shape), dtype=dtype)
    if kind in ("leaf", "frozen", "constant", "param"):
        v = {"constant": Constant, "param": Parameter}.get(kind, Variable)(data)
        if kind == "frozen":
            v.requires_grad = False
        return v, [v]
    leaf = Variable(np.asarray(data - 0.25))
    return Shifts()(leaf)[1 if kind == "out1" else 0], [leaf]


def _record(f: Function) -> dict[str, Any]:
    return {
        "needs_grad": f.needs_grad,
        "edges": f.edges(),
        "shapes": f.input_shapes(),
        "dtypes": f.input_dtypes(),
        "generation": f.generation,
        "check_shapes": f.check_shapes,
        "n_outputs": len(f.outputs),
    }


def _call(name: str, inputs: list[Variable], general: bool) -> Any:
    classes = [v.__class__ for v in inputs]
    if general:
        for v in inputs:
            v.__class__ = GENERAL[v.__class__]
    try:
        return OPS[name](*inputs)
    finally:
        for v, cls in zip(inputs, classes, strict=True):
            v.__class__ = cls


def _outputs(y: Any) -> list[Variable]:
    return list(y) if isinstance(y, list) else [y]


CASES = [
    (name, kinds, shapes, dtypes, mode)
    for name in OPS
    for kinds in itertools.product(KINDS, repeat=ARITY[name])
    for shapes in (["same"] if name == "matmul" else SHAPES)
    for dtypes in (("float64", "float64"), ("float32", "float64"))
    for mode in MODES
]


@pytest.mark.parametrize(("name", "kinds", "shapes", "dtypes", "mode"), CASES)
def test_the_fast_and_the_general_path_record_the_same_call(
    name: str, kinds: tuple[str, ...], shapes: str, dtypes: tuple[str, str], mode: str
) -> None:
    built = [_input(k, SHAPES[shapes][i], dtypes[i], i) for i, k in enumerate(kinds)]
    inputs = [v for v, _ in built]
    leaves = [leaf for _, group in built for leaf in group]
    with _mode(mode):
        fast = _call(name, inputs, general=False)
        general = _call(name, inputs, general=True)
    ys_fast, ys_general = _outputs(fast), _outputs(general)
    for a, b in zip(ys_fast, ys_general, strict=True):
        assert type(a) is type(b)
        assert a.data.__class__ is b.data.__class__ is np.ndarray
        assert a.data.dtype == b.data.dtype and a.data.shape == b.data.shape
        np.testing.assert_array_equal(a.data, b.data)
    f, g = ys_fast[0].creator, ys_general[0].creator
    assert (f is None) == (g is None)
    if f is None:
        return  # not recorded (no_grad, or nothing wants a gradient): nothing kept
    assert _record(f) == _record(g)
    if mode == "keep_inputs":
        assert [v is w for v, w in zip(f.inputs, g.inputs, strict=True)] == [True] * len(inputs)
    wanted = [leaf for leaf in leaves if leaf.requires_grad]
    if not wanted:
        return
    grads = []
    for ys in (ys_fast, ys_general):  # backward reads what each call kept
        seeds = [Variable(np.ones_like(y.data)) for y in ys]
        grads.append(zg.autograd.grad(ys, wanted, seeds, allow_unused=True))
    for a, b in zip(*grads, strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.data.dtype == b.data.dtype
            np.testing.assert_array_equal(a.data, b.data)
