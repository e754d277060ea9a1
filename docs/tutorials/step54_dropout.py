r"""
Step 54: dropout and test mode
==============================

Dropout zeroes a random fraction of activations during training and scales the rest by
:math:`1 / (1 - \text{ratio})` (inverted dropout), so that at test time, inside
``test_mode()``, it is simply the identity.
"""

import numpy as np

import zerograd
import zerograd.functions as F

np.random.seed(0)
x = np.ones(10)
y = F.dropout(x)  # the mask is drawn from NumPy's global RNG, as DeZero draws it
print(y)

with zerograd.test_mode():
    y = F.dropout(x)
    print(y)
