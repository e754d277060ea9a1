r"""
Step 27: the Taylor series of sin
=================================

:math:`\sin x = \sum_{i=0}^{\infty} (-1)^i \frac{x^{2i+1}}{(2i+1)!}`, summed until a term is
smaller than a threshold: a graph built by a Python loop, as long as the precision asks for.
"""

import math

import numpy as np

import zerograd.functions as F
from zerograd import Variable
from zerograd.utils import plot_dot_graph


def my_sin(x, threshold=0.0001):
    y = 0
    for i in range(100000):
        c = (-1) ** i / math.factorial(2 * i + 1)
        t = c * x ** (2 * i + 1)
        y = y + t
        if abs(t.data) < threshold:
            break
    return y


x = Variable(np.array(np.pi / 4), name="x")
y = my_sin(x)
y.backward()
print("my_sin:", y.data, " gradient:", x.grad.data)
y2 = F.sin(Variable(np.array(np.pi / 4)))
print("F.sin: ", y2.data, " cos(pi/4):", np.cos(np.pi / 4))

# %%
# A looser threshold stops earlier: a smaller graph.
x = Variable(np.array(np.pi / 4), name="x")
y = my_sin(x, threshold=0.01)
y.name = "y"
plot_dot_graph(y, verbose=False, to_file="taylor.svg")
