"""DeZero's ``dezero.core`` import path: the engine's public names."""

from zerograd.autograd import (
    Config,
    Function,
    Parameter,
    Variable,
    as_array,
    as_variable,
    no_grad,
    test_mode,
    using_config,
)


def setup_variable() -> None:
    """DeZero installs Variable's operators here; zerograd defines them on the class."""


__all__ = [
    "Config",
    "Function",
    "Parameter",
    "Variable",
    "as_array",
    "as_variable",
    "no_grad",
    "setup_variable",
    "test_mode",
    "using_config",
]
