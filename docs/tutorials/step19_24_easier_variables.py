r"""
Steps 19-24: variables that read like NumPy, and three test functions
=====================================================================

Names, shapes and a printable form for Variables; operators, so that formulas are written as
formulas; and the test functions of optimization (sphere, Matyas, Goldstein-Price) with
their gradients.
"""

# %%
# Step 19: a Variable behaves like its array
# ------------------------------------------
import numpy as np

from zerograd import Variable

x = Variable(np.array([[1, 2, 3], [4, 5, 6]]), name="x")
print(x.name, x.shape, x.ndim, x.size, x.dtype, len(x))
print(x)

# %%
# Steps 20-22: operator overloading
# ---------------------------------
# ``+ - * / **`` and unary ``-`` build the graph; Python numbers and ndarrays mix in on either
# side (``__array_priority__`` makes ``ndarray * Variable`` a Variable).
a = Variable(np.array(3.0))
b = Variable(np.array(2.0))
c = Variable(np.array(1.0))
y = a * b + c
y.backward()
print(y, a.grad, b.grad)
print(np.array([2.0]) * Variable(np.array([3.0])), 3.0 - Variable(np.array(2.0)), -a, a**3 / 3)

# %%
# Steps 23-24: test functions
# ---------------------------
# Step 23 makes DeZero a package (here: ``import zerograd``). Step 24 differentiates three
# classic functions: :math:`x^2 + y^2`, Matyas's
# :math:`0.26 (x^2 + y^2) - 0.48 x y` and Goldstein-Price's.


def sphere(x, y):
    return x**2 + y**2


def matyas(x, y):
    return 0.26 * (x**2 + y**2) - 0.48 * x * y


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
    print(
        f"{f.__name__:9s} z={float(z.data):8.2f}  dz/dx={float(x.grad.data):8.2f}  "
        f"dz/dy={float(y.grad.data):8.2f}"
    )
