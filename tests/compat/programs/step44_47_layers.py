# ruff: noqa: E741  (written as DeZero users write, as in the book)
# Steps 44-47: Linear layers, a Model, MLP with optimizers, softmax and cross entropy.
import dezero.functions as F
import dezero.layers as L
import numpy as np
from dezero import Model, Variable, optimizers
from dezero.models import MLP

np.random.seed(0)
x = np.random.rand(100, 1)
y = np.sin(2 * np.pi * x) + np.random.rand(100, 1)

l1 = L.Linear(10)
l2 = L.Linear(1)


def predict(x):
    y = l1(x)
    y = F.sigmoid(y)
    y = l2(y)
    return y


lr = 0.2
for i in range(1000):
    y_pred = predict(x)
    loss = F.mean_squared_error(y, y_pred)
    l1.cleargrads()
    l2.cleargrads()
    loss.backward()
    for l in [l1, l2]:
        for p in l.params():
            p.data -= lr * p.grad.data
    if i % 200 == 0:
        print(loss)


class TwoLayerNet(Model):
    def __init__(self, hidden_size, out_size):
        super().__init__()
        self.l1 = L.Linear(hidden_size)
        self.l2 = L.Linear(out_size)

    def forward(self, x):
        y = F.sigmoid(self.l1(x))
        y = self.l2(y)
        return y


model = TwoLayerNet(10, 1)
for i in range(1000):
    y_pred = model(x)
    loss = F.mean_squared_error(y, y_pred)
    model.cleargrads()
    loss.backward()
    for p in model.params():
        p.data -= lr * p.grad.data
    if i % 200 == 0:
        print(loss)

for opt in (optimizers.SGD(lr), optimizers.MomentumSGD(), optimizers.Adam(), optimizers.AdaGrad()):
    model = MLP((10, 1))
    opt.setup(model)
    for i in range(300):
        y_pred = model(x)
        loss = F.mean_squared_error(y, y_pred)
        model.cleargrads()
        loss.backward()
        opt.update()
    print(type(opt).__name__, loss)

model = MLP((10, 3))
x = np.array([[0.2, -0.4], [0.3, 0.5], [1.3, -3.2], [2.1, 0.3]])
t = np.array([2, 0, 1, 0])
y = model(x)
p = F.softmax(y)
loss = F.softmax_cross_entropy(y, t)
loss.backward()
print(y)
print(p)
print(loss)
print(model.l0.W.grad)
x = Variable(np.array([[1, 2, 3], [4, 5, 6]]))
y = F.get_item(x, 1)
y.backward()
print(y, x.grad)
print(x[:, 2], x[[0, 0, 1]])
