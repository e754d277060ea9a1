"""zerograd: a define-by-run deep-learning framework with DeZero's API.

>>> import numpy as np, zerograd as zg
>>> x = zg.Variable(np.array(2.0))
>>> a = x ** 2
>>> y = a ** 2 + a ** 2
>>> y.backward()
>>> float(y.data), float(x.grad.data)
(32.0, 64.0)
"""

from zerograd import autograd, core, cuda, functions
from zerograd.autograd import (
    AnomalyError,
    Config,
    Function,
    Parameter,
    Variable,
    as_array,
    as_variable,
    detect_anomaly,
    no_grad,
    test_mode,
    using_config,
)
from zerograd.core import setup_variable

__version__ = "0.1.0"
is_simple_core = False

__all__ = [
    "AnomalyError",
    "Config",
    "Function",
    "Parameter",
    "Variable",
    "as_array",
    "as_variable",
    "autograd",
    "core",
    "cuda",
    "detect_anomaly",
    "functions",
    "is_simple_core",
    "no_grad",
    "setup_variable",
    "test_mode",
    "using_config",
]
