# Steps 55-58: conv2d and pooling, their gradients, and a small CNN layer stack.
import dezero.functions as F
import dezero.layers as L
import numpy as np
from dezero import Variable
from dezero.utils import get_conv_outsize

H, W = 4, 4
KH, KW = 3, 3
SH, SW = 1, 1
PH, PW = 1, 1
print(get_conv_outsize(H, KH, SH, PH), get_conv_outsize(W, KW, SW, PW))

np.random.seed(0)
x1 = np.random.rand(1, 3, 7, 7)
col1 = F.im2col(x1, kernel_size=5, stride=1, pad=0, to_matrix=True)
print(col1.shape)
x2 = np.random.rand(10, 3, 7, 7)
kernel_size = (5, 5)
col2 = F.im2col(x2, kernel_size, stride=1, pad=0, to_matrix=True)
print(col2.shape)

N, C, H, W = 1, 5, 15, 15
OC, (KH, KW) = 8, (3, 3)
x = Variable(np.random.randn(N, C, H, W))
W = np.random.randn(OC, C, KH, KW)
y = F.conv2d_simple(x, W, b=None, stride=1, pad=1)
y.backward()
print(y.shape)
print(x.grad.shape)
print(float(y.data.sum()), float(x.grad.data.sum()))

x = Variable(np.random.randn(2, 3, 8, 8).astype(np.float32))
conv = L.Conv2d(4, kernel_size=3, stride=1, pad=1)
y = F.relu(conv(x))
z = F.pooling(y, 2, 2)
w = F.sum(z * z)
w.backward()
print(z.shape, w)  # dtype: float32 here; DeZero on NumPy 2 promotes to float64
print(conv.W.grad.data.sum(), conv.b.grad.data[:2], x.grad.data[0, 0, 0])
