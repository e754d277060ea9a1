r"""
Steps 42-43: linear regression and a first neural network
=========================================================

Fitting a line to noisy points by gradient descent on the mean squared error, then a
two-layer network, with weights written out by hand, that fits a sine wave.
"""

# %%
# Step 42: linear regression
# --------------------------
import matplotlib.pyplot as plt
import numpy as np

import zerograd.functions as F
from zerograd import Variable

np.random.seed(0)
x = np.random.rand(100, 1)
y = 5 + 2 * x + np.random.rand(100, 1)
x, y = Variable(x), Variable(y)

W = Variable(np.zeros((1, 1)))
b = Variable(np.zeros(1))


def predict(x):
    return F.matmul(x, W) + b


lr = 0.1
for i in range(100):
    y_pred = predict(x)
    loss = F.mean_squared_error(y, y_pred)
    W.cleargrad()
    b.cleargrad()
    loss.backward()
    W.data -= lr * W.grad.data
    b.data -= lr * b.grad.data
print("W =", W.data.ravel(), " b =", b.data, " loss =", loss.data)

plt.scatter(x.data, y.data, s=10)
xs = np.array([[0.0], [1.0]])
plt.plot(xs, predict(xs).data, color="C1")

# %%
# Step 43: a neural network
# -------------------------
# Two linear maps with a sigmoid between them, :math:`y = W_2\,\sigma(W_1 x + b_1) + b_2`, fit a
# nonlinear curve. Weights are drawn as the book draws them, so the losses are the book's.
np.random.seed(0)
x = np.random.rand(100, 1)
y = np.sin(2 * np.pi * x) + np.random.rand(100, 1)

I, H, O = 1, 10, 1
W1 = Variable(0.01 * np.random.randn(I, H))
b1 = Variable(np.zeros(H))
W2 = Variable(0.01 * np.random.randn(H, O))
b2 = Variable(np.zeros(O))


def predict(x):
    y = F.linear(x, W1, b1)
    y = F.sigmoid(y)
    y = F.linear(y, W2, b2)
    return y


lr = 0.2
for i in range(10000):
    y_pred = predict(x)
    loss = F.mean_squared_error(y, y_pred)
    for p in (W1, b1, W2, b2):
        p.cleargrad()
    loss.backward()
    for p in (W1, b1, W2, b2):
        p.data -= lr * p.grad.data
    if i % 2000 == 0:
        print(i, loss)

plt.figure()
plt.scatter(x, y, s=10)
t = np.arange(0, 1, 0.01)[:, np.newaxis]
plt.plot(t, predict(t).data, color="C1")
