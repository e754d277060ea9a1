# Step 29: Newton's method with a hand-written second derivative, on the simple core too.
import numpy as np
from dezero import Variable
from dezero.core_simple import Variable as SimpleVariable
from dezero.core_simple import setup_variable

setup_variable()  # the simple core's operators (the book calls it in dezero/__init__)


def f(x):
    y = x**4 - 2 * x**2
    return y


def gx2(x):
    return 12 * x**2 - 4


x = Variable(np.array(2.0))
iters = 10
for i in range(iters):
    print(i, x)
    y = f(x)
    x.cleargrad()
    y.backward()
    x.data -= x.grad.data / gx2(x.data)

x = SimpleVariable(np.array(2.0))
for i in range(iters):
    print(i, x, type(x.grad).__name__)
    y = f(x)
    x.cleargrad()
    y.backward()
    x.data -= x.grad / gx2(x.data)
