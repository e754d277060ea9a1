"""One program, run by the parity test under DeZero (in a subprocess) and under zerograd: the
framework's ``L``, ``F``, ``optimizers`` and ``MLP`` are passed in. Imports nothing but NumPy."""

from __future__ import annotations

from typing import Any

import numpy as np


def program(L: Any, F: Any, optimizers: Any, MLP: Any) -> dict[str, np.ndarray]:
    out = {}
    np.random.seed(0)
    lin = L.Linear(3, in_size=4)
    out["linear_W"] = lin.W.data
    lazy = L.Linear(5)
    lazy(np.ones((2, 6), dtype=np.float32))
    out["lazy_W"] = lazy.W.data
    conv = L.Conv2d(2, 3, in_channels=2)
    out["conv_W"] = conv.W.data
    lazy_conv = L.Conv2d(2, 3, pad=1)
    lazy_conv(np.ones((1, 3, 4, 4), dtype=np.float32))
    out["lazy_conv_W"] = lazy_conv.W.data
    deconv = L.Deconv2d(2, 3, in_channels=3)
    out["deconv_W"] = deconv.W.data
    emb = L.EmbedID(5, 3)
    out["embed_W"] = emb.W.data
    rnn = L.RNN(4)  # in_size=None: h2h is drawn at the second step, as in DeZero
    x = np.ones((1, 3), dtype=np.float32)
    rnn(x)
    out["rnn_h"] = rnn(x).data
    lstm = L.LSTM(3)
    lstm(x)
    out["lstm_h"] = lstm(x).data
    out["after_layers"] = np.random.rand(3)

    # The book's step 45: a two-layer MLP fit to a noisy sine with SGD.
    np.random.seed(0)
    x = np.random.rand(100, 1)
    y = np.sin(2 * np.pi * x) + np.random.rand(100, 1)
    model = MLP((10, 1))
    opt = optimizers.SGD(0.2).setup(model)
    losses = []
    for i in range(100):
        loss = F.mean_squared_error(model(x), y)
        model.cleargrads()
        loss.backward()
        opt.update()
        losses.append(float(loss.data))
    out["mlp_losses"] = np.array(losses)

    # Adam on a classifier with softmax cross entropy (float32 data).
    np.random.seed(1)
    x = np.random.randn(30, 4).astype(np.float32)
    t = np.random.randint(0, 3, 30)
    model = MLP((8, 3), activation=F.relu)
    opt = optimizers.Adam(alpha=0.01).setup(model)
    losses = []
    for i in range(30):
        loss = F.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        opt.update()
        losses.append(float(loss.data))
    out["adam_losses"] = np.array(losses)
    return out
