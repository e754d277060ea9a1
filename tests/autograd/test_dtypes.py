"""float32 in, float32 out: values and gradients, whatever scalars and constants they meet.

NumPy 2 promotes ``float32_array * np.float64(0.5)`` to float64 (NEP 50) while NumPy 1.26
keeps float32; zerograd makes scalars and 0-d constants adopt the dtype of the Variable, so
these tests pass on both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import zerograd.functions as F
from zerograd import Variable

# name -> f(x, w) where x is float32 (2, 3) and w float32 (3, 2)
CASES: dict[str, Callable[[Variable, Variable], Variable]] = {
    "add_scalar": lambda x, w: x + 1.5,
    "radd_int": lambda x, w: 2 + x,
    "sub_scalar": lambda x, w: x - 0.25,
    "sub_int": lambda x, w: x - 2,
    "sub_np_float64": lambda x, w: x - np.float64(0.25),
    "sub_0d_float64": lambda x, w: F.sub(x, np.array(0.25)),
    "rsub_0d_float64": lambda x, w: np.array(3.0) - x,
    "mul_scalar": lambda x, w: x * 0.5,
    "rmul_np_float64": lambda x, w: np.float64(0.5) * x,
    "div_scalar": lambda x, w: x / 3.0,
    "rdiv_scalar": lambda x, w: 1.0 / (x * x + 1.0),
    "pow_int": lambda x, w: x**3,
    "pow_float": lambda x, w: (x * x + 1.0) ** 0.5,
    "rpow": lambda x, w: 2.0**x,
    "neg": lambda x, w: -x,
    "sin": lambda x, w: F.sin(x),
    "cos": lambda x, w: F.cos(x),
    "tanh": lambda x, w: F.tanh(x),
    "exp": lambda x, w: F.exp(x),
    "log": lambda x, w: F.log(x * x + 1.0),
    "sum": lambda x, w: F.sum(x, axis=0),
    "sum_keepdims": lambda x, w: x.sum(axis=1, keepdims=True) * 2.0,
    "reshape": lambda x, w: x.reshape(3, 2) * 1.0,
    "transpose": lambda x, w: x.T + 0.0,
    "broadcast_to": lambda x, w: F.broadcast_to(x.sum(axis=0), (4, 3)),
    "sum_to": lambda x, w: F.sum_to(x, (1, 3)),
    "get_item": lambda x, w: x[:, [0, 0, 2]] * 0.5,
    "matmul": lambda x, w: x @ w,
    "matmul_1d": lambda x, w: F.matmul(x, w.sum(axis=1)),
    "chain_of_everything": lambda x, w: F.tanh(F.exp(x * 0.1) @ w - 0.5).sum() / 2.0,
}


def _inputs() -> tuple[Variable, Variable]:
    rng = np.random.default_rng(0)
    x = Variable(rng.uniform(0.5, 1.5, (2, 3)).astype(np.float32))
    w = Variable(rng.uniform(-1.0, 1.0, (3, 2)).astype(np.float32))
    return x, w


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_values_and_gradients_stay_float32(name: str) -> None:
    x, w = _inputs()
    y = CASES[name](x, w)
    assert y.dtype == np.float32, f"{name}: value is {y.dtype}"
    y.backward()
    assert x.grad is not None and x.grad.dtype == np.float32, f"{name}: x.grad {x.grad.dtype}"
    if w.grad is not None:
        assert w.grad.dtype == np.float32


@pytest.mark.parametrize("name", ["mul_scalar", "tanh", "rpow", "matmul", "chain_of_everything"])
def test_float32_second_order_gradients_stay_float32(name: str) -> None:
    x, w = _inputs()
    y = CASES[name](x, w)
    y.backward(create_graph=True)
    gx = x.grad
    assert gx.dtype == np.float32
    x.cleargrad()
    w.cleargrad()
    (gx * gx).sum().backward()
    if x.grad is not None:
        assert x.grad.dtype == np.float32
    if w.grad is not None:
        assert w.grad.dtype == np.float32


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_results_match_float64(name: str) -> None:
    """Keeping float32 must not change the numbers beyond float32 rounding."""
    x32, w32 = _inputs()
    x64, w64 = (Variable(v.data.astype(np.float64)) for v in (x32, w32))
    y32, y64 = CASES[name](x32, w32), CASES[name](x64, w64)
    assert y64.dtype == np.float64
    np.testing.assert_allclose(y32.data, y64.data, rtol=1e-5, atol=1e-6)
    y32.backward()
    y64.backward()
    np.testing.assert_allclose(x32.grad.data, x64.grad.data, rtol=1e-4, atol=1e-5)


def test_float64_constant_arrays_promote_as_numpy_does() -> None:
    """Only scalars and 0-d constants adopt the Variable's dtype; a float64 array is data."""
    x, _ = _inputs()
    assert (x * np.ones(3)).dtype == np.float64
    assert (x - np.ones(3)).dtype == np.float64


def test_float16_stays_float16() -> None:
    x = Variable(np.array([0.5, 1.0], dtype=np.float16))
    y = F.sin(x) * 2.0 + 1
    assert y.dtype == np.float16
    y.backward()
    assert x.grad.dtype == np.float16


def test_integer_scalars_with_integer_arrays_follow_numpy() -> None:
    x = Variable(np.array([1, 2, 3]))
    y = x * 2
    assert y.dtype.kind == "i"
    z = x * 0.5  # a float scalar meeting integers promotes, as in NumPy
    assert z.dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_seed_gradient_has_the_output_dtype(dtype: Any) -> None:
    x = Variable(np.array([1.0, 2.0], dtype=dtype))
    y = x * x
    y.backward(retain_grad=True)
    assert y.grad.dtype == dtype
