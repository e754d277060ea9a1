r"""
Steps 44-46: parameters, layers, models and optimizers
======================================================

``Parameter`` marks what training updates; a ``Layer`` collects its parameters (and child
layers) by attribute assignment; a ``Model`` is a layer you can call and draw; an
``Optimizer`` updates every parameter of a model in one call.
"""

# %%
# Step 44: layers
# ---------------
# ``L.Linear(10)`` infers its input size at the first call, drawing its weights from NumPy's
# global RNG exactly where DeZero does: seeded scripts print the book's numbers.
import numpy as np

import zerograd.functions as F
import zerograd.layers as L
from zerograd import Model, optimizers
from zerograd.models import MLP

np.random.seed(0)
x = np.random.rand(100, 1)
y = np.sin(2 * np.pi * x) + np.random.rand(100, 1)

l1 = L.Linear(10)
l2 = L.Linear(1)


def predict(x):
    return l2(F.sigmoid(l1(x)))


lr = 0.2
for i in range(1000):
    loss = F.mean_squared_error(y, predict(x))
    l1.cleargrads()
    l2.cleargrads()
    loss.backward()
    for layer in (l1, l2):
        for p in layer.params():
            p.data -= lr * p.grad.data
    if i % 250 == 0:
        print(i, loss)

# %%
# Step 45: a model of layers
# --------------------------
# Layers nest; ``params()`` yields every parameter in a stable, documented order (the order
# the attributes were assigned), and ``plot`` draws the model's graph.


class TwoLayerNet(Model):
    def __init__(self, hidden_size, out_size):
        super().__init__()
        self.l1 = L.Linear(hidden_size)
        self.l2 = L.Linear(out_size)

    def forward(self, x):
        return self.l2(F.sigmoid(self.l1(x)))


model = TwoLayerNet(10, 1)
print(model)
print([name for name, _ in model.named_params()])
model.plot(np.random.randn(5, 1), to_file="two_layer_net.svg")

# %%
# Step 46: optimizers
# -------------------
# ``setup(model)`` returns the optimizer; ``update()`` applies one step to every parameter
# that has a gradient. The same 300 steps with each of DeZero's optimizers:
for opt in (
    optimizers.SGD(0.2),
    optimizers.MomentumSGD(),
    optimizers.AdaGrad(),
    optimizers.AdaDelta(),
    optimizers.Adam(),
):
    model = MLP((10, 1))
    opt.setup(model)
    for i in range(300):
        loss = F.mean_squared_error(y, model(x))
        model.cleargrads()
        loss.backward()
        opt.update()
    print(f"{type(opt).__name__:12s} loss after 300 steps: {float(loss.data):.4f}")
