"""The engine: Variables, Functions, configuration and the backward pass."""

from zerograd.autograd import backward as _backward  # noqa: F401 (binds Variable.backward)
from zerograd.autograd.anomaly import AnomalyError, detect_anomaly
from zerograd.autograd.config import Config, no_grad, test_mode, using_config
from zerograd.autograd.function import Function  # after Variable (import cycle)
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
    "no_grad",
    "test_mode",
    "using_config",
]
