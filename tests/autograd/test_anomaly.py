"""Anomaly mode: NaN/Inf in forward or backward named with the user's line, backward
exceptions annotated with the forward traceback, off (and free) by default."""

from __future__ import annotations

import sys
import threading
from types import ModuleType

import numpy as np
import pytest

import zerograd as zg
import zerograd.functions as F
from zerograd import AnomalyError, Function, Variable, detect_anomaly


def line_after() -> int:
    """The line number just after the caller's current line."""
    return sys._getframe(1).f_lineno + 1


def where(line: int, func: str) -> str:
    return f'File "{__file__}", line {line}, in {func}'


class NaNBackward(Function):
    """A user Function whose backward makes a NaN."""

    def forward(self, x):
        return x * 2

    def backward(self, gy):
        return gy * np.nan


class FailingBackward(Function):
    def forward(self, x):
        return x + 1

    def backward(self, gy):
        raise ValueError("backward broke")


class Halves(Function):
    """Two outputs: x / 2 and x / d (inf where d is 0)."""

    def forward(self, x, d):
        return x / 2, x / d

    def backward(self, g0, g1):
        return g0, None


def test_log_of_zero_in_forward_names_function_and_line(xp: ModuleType) -> None:
    x = Variable(xp.array([1.0, 0.0]))
    with detect_anomaly(), np.errstate(divide="ignore"), pytest.raises(AnomalyError) as info:
        line = line_after()
        F.log(x)
    message = str(info.value)
    assert message.startswith("Log.forward produced -inf in output 0 (shape (2,), dtype float64)")
    assert "Log was created at (most recent call last):" in message
    assert message.rstrip().endswith(
        where(line, "test_log_of_zero_in_forward_names_function_and_line") + "\n    F.log(x)"
    )
    error = info.value
    assert isinstance(error, FloatingPointError)
    assert type(error.function).__name__ == "Log"
    assert (error.index, error.phase) == (0, "forward")


def test_nan_from_a_user_backward_names_function_and_line() -> None:
    x = Variable(np.array(3.0))
    with detect_anomaly():
        line = line_after()
        y = NaNBackward()(x)
        z = F.sin(y)
        with pytest.raises(AnomalyError) as info:
            z.backward()
    message = str(info.value)
    assert message.startswith(
        "NaNBackward.backward returned NaN in the gradient of input 0 (shape (), dtype float64)"
    )
    assert where(line, "test_nan_from_a_user_backward_names_function_and_line") in message
    assert "y = NaNBackward()(x)" in message
    assert (info.value.index, info.value.phase) == (0, "backward")
    assert x.grad is None  # nothing half-written


def test_inf_from_a_builtin_backward(xp: ModuleType) -> None:
    """d/dx x**0.5 is inf at 0: Pow's backward is named, with the user's line."""
    x = Variable(xp.array([4.0, 0.0]))
    with detect_anomaly(), np.errstate(divide="ignore"):
        line = line_after()
        y = F.sum(x**0.5)
        with pytest.raises(AnomalyError) as info:
            y.backward()
    message = str(info.value)
    assert message.startswith(
        "Pow.backward returned inf in the gradient of input 0 (shape (2,), dtype float64)"
    )
    assert where(line, "test_inf_from_a_builtin_backward") + "\n    y = F.sum(x**0.5)" in message


def test_the_right_output_index_is_named() -> None:
    x = Variable(np.array([1.0, 2.0]))
    with detect_anomaly(), np.errstate(divide="ignore", invalid="ignore"):
        with pytest.raises(AnomalyError, match=r"Halves.forward produced inf in output 1"):
            Halves()(x, np.array([1.0, 0.0]))
        with pytest.raises(AnomalyError, match=r"NaN and inf in output 1"):
            Halves()(x * np.array([0.0, 1.0]), np.array([0.0, 0.0]))


def test_nan_in_a_recorded_backward_names_the_op_and_the_backward_line() -> None:
    """With create_graph=True the backward's own ops are recorded and checked: the op that
    made the NaN is named with the line of the user's backward, and the error carries a note
    naming the Function whose backward it was."""
    x = Variable(np.array(3.0))
    with detect_anomaly():
        line = line_after()
        y = F.sin(NaNBackward()(x))
        with pytest.raises(AnomalyError) as info:
            y.backward(create_graph=True)
    message = str(info.value)
    if sys.version_info < (3, 11):  # no notes: they are appended to the message
        message = message.split("\nThe failing backward belongs to")[0]
    assert message.startswith("MulConstant.forward produced NaN in output 0")
    assert message.rstrip().endswith("in backward\n    return gy * np.nan")
    notes = "\n".join(info.value.__notes__)
    assert "The failing backward belongs to NaNBackward." in notes
    assert "y = F.sin(NaNBackward()(x))" in notes
    assert (
        where(line, "test_nan_in_a_recorded_backward_names_the_op_and_the_backward_line") in notes
    )


def test_exception_in_backward_carries_the_forward_traceback() -> None:
    x = Variable(np.array(1.0))
    with detect_anomaly():
        line = line_after()
        y = FailingBackward()(x) * 2
        with pytest.raises(ValueError, match="backward broke") as info:
            y.backward()
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "The failing backward belongs to FailingBackward." in notes
    assert where(line, "test_exception_in_backward_carries_the_forward_traceback") in notes
    assert "y = FailingBackward()(x) * 2" in notes
    # Off: the same error, with no note.
    y = FailingBackward()(x) * 2
    with pytest.raises(ValueError, match="backward broke") as info:
        y.backward()
    assert not getattr(info.value, "__notes__", [])


def test_recorded_stack_ends_in_user_code() -> None:
    """zerograd's own frames (Function.__call__, F.log, Variable.__mul__) are trimmed."""
    x = Variable(np.array(2.0))
    with detect_anomaly():
        y = F.exp(x) * x
    for f in (y.creator, y.creator.edges()[0][0]):
        stack = f._forward_stack
        filename, _, name = stack.frames[-1]
        assert (filename, name) == (__file__, "test_recorded_stack_ends_in_user_code")
        assert "y = F.exp(x) * x" in str(stack)


def test_off_by_default_and_free_when_off() -> None:
    x = Variable(np.array(0.0))
    with np.errstate(divide="ignore"):
        y = F.log(x) * 2  # no error: -inf flows as in NumPy
    assert float(y.data) == -np.inf
    assert y.creator._forward_stack is None
    with detect_anomaly():
        with detect_anomaly(False):  # switched off inside
            with np.errstate(divide="ignore"):
                z = F.log(x)
        assert z.creator._forward_stack is None


def test_context_local_like_no_grad() -> None:
    seen: list[bool] = []

    def other_thread() -> None:
        x = Variable(np.array(1.0))
        seen.append(F.sin(x).creator._forward_stack is None)

    with detect_anomaly():
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        assert F.sin(Variable(np.array(1.0))).creator._forward_stack is not None
    assert seen == [True]


def test_same_numbers_with_and_without_the_mode() -> None:
    def grads() -> tuple[float, float]:
        x = Variable(np.array(0.3))
        y = x
        for _ in range(20):
            y = F.sin(y) * 0.9 + y
        y.backward(create_graph=True)
        gx = x.grad
        first = float(gx.data)
        x.cleargrad()
        gx.backward()
        return first, float(x.grad.data)

    plain = grads()
    with detect_anomaly():
        assert grads() == plain


def test_integer_and_finite_values_pass() -> None:
    with detect_anomaly():
        x = Variable(np.arange(6).reshape(2, 3))
        y = F.sum(x * 2)
        y.backward()
    assert y.data == 30
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3), 2))


def test_top_level_names() -> None:
    assert zg.detect_anomaly is detect_anomaly
    assert zg.AnomalyError is AnomalyError


def test_engine_errors_carry_the_forward_stack_too() -> None:
    """A wrong gradient count is the engine's error, raised for the function: in anomaly mode
    it names where that function was called, like an error inside its backward."""

    class TwoForOne(Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            return gy, gy

    x = Variable(np.array(1.0))
    with detect_anomaly():
        y = TwoForOne()(x)
        with pytest.raises(ValueError, match="returned 2 gradient") as info:
            y.backward()
    assert "TwoForOne was created at" in "".join(getattr(info.value, "__notes__", [])) + str(
        info.value.args
    )
