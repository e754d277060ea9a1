r"""
Steps 30-36: higher-order derivatives
=====================================

The backward pass is itself made of differentiable functions. With
``backward(create_graph=True)`` it is recorded as a graph, so a gradient can be differentiated
again, to any order: Newton's method needs no hand-written second derivative, and the
derivatives of ``sin`` and ``tanh`` come out of the same machinery.
"""

# %%
# Steps 30-33: second derivatives and Newton's method, automatically
# ------------------------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np

import zerograd.functions as F
from zerograd import Variable
from zerograd.utils import plot_dot_graph


def f(x):
    return x**4 - 2 * x**2


x = Variable(np.array(2.0))
for i in range(10):
    print(i, x)
    y = f(x)
    x.cleargrad()
    y.backward(create_graph=True)
    gx = x.grad
    x.cleargrad()
    gx.backward()
    gx2 = x.grad
    x.data -= gx.data / gx2.data

# %%
# Step 34: derivatives of sin, to the third order
# -----------------------------------------------
x = Variable(np.linspace(-7, 7, 200))
y = F.sin(x)
y.backward(create_graph=True)
logs = [y.data]
for i in range(3):
    logs.append(x.grad.data)
    gx = x.grad
    x.cleargrad()
    gx.backward(create_graph=True)
for i, v in enumerate(logs):
    plt.plot(x.data, v, label="y" + "'" * i)
plt.legend(loc="lower right")

# %%
# Step 35: the graph of tanh's higher derivatives
# -----------------------------------------------
# Each order differentiates the previous order's graph. zerograd seeds backward with a
# constant (as torch does), so these graphs stay small; here is the third derivative's.
x = Variable(np.array(1.0), name="x")
y = F.tanh(x)
y.backward(create_graph=True)
for i in range(2):
    gx = x.grad
    x.cleargrad()
    gx.backward(create_graph=True)
    print("order", i + 2, x.grad)
gx = x.grad
gx.name = "gx3"
plot_dot_graph(gx, verbose=False, to_file="tanh_third.svg")

# %%
# Step 36: double backprop
# ------------------------
# A gradient can enter a new computation: with :math:`y = x^2` and :math:`z = (y')^3 + y`,
# :math:`dz/dx = 24 x^2 + 2x`, which is 100 at :math:`x = 2`.
x = Variable(np.array(2.0))
y = x**2
y.backward(create_graph=True)
gx = x.grad
x.cleargrad()
z = gx**3 + y
z.backward()
print(x.grad)
