# Steps 33-36: Newton's method by double backprop, higher derivatives of sin and tanh,
# and a gradient used inside a new graph.
import dezero.functions as F
import numpy as np
from dezero import Variable


def f(x):
    y = x**4 - 2 * x**2
    return y


x = Variable(np.array(2.0))
iters = 10
for i in range(iters):
    print(i, x)
    y = f(x)
    x.cleargrad()
    y.backward(create_graph=True)
    gx = x.grad
    x.cleargrad()
    gx.backward()
    gx2 = x.grad
    x.data -= gx.data / gx2.data

x = Variable(np.linspace(-7, 7, 9))
y = F.sin(x)
y.backward(create_graph=True)
logs = [y.data]
for i in range(3):
    logs.append(x.grad.data)
    gx = x.grad
    x.cleargrad()
    gx.backward(create_graph=True)
for i, v in enumerate(logs):
    print("sin order", i, v)

x = Variable(np.array(1.0))
y = F.tanh(x)
x.name = "x"
y.name = "y"
y.backward(create_graph=True)
for i in range(5):
    gx = x.grad
    x.cleargrad()
    gx.backward(create_graph=True)
    print("tanh order", i + 2, x.grad)

x = Variable(np.array(2.0))
y = x**2
y.backward(create_graph=True)
gx = x.grad
x.cleargrad()
z = gx**3 + y
z.backward()
print("double backprop", x.grad)
