r"""
Steps 52-53: GPUs, and saving and loading parameters
====================================================

The same code runs on an NVIDIA GPU through CuPy; a model's parameters go to and come back
from a file.
"""

# %%
# Step 52: GPU support
# --------------------
# ``zerograd.cuda`` is the one module that knows CuPy, and it imports it only when asked.
# This site is built on a machine without a GPU, so this page runs on the CPU; on a machine
# with CuPy and a GPU, ``model.to_gpu()`` and ``DataLoader(..., gpu=True)`` move the work
# there with no other change (see the GPU how-to). ``get_array_module`` gives the array
# module of any array or Variable, so one backward rule serves both devices.
import os
import tempfile

import numpy as np

import zerograd.functions as F
from zerograd import cuda, optimizers
from zerograd.models import MLP

print("GPU available:", cuda.gpu_enable)
x = np.random.randn(4, 3).astype(np.float32)
print(cuda.get_array_module(x).__name__)

# %%
# Step 53: saving and loading weights
# -----------------------------------
# ``save_weights`` writes DeZero's npz format (keys ``layer/param``); ``load_weights``
# checks every key, shape and dtype before it changes anything.
np.random.seed(0)
x = np.random.rand(100, 2).astype(np.float32)
t = (x[:, 0] > x[:, 1]).astype(np.int64)
model = MLP((16, 2))
optimizer = optimizers.Adam().setup(model)
for i in range(100):
    loss = F.softmax_cross_entropy(model(x), t)
    model.cleargrads()
    loss.backward()
    optimizer.update()

folder = tempfile.mkdtemp()
path = os.path.join(folder, "mlp.npz")
model.save_weights(path)
print(sorted(np.load(path).files))

restored = MLP((16, 2))
restored(x[:1])  # builds the weights (input size inferred at the first call)
restored.load_weights(path)
print("same predictions:", np.array_equal(model(x).data, restored(x).data))
