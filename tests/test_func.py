"""``zerograd.func`` against ``torch.func`` on a table of functions (first and second order,
float64 and float32), and its contract: kinds and dtypes, purity, ``no_grad``, threads,
composition, bad input."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import zerograd as zg
import zerograd.functions as F
import zerograd.layers as L
from zerograd.func import functional_call, grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp
from zerograd.models import MLP

torch = pytest.importorskip("torch")
tf = torch.func
# torch.func imports torch.jit's scripting, which warns on import in torch 2.13
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
TF = torch.nn.functional

RNG = np.random.default_rng(0)
W = RNG.standard_normal((4, 5))
LABELS = np.array([0, 3, 1])


# name -> (zerograd g, torch g, input shape): g is vector-valued; the scalar f is
# sum(g(x) * C) with a fixed random C (or the row's own scalar loss).
class Row:
    def __init__(
        self,
        g: Callable[[Any], Any],
        tg: Callable[[Any], Any],
        shape: tuple[int, ...],
        f: Callable[[Any], Any] | None = None,
        tfn: Callable[[Any], Any] | None = None,
    ) -> None:
        self.g, self.tg, self.shape = g, tg, shape
        c = np.random.default_rng(1).standard_normal(g(zg.Variable(np.zeros(shape))).shape)
        self.f = f or (lambda x: F.sum(g(x) * c.astype(x.dtype)))
        self.tf = tfn or (lambda x: (tg(x) * torch.from_numpy(c).to(x.dtype)).sum())


ROWS = {
    "elementwise": Row(
        lambda x: F.sin(x) * F.exp(x) + F.tanh(x) ** 2,
        lambda x: torch.sin(x) * torch.exp(x) + torch.tanh(x) ** 2,
        (3, 4),
    ),
    "reductions": Row(
        lambda x: F.logsumexp(x, axis=1) * F.mean(x**2, axis=1) + F.sum(F.sigmoid(x), axis=1),
        lambda x: torch.logsumexp(x, 1) * (x**2).mean(1) + torch.sigmoid(x).sum(1),
        (3, 4),
    ),
    "matmul": Row(
        lambda x: F.tanh(F.matmul(x, W.astype(x.dtype))),
        lambda x: torch.tanh(x @ torch.from_numpy(W).to(x.dtype)),
        (3, 4),
    ),
    "softmax_cross_entropy": Row(
        lambda x: F.log_softmax(x),
        lambda x: torch.log_softmax(x, 1),
        (3, 4),
        f=lambda x: F.softmax_cross_entropy(x, LABELS),
        tfn=lambda x: TF.cross_entropy(x, torch.from_numpy(LABELS)),
    ),
}
DTYPES = [np.float64, np.float32]
TOL = {np.float64: 1e-10, np.float32: 2e-4}


def _close(ours: Any, ref: Any, dtype: Any) -> None:
    assert isinstance(ours, np.ndarray), type(ours)
    assert ours.dtype == dtype, (ours.dtype, dtype)
    np.testing.assert_allclose(ours, ref.detach().numpy(), rtol=TOL[dtype], atol=TOL[dtype])


def _x(shape: tuple[int, ...], dtype: Any, seed: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _t(x: np.ndarray) -> Any:
    return torch.from_numpy(x.copy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ROWS))
def test_first_order_equals_torch(name: str, dtype: Any) -> None:
    row = ROWS[name]
    x, v = _x(row.shape, dtype), _x(row.shape, dtype, 3)
    _close(grad(row.f)(x), tf.grad(row.tf)(_t(x)), dtype)
    value, g = value_and_grad(row.f)(x)
    _close(value, row.tf(_t(x)), dtype)
    _close(g, tf.grad(row.tf)(_t(x)), dtype)

    out, vjp_fn = vjp(row.g, x)
    tout, tvjp = tf.vjp(row.tg, _t(x))
    ct = _x(tuple(tout.shape), dtype, 4)
    _close(out, tout, dtype)
    _close(vjp_fn(ct)[0], tvjp(_t(ct))[0], dtype)
    _close(vjp_fn(2 * ct)[0], 2 * tvjp(_t(ct))[0], dtype)  # vjp_fn may be called again

    out, tangent = jvp(row.g, (x,), (v,))
    tout, ttangent = tf.jvp(row.tg, (_t(x),), (_t(v),))
    _close(out, tout, dtype)
    _close(tangent, ttangent, dtype)

    _close(jacobian(row.g)(x), tf.jacrev(row.tg)(_t(x)), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ROWS))
def test_second_order_equals_torch(name: str, dtype: Any) -> None:
    row = ROWS[name]
    x, v = _x(row.shape, dtype), _x(row.shape, dtype, 3)
    _close(hessian(row.f)(x), tf.hessian(row.tf)(_t(x)), dtype)
    value, hv = hvp(row.f, (x,), (v,))
    _close(value, row.tf(_t(x)), dtype)
    _close(hv[0], tf.jvp(tf.grad(row.tf), (_t(x),), (_t(v),))[1], dtype)
    # grad of grad, and grad of a function that calls grad
    gsum = lambda x: F.sum(grad(row.f)(x) * v)  # noqa: E731
    _close(grad(gsum)(x), tf.grad(lambda t: (tf.grad(row.tf)(t) * _t(v)).sum())(_t(x)), dtype)
    # jvp of grad (forward over reverse) is the same Hessian-vector product
    _close(jvp(grad(row.f), (x,), (v,))[1], tf.jvp(tf.grad(row.tf), (_t(x),), (_t(v),))[1], dtype)


def _mlp_pair(dtype: Any) -> tuple[Any, dict[str, np.ndarray], Any]:
    np.random.seed(0)
    model = MLP((6, 3), activation=F.tanh)
    model(np.zeros((1, 4), dtype))
    params = {k: p.data.astype(dtype) for k, p in model.named_params()}
    ref = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3))
    ref = ref.to(torch.float64 if dtype == np.float64 else torch.float32)
    return model, params, ref


NAMES = {"l0.W": "0.weight", "l0.b": "0.bias", "l1.W": "2.weight", "l1.b": "2.bias"}


def _torch_params(params: dict[str, np.ndarray]) -> dict[str, Any]:
    # zerograd's Linear keeps W as (in, out); torch's weight is (out, in).
    return {NAMES[k]: _t(v.T.copy() if k.endswith("W") else v) for k, v in params.items()}


def _from_torch(k: str, value: Any) -> Any:
    return value.T if k.endswith("W") else value


@pytest.mark.parametrize("dtype", DTYPES)
def test_mlp_through_functional_call_equals_torch(dtype: Any) -> None:
    model, params, ref = _mlp_pair(dtype)
    x = _x((5, 4), dtype, 7)
    t = np.array([0, 2, 1, 1, 0])

    def loss(p: Any) -> Any:
        return F.softmax_cross_entropy(functional_call(model, p, (x,)), t)

    def tloss(p: Any) -> Any:
        return TF.cross_entropy(torch.func.functional_call(ref, p, (_t(x),)), torch.from_numpy(t))

    tparams = _torch_params(params)
    g = grad(loss)(params)
    tg = tf.grad(tloss)(tparams)
    assert sorted(g) == sorted(params)
    for k in params:
        _close(g[k], _from_torch(k, tg[NAMES[k]]), dtype)
    # Hessian-vector product with respect to the whole parameter dict
    v = {k: _x(p.shape, dtype, 11) for k, p in params.items()}
    _, hv = hvp(loss, (params,), (v,))
    _, thv = tf.jvp(tf.grad(tloss), (tparams,), (_torch_params(v),))
    for k in params:
        _close(hv[0][k], _from_torch(k, thv[NAMES[k]]), dtype)
    assert all(p.grad is None for p in model.params())


# -- the contract ---------------------------------------------------------------------------------
def test_variables_in_give_variables_out_and_no_grad_is_set() -> None:
    x = zg.Variable(_x((3,), np.float32))
    p = zg.Parameter(_x((3,), np.float32, 5))
    f = lambda x, p: F.sum(F.sin(x) * p)  # noqa: E731
    gx, gp = grad(f, argnums=(0, 1))(x, p)
    assert isinstance(gx, zg.Variable) and isinstance(gp, zg.Variable)
    assert gx.dtype == gp.dtype == np.float32
    np.testing.assert_allclose(gx.data, np.cos(x.data) * p.data, rtol=1e-6)
    assert x.grad is None and p.grad is None
    out, vjp_fn = vjp(lambda x: x * 2, x)
    assert isinstance(out, zg.Variable) and isinstance(
        vjp_fn(np.ones(3, np.float32))[0], zg.Variable
    )
    assert x.grad is None


def test_results_are_differentiable_with_backward() -> None:
    x = zg.Variable(np.array([0.5, -1.0]))
    gx = grad(lambda x: F.sum(x**3))(x)  # 3 x^2, recorded
    F.sum(gx).backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data)
    # an intermediate Variable of the caller's graph: the result reaches back to x
    x.cleargrad()
    y = x * 2
    gy = grad(lambda y: F.sum(y**3))(y)
    assert y.grad is None
    F.sum(gy).backward()
    np.testing.assert_allclose(x.grad.data, 6 * y.data * 2)
    # not recording: the caller's graph is not walked (its hooks do not fire)
    calls: list[Any] = []
    y.register_hook(lambda g: calls.append(g))
    with zg.no_grad():
        np.testing.assert_allclose(grad(lambda y: F.sum(y**3))(y).data, 3 * y.data**2)
    assert calls == []


def test_inside_no_grad() -> None:
    f = lambda x: F.sum(F.tanh(x) ** 2)  # noqa: E731
    x = _x((4,), np.float64)
    expected = grad(f)(x)
    with zg.no_grad():
        np.testing.assert_array_equal(grad(f)(x), expected)
        np.testing.assert_allclose(hessian(f)(x), hessian(f)(x))
        gv = grad(f)(zg.Variable(x))
        assert gv.creator is None  # the caller records nothing: a plain result
        np.testing.assert_array_equal(gv.data, expected)
        assert zg.Config.enable_backprop is False


def test_threads_get_their_own_results() -> None:
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            x = _x((3, 4), np.float64, seed)
            row = ROWS["reductions"]
            for _ in range(20):
                if seed % 2:
                    with zg.no_grad():
                        g = grad(row.f)(x)
                else:
                    g = grad(row.f)(x)
                np.testing.assert_allclose(g, tf.grad(row.tf)(_t(x)).numpy(), rtol=1e-10)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_argnums_has_aux_and_pytrees() -> None:
    def f(a: Any, b: Any) -> Any:
        return F.sum(a["u"] * b[0] + b[1] ** 2), "aux"

    a = {"u": np.array([1.0, 2.0])}
    b = (np.array([3.0, 4.0]), np.array(5.0))
    (ga, gb), aux = grad(f, argnums=(0, -1), has_aux=True)(a, b)
    assert aux == "aux"
    np.testing.assert_array_equal(ga["u"], b[0])
    assert isinstance(gb, tuple)
    np.testing.assert_array_equal(gb[0], a["u"])
    np.testing.assert_array_equal(gb[1], 20.0)  # b[1] ** 2 broadcast over two elements
    (value, aux), g = value_and_grad(f, has_aux=True)(a, b)
    assert float(value) == 61.0 and aux == "aux"
    np.testing.assert_array_equal(g["u"], b[0])


def test_unused_inputs_give_zeros() -> None:
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(grad(lambda x, y: F.sum(y * 3), argnums=0)(x, x), [0.0, 0.0])
    np.testing.assert_array_equal(grad(lambda x: np.array(3.0))(x), [0.0, 0.0])
    _, t = jvp(lambda x: zg.Variable(np.ones(2)), (x,), (x,))
    np.testing.assert_array_equal(t, [0.0, 0.0])
    np.testing.assert_array_equal(jacobian(lambda x: F.sum(x) * 0 + 1)(x), [0.0, 0.0])


def test_a_float32_input_gets_a_float32_gradient_from_a_float64_computation() -> None:
    x = np.array([1.0, 2.0], np.float32)
    g = grad(lambda x: F.sum(x * np.array([3.0, 4.0])))(x)  # promoted to float64 inside
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, [3.0, 4.0])
    hx = hessian(lambda x: F.sum(x**2 * np.array([3.0, 4.0])))(x)
    assert hx.dtype == np.float32
    np.testing.assert_array_equal(hx, np.diag([6.0, 8.0]))


def test_jacobian_shapes_and_tuples() -> None:
    x, y = np.ones((2, 3)), np.ones(4)
    j = jacobian(lambda x, y: (F.sum(x, axis=1), y * 2), argnums=(0, 1))(x, y)
    assert [a.shape for a in j[0]] == [(2, 2, 3), (2, 4)]
    assert [a.shape for a in j[1]] == [(4, 2, 3), (4, 4)]
    np.testing.assert_array_equal(j[1][1], 2 * np.eye(4))


def test_functional_call_swaps_and_restores() -> None:
    layer = L.Linear(2, in_size=3)
    layer.tied = layer.W  # a second attribute holding the same parameter
    W = layer.W
    x = np.ones((1, 3), np.float32)
    new = {"W": np.zeros((3, 2), np.float32)}
    np.testing.assert_array_equal(functional_call(layer, new, x).data, layer.b.data[None])
    assert layer.W is W and layer.tied is W
    with pytest.raises(ValueError, match="has no parameter or buffer \\['V'\\]"):
        functional_call(layer, {"V": np.zeros(1)}, (x,))
    with pytest.raises(ValueError, match=r"params\['W'\] has shape \(2, 3\), but the model's"):
        functional_call(layer, {"W": np.zeros((2, 3))}, (x,))
    with pytest.raises(ValueError, match=r"strict=True, but \['b'\] not given"):
        functional_call(layer, new, (x,), strict=True)
    with pytest.raises(ValueError):
        functional_call(layer, new, (np.ones((1, 4), np.float32),))  # fails inside the call
    assert layer.W is W and layer.tied is W and "W" in dict(layer.named_params())
    with pytest.raises(TypeError, match="model must be a Layer"):
        functional_call(F.relu, {}, x)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: grad(lambda x: x)(np.ones(3)), ValueError, r"f must return a scalar .* \(3,\)"),
        (lambda: grad(lambda x: F.sum(x))(np.ones(3, int)), TypeError, "dtype int64; only"),
        (lambda: grad(lambda x: F.sum(x))("x"), TypeError, "argument 0 is a str"),
        (lambda: grad(lambda x: F.sum(x), argnums=2)(np.ones(2)), ValueError, "out of range"),
        (lambda: grad(lambda x: F.sum(x), argnums=(0, 0))(np.ones(2)), ValueError, "repeats"),
        (lambda: grad(lambda x: F.sum(x), argnums=1.0)(np.ones(2)), TypeError, "must be ints"),
        (lambda: grad(lambda x: (F.sum(x), 1))(np.ones(2)), TypeError, "has_aux=True"),
        (lambda: grad(lambda x: F.sum(x), has_aux=True)(np.ones(2)), TypeError, "(output, aux)"),
        (lambda: vjp(lambda x: x * 2, np.ones(2))[1](np.ones(3)), ValueError, r"shape \(3,\)"),
        (lambda: jvp(lambda x: x, (np.ones(2),), (np.ones(3),)), ValueError, r"shape \(3,\)"),
        (lambda: jvp(lambda x: x, (np.ones(2),), ()), ValueError, "1 primals but 0 tangents"),
        (lambda: hvp(lambda x: F.sum(x**3), (np.ones(2),), (np.ones(3),)), ValueError, "shape"),
        (lambda: grad(3), TypeError, "f must be callable"),
    ],
)
def test_bad_input_raises_at_the_call(call: Any, error: Any, message: str) -> None:
    with pytest.raises(error, match=message):
        call()


def test_every_transform_keeps_the_array_module(xp: Any) -> None:
    from zerograd import cuda

    x = xp.asarray(_x((3, 4), np.float32))
    v = xp.asarray(_x((3, 4), np.float32, 3))
    row = Row(  # no NumPy constants inside: they would meet CuPy arrays
        lambda x: F.logsumexp(x, axis=1) * F.mean(F.tanh(x) ** 2, axis=1),
        lambda x: x,
        (3, 4),
        f=lambda x: F.sum(F.logsumexp(x, axis=1) * F.mean(x**3, axis=1)),
        tfn=lambda x: x,
    )
    results = [
        grad(row.f)(x),
        vjp(row.g, x)[1](xp.ones(3, np.float32))[0],
        jvp(row.g, (x,), (v,))[1],
        jacobian(row.g)(x),
        hessian(row.f)(x),
        hvp(row.f, (x,), (v,))[1][0],
    ]
    host = [
        grad(row.f)(cuda.as_numpy(x)),
        vjp(row.g, cuda.as_numpy(x))[1](np.ones(3, np.float32))[0],
        jvp(row.g, (cuda.as_numpy(x),), (cuda.as_numpy(v),))[1],
        jacobian(row.g)(cuda.as_numpy(x)),
        hessian(row.f)(cuda.as_numpy(x)),
        hvp(row.f, (cuda.as_numpy(x),), (cuda.as_numpy(v),))[1][0],
    ]
    for ours, ref in zip(results, host):
        assert type(ours) is type(x) and ours.dtype == np.float32
        np.testing.assert_allclose(cuda.as_numpy(ours), ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_two_arguments_equal_torch(dtype: Any) -> None:
    """argnums=(0, 1) on a function of two arrays: grad, jacobian and the Hessian blocks."""
    x, w = _x((3, 4), dtype), _x((4, 2), dtype, 5)

    def g(x: Any, w: Any) -> Any:
        return F.tanh(F.matmul(x, w))

    def tg(x: Any, w: Any) -> Any:
        return torch.tanh(x @ w)

    def f(x: Any, w: Any) -> Any:
        return F.sum(g(x, w) ** 2)

    def tfn(x: Any, w: Any) -> Any:
        return (tg(x, w) ** 2).sum()

    for ours, ref in zip(grad(f, argnums=(0, 1))(x, w), tf.grad(tfn, argnums=(0, 1))(_t(x), _t(w))):
        _close(ours, ref, dtype)
    jac, tjac = jacobian(g, argnums=(0, 1))(x, w), tf.jacrev(tg, argnums=(0, 1))(_t(x), _t(w))
    for ours, ref in zip(jac, tjac):
        _close(ours, ref, dtype)
    hess = hessian(f, argnums=(0, 1))(x, w)
    thess = tf.hessian(tfn, argnums=(0, 1))(_t(x), _t(w))
    for i in range(2):
        for j in range(2):
            _close(hess[i][j], thess[i][j], dtype)
    _, (hx, hw) = hvp(f, (x, w), (x, w))
    _, (thx, thw) = tf.jvp(tf.grad(tfn, argnums=(0, 1)), (_t(x), _t(w)), (_t(x), _t(w)))
    _close(hx, thx, dtype)
    _close(hw, thw, dtype)
