"""Layers against PyTorch's modules given the same weights: outputs and all gradients."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import zerograd as zg
import zerograd.layers as L

RTOL, ATOL = 1e-5, 1e-6


def _close(ours: Any, theirs: Any, what: str, rtol: float = RTOL, atol: float = ATOL) -> None:
    ours = ours.data if isinstance(ours, zg.Variable) else ours
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=rtol, atol=atol, err_msg=what)


def test_linear_matches_torch(torch: Any) -> None:
    rng = np.random.default_rng(0)
    layer = L.Linear(5, in_size=4)
    layer.b.data = rng.standard_normal(5).astype(np.float32)
    ref = torch.nn.Linear(4, 5)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(layer.W.data.T.copy()))  # torch keeps (out, in)
        ref.bias.copy_(torch.from_numpy(layer.b.data))
    x = rng.standard_normal((3, 4)).astype(np.float32)
    gy = rng.standard_normal((3, 5)).astype(np.float32)
    xv = zg.Variable(x)
    y = layer(xv)
    (y * gy).sum().backward()
    xt = torch.tensor(x, requires_grad=True)
    yt = ref(xt)
    (yt * torch.from_numpy(gy)).sum().backward()
    _close(y, yt, "y")
    _close(xv.grad, xt.grad, "gx")
    _close(layer.W.grad.data.T, ref.weight.grad, "gW")
    _close(layer.b.grad, ref.bias.grad, "gb")


@pytest.mark.parametrize(
    ("stride", "pad", "kernel"), [(1, 0, 3), (2, 1, 3), ((2, 1), (0, 1), (2, 3))]
)
def test_conv2d_matches_torch(torch: Any, stride: Any, pad: Any, kernel: Any) -> None:
    rng = np.random.default_rng(1)
    layer = L.Conv2d(4, kernel, stride=stride, pad=pad, in_channels=3)
    layer.b.data = rng.standard_normal(4).astype(np.float32)
    ref = torch.nn.Conv2d(3, 4, kernel, stride=stride, padding=pad)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(layer.W.data))  # same (OC, C, KH, KW) layout
        ref.bias.copy_(torch.from_numpy(layer.b.data))
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    xv = zg.Variable(x)
    y = layer(xv)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    (y * gy).sum().backward()
    xt = torch.tensor(x, requires_grad=True)
    yt = ref(xt)
    (yt * torch.from_numpy(gy)).sum().backward()
    _close(y, yt, "y", rtol=1e-4, atol=1e-5)
    _close(xv.grad, xt.grad, "gx", rtol=1e-4, atol=1e-5)
    _close(layer.W.grad, ref.weight.grad, "gW", rtol=1e-4, atol=1e-4)
    _close(layer.b.grad, ref.bias.grad, "gb", rtol=1e-4, atol=1e-4)


def test_deconv2d_matches_torch(torch: Any) -> None:
    rng = np.random.default_rng(2)
    layer = L.Deconv2d(2, 3, stride=2, pad=1, in_channels=3)
    layer.b.data = rng.standard_normal(2).astype(np.float32)
    ref = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(layer.W.data))  # same (C, OC, KH, KW) layout
        ref.bias.copy_(torch.from_numpy(layer.b.data))
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    xv = zg.Variable(x)
    y = layer(xv)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    (y * gy).sum().backward()
    xt = torch.tensor(x, requires_grad=True)
    yt = ref(xt)
    (yt * torch.from_numpy(gy)).sum().backward()
    _close(y, yt, "y", rtol=1e-4, atol=1e-5)
    _close(xv.grad, xt.grad, "gx", rtol=1e-4, atol=1e-5)
    _close(layer.W.grad, ref.weight.grad, "gW", rtol=1e-4, atol=1e-4)
    _close(layer.b.grad, ref.bias.grad, "gb", rtol=1e-4, atol=1e-4)


def _run_sequence(layer: zg.Layer, xs: np.ndarray, gys: np.ndarray) -> tuple[list, zg.Variable]:
    xv = zg.Variable(xs)
    layer.reset_state()
    hs = [layer(xv[t]) for t in range(len(xs))]
    total = None
    for h, g in zip(hs, gys):
        term = (h * g).sum()
        total = term if total is None else total + term
    total.backward()
    return hs, xv


# torch's gate order in weight_ih/weight_hh/biases: input, forget, cell (u), output.
_TORCH_GATES = {"i": 0, "f": 1, "u": 2, "o": 3}


def test_lstm_matches_torch(torch: Any) -> None:
    rng = np.random.default_rng(3)
    T, N, n_in, H = 5, 2, 3, 4
    layer = L.LSTM(H, in_size=n_in)
    ref = torch.nn.LSTM(n_in, H)  # zero initial state, like zerograd's first step
    with torch.no_grad():
        for gate, k in _TORCH_GATES.items():
            x2, h2 = getattr(layer, "x2" + gate), getattr(layer, "h2" + gate)
            x2.b.data = rng.standard_normal(H).astype(np.float32)
            rows = slice(k * H, (k + 1) * H)
            ref.weight_ih_l0[rows] = torch.from_numpy(x2.W.data.T.copy())
            ref.weight_hh_l0[rows] = torch.from_numpy(h2.W.data.T.copy())
            ref.bias_ih_l0[rows] = torch.from_numpy(x2.b.data)
            ref.bias_hh_l0[rows] = 0.0
    xs = rng.standard_normal((T, N, n_in)).astype(np.float32)
    gys = rng.standard_normal((T, N, H)).astype(np.float32)
    hs, xv = _run_sequence(layer, xs, gys)
    xt = torch.tensor(xs, requires_grad=True)
    out, (_, c_n) = ref(xt)
    (out * torch.from_numpy(gys)).sum().backward()
    for t in range(T):
        _close(hs[t], out[t], f"h[{t}]")
    _close(layer.c, c_n[0], "c_T")
    _close(xv.grad, xt.grad, "gx")
    for gate, k in _TORCH_GATES.items():
        rows = slice(k * H, (k + 1) * H)
        x2, h2 = getattr(layer, "x2" + gate), getattr(layer, "h2" + gate)
        _close(x2.W.grad.data.T, ref.weight_ih_l0.grad[rows], f"x2{gate}.W")
        _close(h2.W.grad.data.T, ref.weight_hh_l0.grad[rows], f"h2{gate}.W")
        _close(x2.b.grad, ref.bias_ih_l0.grad[rows], f"x2{gate}.b")


def test_rnn_matches_torch(torch: Any) -> None:
    rng = np.random.default_rng(4)
    T, N, n_in, H = 4, 3, 2, 5
    layer = L.RNN(H, in_size=n_in)
    layer.x2h.b.data = rng.standard_normal(H).astype(np.float32)
    ref = torch.nn.RNN(n_in, H, nonlinearity="tanh")
    with torch.no_grad():
        ref.weight_ih_l0.copy_(torch.from_numpy(layer.x2h.W.data.T.copy()))
        ref.weight_hh_l0.copy_(torch.from_numpy(layer.h2h.W.data.T.copy()))
        ref.bias_ih_l0.copy_(torch.from_numpy(layer.x2h.b.data))
        ref.bias_hh_l0.zero_()
    xs = rng.standard_normal((T, N, n_in)).astype(np.float32)
    gys = rng.standard_normal((T, N, H)).astype(np.float32)
    hs, xv = _run_sequence(layer, xs, gys)
    xt = torch.tensor(xs, requires_grad=True)
    out, _ = ref(xt)
    (out * torch.from_numpy(gys)).sum().backward()
    for t in range(T):
        _close(hs[t], out[t], f"h[{t}]")
    _close(xv.grad, xt.grad, "gx")
    _close(layer.x2h.W.grad.data.T, ref.weight_ih_l0.grad, "x2h.W")
    _close(layer.h2h.W.grad.data.T, ref.weight_hh_l0.grad, "h2h.W")
    _close(layer.x2h.b.grad, ref.bias_ih_l0.grad, "x2h.b")


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5, 5)])
def test_batch_norm_matches_torch(torch: Any, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(5)
    layer = L.BatchNorm()
    cls = torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d
    ref = cls(3, eps=2e-5, momentum=0.1)  # torch's momentum is 1 - decay
    for step in range(3):
        x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
        gy = rng.standard_normal(shape).astype(np.float32)
        layer.cleargrads()
        xv = zg.Variable(x)
        y = layer(xv)
        (y * gy).sum().backward()
        ref.zero_grad()
        xt = torch.tensor(x, requires_grad=True)
        yt = ref(xt)
        (yt * torch.from_numpy(gy)).sum().backward()
        _close(y, yt, f"y step {step}", rtol=1e-4, atol=1e-5)
        _close(xv.grad, xt.grad, f"gx step {step}", rtol=1e-4, atol=1e-4)
        _close(layer.gamma.grad, ref.weight.grad, f"ggamma step {step}", rtol=1e-4, atol=1e-4)
        _close(layer.beta.grad, ref.bias.grad, f"gbeta step {step}", rtol=1e-4, atol=1e-4)
        _close(layer.avg_mean, ref.running_mean, "running mean")
        _close(layer.avg_var, ref.running_var, "running var", rtol=1e-5)
    ref.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    with zg.test_mode():
        _close(layer(x), ref(torch.from_numpy(x)), "test mode", rtol=1e-4, atol=1e-5)


def test_embed_id_matches_torch(torch: Any) -> None:
    layer = L.EmbedID(6, 3, dtype=np.float32)
    ref = torch.nn.Embedding(6, 3)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(layer.W.data))
    ids = np.array([[0, 5, 5], [2, 0, 1]])
    gy = np.random.default_rng(6).standard_normal((2, 3, 3)).astype(np.float32)
    y = layer(ids)
    (y * gy).sum().backward()
    yt = ref(torch.from_numpy(ids))
    (yt * torch.from_numpy(gy)).sum().backward()
    _close(y, yt, "y")
    _close(layer.W.grad, ref.weight.grad, "gW")
