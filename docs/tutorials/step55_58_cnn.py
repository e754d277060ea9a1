r"""
Steps 55-58: convolution, pooling and a CNN
===========================================

The output size of a convolution, the im2col trick that turns it into one matrix product,
``conv2d`` and ``pooling`` with their gradients, and the layers of a CNN (VGG16 at the end).
"""

# %%
# Step 55: output sizes
# ---------------------
# For input size :math:`H`, kernel :math:`K`, stride :math:`S` and padding :math:`P`, the
# output has :math:`(H + 2P - K) / S + 1` rows.
import numpy as np

import zerograd.functions as F
import zerograd.layers as L
from zerograd import Variable
from zerograd.models import VGG16
from zerograd.utils import get_conv_outsize

H, W = 4, 4
KH, KW = 3, 3
SH, SW = 1, 1
PH, PW = 1, 1
print(get_conv_outsize(H, KH, SH, PH), get_conv_outsize(W, KW, SW, PW))

# %%
# Steps 56-57: im2col, conv2d and pooling
# ---------------------------------------
# ``im2col`` lays every kernel-sized patch out as a row, so the convolution is one matrix
# product with the flattened kernels.
np.random.seed(0)
x1 = np.random.rand(1, 3, 7, 7)
col1 = F.im2col(x1, kernel_size=5, stride=1, pad=0, to_matrix=True)
print(col1.shape)

N, C, H, W = 1, 5, 15, 15
OC, (KH, KW) = 8, (3, 3)
x = Variable(np.random.randn(N, C, H, W))
W = np.random.randn(OC, C, KH, KW)
y = F.conv2d(x, W, b=None, stride=1, pad=1)
y.backward()
print(y.shape, x.grad.shape)

x = Variable(np.random.randn(2, 3, 8, 8).astype(np.float32))
conv = L.Conv2d(4, kernel_size=3, stride=1, pad=1)
z = F.pooling(F.relu(conv(x)), 2, 2)
loss = F.sum(z * z)
loss.backward()
print(z.shape, z.dtype, conv.W.grad.shape)

# %%
# Step 58: VGG16
# --------------
# The book loads VGG16's trained ImageNet weights (``VGG16(pretrained=True)``, a 528 MB
# download); this page builds it untrained and runs it on one small image to show its
# layers. Its parameter names are DeZero's, so DeZero's weight files load into it.
np.random.seed(0)
model = VGG16()
x = np.random.rand(1, 3, 32, 32).astype(np.float32)
print(model.summary(x))
