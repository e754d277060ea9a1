# Step 54: dropout and test mode.
import dezero.functions as F
import numpy as np
from dezero import test_mode

np.random.seed(0)
x = np.ones(5)
print(x)

y = F.dropout(x)
print(y)

with test_mode():
    y = F.dropout(x)
    print(y)

x = np.arange(12, dtype=np.float32).reshape(3, 4)
print(F.dropout(x, dropout_ratio=0.25))
