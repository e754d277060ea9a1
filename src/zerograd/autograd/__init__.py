"""The engine: Variables, Functions, configuration and the backward pass."""

from zerograd.autograd.anomaly import AnomalyError, detect_anomaly
from zerograd.autograd.backward import grad
from zerograd.autograd.config import Config, no_grad, test_mode, using_config
from zerograd.autograd.function import Function, keep_inputs
from zerograd.autograd.variable import Parameter, Variable, as_array, as_variable

__all__ = [
    "AnomalyError",
    "Config",
    "Function",
    "Parameter",
    "Variable",
    "as_array",
    "as_variable",
    "detect_anomaly",
    "grad",
    "keep_inputs",
    "no_grad",
    "test_mode",
    "using_config",
]
