"""Every function with an axis-like argument (``axis``, ``axes``, ``shape``, sections, window
sizes) against one set of bad values: any integer counts (NumPy's included, with the same
result); a bool, a float, a string, an axis out of range and a repeated axis are refused with
an error naming the function and the argument (``normalize_axis`` and friends in
``zerograd.functions._util``, shared by all of them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import zerograd.functions as F
from zerograd import Variable, utils

X = np.arange(24.0).reshape(2, 3, 4)
IMG = np.arange(2 * 2 * 5 * 5.0).reshape(2, 2, 5, 5)
W = np.ones((3, 2, 3, 3))


@dataclass(frozen=True)
class AxisArg:
    """``call(value)`` runs ``name`` with ``value`` as its argument ``arg``; ``good`` is a valid
    integer value (a tuple of them for ``kind`` "axes" and "shape"). ``kind``: "axis" (one
    integer), "axes" (an integer or a tuple; a repeat is refused), "perm" (a permutation),
    "shape" (sizes, one -1 where "infer"), "pair" (an int or a pair of ints)."""

    name: str
    arg: str
    call: Callable[[Any], Any]
    good: Any
    kind: str


def _x() -> Variable:
    return Variable(X.copy())


ARGS = [
    AxisArg("sum", "axis", lambda a: F.sum(_x(), axis=a), 1, "axes"),
    AxisArg("mean", "axis", lambda a: F.mean(_x(), axis=a), 1, "axes"),
    AxisArg("average", "axis", lambda a: F.average(_x(), axis=a), 1, "axes"),
    AxisArg("var", "axis", lambda a: F.var(_x(), axis=a), 1, "axes"),
    AxisArg("max", "axis", lambda a: F.max(_x(), axis=a), 1, "axes"),
    AxisArg("min", "axis", lambda a: F.min(_x(), axis=a), 1, "axes"),
    AxisArg("logsumexp", "axis", lambda a: F.logsumexp(_x(), axis=a), 1, "axes"),
    AxisArg("softmax", "axis", lambda a: F.softmax(_x(), axis=a), 1, "axes"),
    AxisArg("softmax_simple", "axis", lambda a: F.softmax_simple(_x(), axis=a), 1, "axes"),
    AxisArg("log_softmax", "axis", lambda a: F.log_softmax(_x(), axis=a), 1, "axes"),
    AxisArg("sum", "axis", lambda a: _x().sum(axis=a), 1, "axes"),  # the Variable methods
    AxisArg("max", "axis", lambda a: _x().max(axis=a), 1, "axes"),
    AxisArg("logsumexp", "axis", lambda a: utils.logsumexp(X, axis=a), 1, "axes"),  # DeZero's
    AxisArg("argmax", "axis", lambda a: F.argmax(X, axis=a), 1, "axis"),
    AxisArg("expand_dims", "axis", lambda a: F.expand_dims(_x(), a), 1, "axis"),
    AxisArg("concat", "axis", lambda a: F.concat([_x(), _x()], axis=a), 1, "axis"),
    AxisArg("stack", "axis", lambda a: F.stack([_x(), _x()], axis=a), 1, "axis"),
    AxisArg("split", "axis", lambda a: F.split(_x(), 3, axis=a), 1, "axis"),
    AxisArg("split", "indices_or_sections", lambda a: F.split(_x(), a, axis=1), 3, "axis"),
    AxisArg("transpose", "axes", lambda a: F.transpose(_x(), a), (2, 0, 1), "perm"),
    AxisArg("transpose", "axes", lambda a: _x().transpose(a), (2, 0, 1), "perm"),
    AxisArg("reshape", "shape", lambda a: F.reshape(_x(), a), (4, 6), "shape"),
    AxisArg("reshape", "shape", lambda a: _x().reshape(a), (4, 6), "shape"),
    AxisArg("sum_to", "shape", lambda a: F.sum_to(_x(), a), (3, 1), "shape"),
    AxisArg("broadcast_to", "shape", lambda a: F.broadcast_to(_x(), a), (5, 2, 3, 4), "shape"),
    AxisArg(
        "col2im",
        "input_shape",
        lambda a: F.col2im(np.ones((18, 18)), a, 3, 2, 1),
        (2, 2, 5, 5),
        "shape",
    ),
    AxisArg("conv2d", "stride", lambda a: F.conv2d(IMG, W, stride=a), 2, "pair"),
    AxisArg("conv2d", "pad", lambda a: F.conv2d(IMG, W, pad=a), 1, "pair"),
    AxisArg(
        "deconv2d",
        "stride",
        lambda a: F.deconv2d(IMG, W.transpose(1, 0, 2, 3), stride=a),
        2,
        "pair",
    ),
    AxisArg("pooling", "kernel_size", lambda a: F.pooling(IMG, a), 2, "pair"),
    AxisArg("average_pooling", "stride", lambda a: F.average_pooling(IMG, 2, a), 2, "pair"),
    AxisArg("im2col", "kernel_size", lambda a: F.im2col(IMG, a), 3, "pair"),
]


def _numpy_ints(v: Any) -> Any:
    return tuple(np.int64(a) for a in v) if isinstance(v, tuple) else np.int32(v)


def _bad(case: AxisArg) -> list[tuple[str, Any]]:
    """(what, value) pairs every case must refuse."""
    bad: list[tuple[str, Any]] = [("bool", True), ("float", 1.0), ("string", "1")]
    if case.kind in ("axis", "axes"):
        bad += [("out of range", 9), ("out of range", -9), ("float in tuple", (0, 1.0))]
    if case.kind == "axes":
        bad += [("duplicate", (1, 1)), ("duplicate", (1, -2))]
    if case.kind == "perm":
        bad = [("bool", (True, 0, 1)), ("float", (2.0, 0, 1)), ("int", 1), ("string", "201")]
        bad += [("out of range", (3, 0, 1)), ("duplicate", (0, 0, 1)), ("short", (1, 0))]
    if case.kind == "shape":
        bad = [("bool", (True, 4)), ("float", (4.0, 6)), ("string", "46")]
        bad += [("negative", (-2, 6)), ("wrong size", (5, 5))]
    if case.kind == "pair":
        bad = [("bool", True), ("float", 1.5), ("float in pair", (1, 1.5)), ("triple", (1, 1, 1))]
        bad += [("string", "2")]
    if case.name == "split" and case.arg == "indices_or_sections":
        bad = [("bool", True), ("float", 3.0), ("string", "3"), ("zero", 0), ("uneven", 5)]
        bad += [("float index", [1, 2.0])]
    return bad


CASES = [(c, what, v) for c in ARGS for what, v in _bad(c)]


@pytest.mark.parametrize(
    "case,what,value", CASES, ids=[f"{c.name}.{c.arg}-{w}-{i}" for i, (c, w, _) in enumerate(CASES)]
)
def test_bad_axis_like_argument_is_refused_by_name(case: AxisArg, what: str, value: Any) -> None:
    with pytest.raises((TypeError, ValueError)) as info:
        case.call(value)
    message = str(info.value)
    assert message.startswith(case.name + ":"), f"{what} {value!r}: {message}"
    wrong_size = what in ("wrong size", "uneven", "short")
    assert case.arg in message or wrong_size, f"{what} {value!r}: {message}"


@pytest.mark.parametrize("case", ARGS, ids=[f"{c.name}.{c.arg}" for c in ARGS])
def test_numpy_integers_count_as_integers(case: AxisArg) -> None:
    want, got = case.call(case.good), case.call(_numpy_ints(case.good))
    for w, g in zip(
        want if isinstance(want, list) else [want], got if isinstance(got, list) else [got]
    ):
        np.testing.assert_array_equal(getattr(g, "data", g), getattr(w, "data", w))


def test_a_0d_array_takes_axis_0_and_minus_1_like_torch() -> None:
    x = Variable(np.array(2.0))
    for axis in (0, -1, (), None):
        assert F.sum(x, axis=axis).data == 2.0
        assert F.logsumexp(x, axis=axis).data == 2.0
        assert F.max(x, axis=axis).data == 2.0
        assert F.log_softmax(x, axis=axis).data == 0.0
        assert F.softmax(x, axis=axis).data == 1.0
    with pytest.raises(ValueError, match="^sum: axis 1 is out of range"):
        F.sum(x, axis=1)
    with pytest.raises(ValueError, match="repeats"):
        F.sum(x, axis=(0, -1))
