r"""
Steps 1-10: variables, functions and backpropagation
====================================================

The first stage of the book builds the two classes everything rests on: a ``Variable`` holds
an array (and later its gradient); a ``Function`` maps Variables to Variables and remembers
how to run backwards. zerograd's are the finished versions of the book's.
"""

# %%
# Step 1: a Variable is a box for an ndarray
# ------------------------------------------
import numpy as np

import zerograd as zg
from zerograd import Function, Variable

data = np.array(1.0)
x = Variable(data)
print(x.data)
x.data = np.array(2.0)
print(x.data, x.ndim)

# %%
# Steps 2-3: functions, and chaining them
# ---------------------------------------
# A function implements ``forward`` on arrays; calling it wraps inputs and outputs as
# Variables. Step 9 adds the Python-function style (``square(x)``) used from then on.


class Square(Function):
    def forward(self, x):
        return x**2

    def backward(self, gy):
        x = self.inputs[0].data
        return 2 * x * gy


class Exp(Function):
    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        x = self.inputs[0].data
        return np.exp(x) * gy


def square(x):
    return Square()(x)


def exp(x):
    return Exp()(x)


x = Variable(np.array(0.5))
y = square(exp(square(x)))
print(type(y).__name__, y.data)

# %%
# Step 4: numerical differentiation
# ---------------------------------
# The central difference :math:`f'(x) \approx \frac{f(x+h) - f(x-h)}{2h}` is the reference
# every backward is checked against.


def numerical_diff(f, x, eps=1e-4):
    # 0-d array - float is a NumPy scalar, not an array: as_array makes it one again (step 9).
    x0 = Variable(zg.as_array(x.data - eps))
    x1 = Variable(zg.as_array(x.data + eps))
    return (f(x1).data - f(x0).data) / (2 * eps)


def composite(x):
    return square(exp(square(x)))


print(numerical_diff(composite, Variable(np.array(0.5))))

# %%
# Steps 5-8: backpropagation, by hand and then automatically
# ----------------------------------------------------------
# By the chain rule, :math:`\frac{dy}{dx} = \frac{dy}{db}\frac{db}{da}\frac{da}{dx}`. Each
# output remembers its ``creator``; ``backward()`` walks the creators from ``y`` back to
# ``x`` (zerograd's walk is a loop, never recursion: step 8's change).

x = Variable(np.array(0.5))
a = square(x)
b = exp(a)
y = square(b)
assert y.creator.inputs[0] is b and b.creator.inputs[0] is a
y.backward()  # step 9: the seed dy/dy = 1 is filled in
print(x.grad)

# %%
# Step 9: friendlier functions
# ----------------------------
# Only ndarrays are data: a Python float is refused with a clear error, and a 0-d result
# stays an ndarray (``as_array``).
try:
    Variable(1.0)
except TypeError as e:
    print("TypeError:", e)
print(type(zg.as_array(1.0)))

# %%
# Step 10: testing
# ----------------
# The book tests ``square`` against the numerical derivative with ``unittest``. zerograd
# ships the same check as ``gradient_check`` (DeZero's ``utils``), and a stricter one,
# ``zerograd.testing.check_backward``, which also uses a random upstream gradient and checks
# second derivatives.
from zerograd.testing import check_backward
from zerograd.utils import gradient_check

x = np.random.rand(1)
print(gradient_check(square, x))
check_backward(lambda v: exp(square(v)), np.random.rand(3), second_order=False)
print("check_backward: ok")
