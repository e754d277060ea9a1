# Steps 37-41: tensors: elementwise ops, reshape/transpose, sum, broadcast, matmul.
import dezero.functions as F
import numpy as np
from dezero import Variable

x = Variable(np.array([[1, 2, 3], [4, 5, 6]]))
c = Variable(np.array([[10, 20, 30], [40, 50, 60]]))
t = x + c
y = F.sum(t)
y.backward(retain_grad=True)
print(y.grad, t.grad, x.grad, c.grad)

x = Variable(np.array([[1, 2, 3], [4, 5, 6]]))
y = F.reshape(x, (6,))
y.backward(retain_grad=True)
print(x.grad)
x = Variable(np.random.RandomState(0).randn(1, 2, 3))
print(x.reshape((2, 3)).shape, x.reshape(2, 3).shape, x.transpose().shape, x.T.shape)
y = F.transpose(Variable(np.array([[1, 2, 3], [4, 5, 6]])))
print(y)

x = Variable(np.array([[1, 2, 3], [4, 5, 6]]))
y = F.sum(x, axis=0)
y.backward()
print(y, x.grad)
x = Variable(np.random.RandomState(1).randn(2, 3, 4, 5))
y = x.sum(keepdims=True)
print(y.shape)

x0 = Variable(np.array([1, 2, 3]))
x1 = Variable(np.array([10]))
y = x0 + x1
print(y)
y.backward()
print(x1.grad)

rs = np.random.RandomState(2)
x = Variable(rs.randn(2, 3))
W = Variable(rs.randn(3, 4))
y = F.matmul(x, W)
y.backward()
print(x.grad.shape, W.grad.shape)
print(x.grad)
print(W.grad)
