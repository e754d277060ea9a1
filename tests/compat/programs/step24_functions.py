# Steps 23-24: the full core's operators on the book's test functions.
if "__file__" in globals():
    import os
    import sys

    sys.path.append(os.path.join(os.path.dirname(__file__), ".."))
import numpy as np
from dezero import Variable


def sphere(x, y):
    z = x**2 + y**2
    return z


def matyas(x, y):
    z = 0.26 * (x**2 + y**2) - 0.48 * x * y
    return z


def goldstein(x, y):
    z = (1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)) * (
        30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
    )
    return z


for f in (sphere, matyas, goldstein):
    x = Variable(np.array(1.0))
    y = Variable(np.array(1.0))
    z = f(x, y)
    z.backward()
    print(f.__name__, z, x.grad, y.grad)

x = Variable(np.array([[1.0, 2.0], [3.0, 4.0]]), name="x")
y = (x - 1) / 2 + (-x) ** 3 * 0.5 - 3.0 / x + np.array(2.0) * x
y.backward()
print(y.shape, y.ndim, y.size, y.dtype, len(y), x.name)
print(y)
print(x.grad)
