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
    """Install ``Variable``'s operators (DeZero's step; ``import zerograd`` runs it)."""
    from zerograd import functions
    from zerograd.autograd.variable import install_operators

    install_operators(functions)


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
