"""Differentiable functions (DeZero's ``dezero.functions``): ``import zerograd.functions as F``."""

import sys as _sys

from zerograd.autograd import variable as _variable
from zerograd.functions.arithmetic import add, div, mul, neg, pow, rdiv, rpow, rsub, sub
from zerograd.functions.elementwise import cos, exp, log, sin, tanh
from zerograd.functions.linalg import matmul
from zerograd.functions.reduction import broadcast_to, reshape_sum_backward, sum, sum_to
from zerograd.functions.shape import get_item, reshape, transpose

_variable._F = _sys.modules[__name__]  # Variable's operators call these functions

__all__ = [
    "add",
    "broadcast_to",
    "cos",
    "div",
    "exp",
    "get_item",
    "log",
    "matmul",
    "mul",
    "neg",
    "pow",
    "rdiv",
    "reshape",
    "reshape_sum_backward",
    "rpow",
    "rsub",
    "sin",
    "sub",
    "sum",
    "sum_to",
    "tanh",
    "transpose",
]
