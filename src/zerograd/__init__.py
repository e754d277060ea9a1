"""zerograd: a define-by-run deep-learning framework with DeZero's API.

>>> import numpy as np, zerograd as zg
>>> x = zg.Variable(np.array(2.0))
>>> a = x ** 2
>>> y = a ** 2 + a ** 2
>>> y.backward()
>>> float(y.data), float(x.grad.data)
(32.0, 64.0)
"""

import importlib
from typing import Any

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

setup_variable()  # Variable's operators: the one step that joins the engine and the functions

__version__ = "0.1.0"
is_simple_core = False

# Submodules and names that pull in more code load on first use (PEP 562), so that
# ``import zerograd`` stays light and free of side effects.
_LAZY_MODULES = {
    "core_simple",
    "dataloaders",
    "datasets",
    "functions_conv",
    "layers",
    "models",
    "optimizers",
    "testing",
    "transforms",
    "utils",
    "viz",
}
_LAZY_NAMES = {
    "Layer": "zerograd.layers",
    "Model": "zerograd.models",
    "Dataset": "zerograd.datasets",
    "DataLoader": "zerograd.dataloaders",
    "SeqDataLoader": "zerograd.dataloaders",
    "save": "zerograd.serialization",
    "load": "zerograd.serialization",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY_MODULES:
        return importlib.import_module(f"zerograd.{name}")
    module = _LAZY_NAMES.get(name)
    if module is not None:
        return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module 'zerograd' has no attribute {name!r}")


__all__ = [
    "AnomalyError",
    "Config",
    "DataLoader",
    "Dataset",
    "Function",
    "Layer",
    "Model",
    "Parameter",
    "SeqDataLoader",
    "Variable",
    "as_array",
    "as_variable",
    "autograd",
    "core",
    "cuda",
    "detect_anomaly",
    "functions",
    "is_simple_core",
    "load",
    "no_grad",
    "save",
    "setup_variable",
    "test_mode",
    "using_config",
]
