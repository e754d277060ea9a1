r"""
Steps 28-29: gradient descent and Newton's method
=================================================

Minimizing the Rosenbrock function :math:`y = 100 (x_1 - x_0^2)^2 + (1 - x_0)^2` (minimum at
:math:`(1, 1)`) by gradient descent, then minimizing :math:`y = x^4 - 2x^2` by Newton's method
with a second derivative worked out by hand.
"""

# %%
# Step 28: gradient descent on Rosenbrock's valley
# ------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np

from zerograd import Variable


def rosenbrock(x0, x1):
    return 100 * (x1 - x0**2) ** 2 + (1 - x0) ** 2


x0 = Variable(np.array(0.0))
x1 = Variable(np.array(2.0))
lr, iters = 0.001, 10000
path = []
for i in range(iters):
    path.append((float(x0.data), float(x1.data)))
    y = rosenbrock(x0, x1)
    x0.cleargrad()
    x1.cleargrad()
    y.backward()
    x0.data -= lr * x0.grad.data
    x1.data -= lr * x1.grad.data
print(x0, x1)

xs = np.linspace(-2, 2, 200)
X, Y = np.meshgrid(xs, np.linspace(-1, 3, 200))
plt.contour(X, Y, 100 * (Y - X**2) ** 2 + (1 - X) ** 2, levels=np.logspace(-1, 3.5, 12))
plt.plot(*np.array(path).T, ".-", markersize=2, color="C1")
plt.plot(1, 1, "*", markersize=12, color="C3")
plt.title("gradient descent, 10000 steps")

# %%
# Step 29: Newton's method
# ------------------------
# With :math:`f''(x) = 12x^2 - 4` written by hand, Newton's update
# :math:`x \leftarrow x - f'(x) / f''(x)` reaches the minimum at :math:`x = 1` in a few steps.


def f(x):
    return x**4 - 2 * x**2


def gx2(x):
    return 12 * x**2 - 4


x = Variable(np.array(2.0))
for i in range(10):
    print(i, x)
    y = f(x)
    x.cleargrad()
    y.backward()
    x.data -= x.grad.data / gx2(x.data)
