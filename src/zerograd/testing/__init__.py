"""Gradient checks against central differences: the one gradient oracle of zerograd.

``check_backward`` is the strict checker every op test uses: it perturbs *every*
differentiable input in float64, seeds backward with a *random* upstream gradient (an
all-ones seed lets a backward that ignores ``gy`` pass), and with ``second_order=True`` also
checks the gradient of ``<grad, v>`` built with ``create_graph=True``. ``gradient_check``,
``numerical_grad``, ``array_equal`` and ``array_allclose`` keep DeZero's signatures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from zerograd import cuda
from zerograd.autograd.variable import Variable, as_variable

__all__ = [
    "array_allclose",
    "array_equal",
    "check_backward",
    "check_double_backward",
    "gradient_check",
    "numerical_grad",
]


def _host(x: Any) -> np.ndarray:
    return cuda.as_numpy(x.data if isinstance(x, Variable) else x)


def numerical_grad(f: Callable[..., Any], x: Any, *args: Any, **kwargs: Any) -> np.ndarray:
    """Central-difference gradient of ``sum(f(x, *args))`` w.r.t. ``x`` (DeZero's helper)."""
    eps = 1e-4
    x = x.data if isinstance(x, Variable) else x
    xp = cuda.get_array_module(x)
    np_x = cuda.as_numpy(x)
    grad = xp.zeros_like(x)
    for idx in np.ndindex(*np_x.shape):
        tmp = float(np_x[idx])
        np_x[idx] = tmp + eps
        y1 = f(Variable(xp.asarray(np_x.copy())), *args, **kwargs)
        y1 = float(_host(y1).sum())
        np_x[idx] = tmp - eps
        y2 = f(Variable(xp.asarray(np_x.copy())), *args, **kwargs)
        y2 = float(_host(y2).sum())
        np_x[idx] = tmp
        grad[idx] = (y1 - y2) / (2 * eps)
    return grad


def array_equal(a: Any, b: Any) -> bool:
    """True if ``a`` and ``b`` (arrays or Variables, any device) are equal."""
    return bool(np.array_equal(_host(a), _host(b)))


def array_allclose(a: Any, b: Any, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """True if ``a`` and ``b`` (arrays or Variables, any device) are close."""
    return bool(np.allclose(_host(a), _host(b), atol=atol, rtol=rtol))


def gradient_check(
    f: Callable[..., Any], x: Any, *args: Any, rtol: float = 1e-4, atol: float = 1e-5, **kwargs: Any
) -> bool:
    """DeZero's check: backprop gradient of ``sum(f(x))`` against ``numerical_grad``.

    ``x`` (array or Variable, integers allowed) is cast to float64 first. Returns a bool; use
    ``check_backward`` for the strict check with a random upstream gradient.
    """
    x = as_variable(x)
    x.data = x.data.astype(np.float64)
    num_grad = numerical_grad(f, x, *args, **kwargs)
    y = f(x, *args, **kwargs)
    y.backward()
    bp_grad = x.grad.data  # type: ignore[union-attr]
    assert bp_grad.shape == num_grad.shape
    res = array_allclose(num_grad, bp_grad, atol=atol, rtol=rtol)
    if not res:
        print("\n========== FAILED (Gradient Check) ==========")
        print(
            f"Numerical Grad\n shape: {num_grad.shape}\n values: {str(num_grad.flatten())[:40]} ..."
        )
        print(f"Backprop Grad\n shape: {bp_grad.shape}\n values: {str(bp_grad.flatten())[:40]} ...")
    return res


def _numeric_vjp(
    f: Callable[..., Any], xs: list[np.ndarray], gy: list[np.ndarray], i: int, eps: float
) -> np.ndarray:
    """d<f(xs), gy>/dxs[i] by central differences, on float64 host arrays."""
    x = xs[i]
    grad = np.zeros_like(x)
    flat = x.reshape(-1)
    out = grad.reshape(-1)
    for k in range(flat.size):
        orig = flat[k]
        flat[k] = orig + eps
        yp = _outputs(f, xs)
        flat[k] = orig - eps
        ym = _outputs(f, xs)
        flat[k] = orig
        out[k] = sum(float(np.sum((a - b) * g)) for a, b, g in zip(yp, ym, gy)) / (2 * eps)
    return grad


def _as_float64(inputs: Sequence[Any]) -> list[np.ndarray]:
    """Host copies of ``inputs``: floating ones in float64, others (indices, labels) as is."""
    result = []
    for x in inputs:
        a = np.array(_host(x))
        result.append(a.astype(np.float64) if a.dtype.kind in "fc" else a)
    return result


def _outputs(f: Callable[..., Any], xs: Sequence[np.ndarray]) -> list[np.ndarray]:
    ys = f(*[Variable(x.copy()) for x in xs])
    ys = ys if isinstance(ys, (list, tuple)) else [ys]
    return [_host(y).astype(np.float64) for y in ys]


def check_backward(
    f: Callable[..., Any],
    *inputs: Any,
    grad_inputs: Sequence[int] | None = None,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    second_order: bool = False,
    seed: int = 0,
) -> None:
    """Assert that backward of ``f`` matches central differences for every input.

    ``f`` takes Variables and returns a Variable (or a list). Every float input (or the
    indices in ``grad_inputs``) is checked in float64 with a random upstream gradient. With
    ``second_order=True`` the first-order gradients are recorded (``create_graph=True``) and
    the gradient of ``sum_i <grad_i, v_i>`` for random ``v`` is checked the same way.
    Raises ``AssertionError`` naming the input that disagrees.
    """
    rng = np.random.default_rng(seed)
    xs = _as_float64(inputs)
    if grad_inputs is None:
        grad_inputs = [i for i, x in enumerate(xs) if x.dtype.kind == "f"]
    grad_inputs = list(grad_inputs)
    outs = _outputs(f, xs)
    gys = [rng.standard_normal(y.shape) for y in outs]

    def analytic(create_graph: bool) -> tuple[list[Variable], list[Any]]:
        vs = [Variable(x.copy()) for x in xs]
        ys = f(*vs)
        ys = ys if isinstance(ys, (list, tuple)) else [ys]
        total = None
        for y, g in zip(ys, gys):
            term = (y * Variable(g)).sum()
            total = term if total is None else total + term
        total.backward(create_graph=create_graph)  # type: ignore[union-attr]
        return vs, [vs[i].grad for i in grad_inputs]

    _, grads = analytic(False)
    for i, g in zip(grad_inputs, grads):
        expected = _numeric_vjp(f, xs, gys, i, eps)
        got = np.zeros_like(expected) if g is None else _host(g)
        if got.shape != expected.shape:
            raise AssertionError(
                f"gradient of input {i} has shape {got.shape}; the input's shape is "
                f"{expected.shape}"
            )
        if not np.allclose(got, expected, rtol=rtol, atol=atol):
            raise AssertionError(
                f"gradient of input {i} disagrees with central differences (max abs error "
                f"{np.max(np.abs(got - expected)):.3g}):\nbackprop:\n{got}\nnumerical:\n{expected}"
            )
    if second_order:
        check_double_backward(
            f, *xs, grad_inputs=grad_inputs, gys=gys, eps=eps, rtol=rtol, atol=atol, seed=seed + 1
        )


def check_double_backward(
    f: Callable[..., Any],
    *inputs: Any,
    grad_inputs: Sequence[int] | None = None,
    gys: Sequence[np.ndarray] | None = None,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    seed: int = 1,
) -> None:
    """Check second derivatives: the gradient of ``sum_i <d<f, gy>/dx_i, v_i>``.

    The first-order gradients are computed with ``create_graph=True`` and differentiated
    again; the result is compared with central differences of the (already checked)
    first-order gradients.
    """
    rng = np.random.default_rng(seed)
    xs = _as_float64(inputs)
    if grad_inputs is None:
        grad_inputs = [i for i, x in enumerate(xs) if x.dtype.kind == "f"]
    grad_inputs = list(grad_inputs)
    if gys is None:
        gys = [rng.standard_normal(y.shape) for y in _outputs(f, xs)]
    vs_dir = {i: rng.standard_normal(xs[i].shape) for i in grad_inputs}

    def first_order(*variables: Variable) -> Variable:
        ys = f(*variables)
        ys = ys if isinstance(ys, (list, tuple)) else [ys]
        total = None
        for y, g in zip(ys, gys):
            term = (y * Variable(g)).sum()
            total = term if total is None else total + term
        for v in variables:
            v.cleargrad()
        total.backward(create_graph=True)  # type: ignore[union-attr]
        grads = [variables[i].grad for i in grad_inputs]
        for v in variables:
            v.cleargrad()  # the outer backward must not add onto the first-order gradients
        result = None
        for i, gi in zip(grad_inputs, grads):
            if gi is None:
                continue
            term = (gi * Variable(vs_dir[i])).sum()
            result = term if result is None else result + term
        if result is None:
            return Variable(np.array(0.0))
        return result

    check_backward(
        first_order, *xs, grad_inputs=grad_inputs, eps=eps, rtol=rtol, atol=atol, seed=seed
    )
