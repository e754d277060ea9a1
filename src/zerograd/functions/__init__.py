"""Differentiable functions (DeZero's ``dezero.functions``): ``import zerograd.functions as F``.

One family per module: ``arithmetic`` (the Variable operators), ``elementwise``, ``shape``,
``reduction``, ``linalg``, ``activation``, ``loss``, ``normalization``, ``conv`` and
``pooling``. Every function is differentiable to any order where the math is.
"""

import sys as _sys

from zerograd.autograd import variable as _variable
from zerograd.functions.activation import (
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    sigmoid_simple,
    softmax,
    softmax_simple,
    softplus,
)
from zerograd.functions.arithmetic import add, div, mul, neg, pow, rdiv, rpow, rsub, sub
from zerograd.functions.conv import col2im, conv2d, conv2d_simple, deconv2d, im2col
from zerograd.functions.elementwise import (
    abs,
    clip,
    cos,
    exp,
    log,
    maximum,
    minimum,
    sin,
    sqrt,
    square,
    tanh,
    where,
)
from zerograd.functions.linalg import embed_id, linear, linear_simple, matmul
from zerograd.functions.loss import (
    accuracy,
    binary_cross_entropy,
    mean_squared_error,
    mean_squared_error_simple,
    sigmoid_cross_entropy,
    softmax_cross_entropy,
    softmax_cross_entropy_simple,
)
from zerograd.functions.normalization import batch_norm, batch_nrom, dropout, layer_norm
from zerograd.functions.pooling import average_pooling, pooling, pooling_simple
from zerograd.functions.reduction import (
    argmax,
    average,
    broadcast_to,
    logsumexp,
    max,
    mean,
    min,
    reshape_sum_backward,
    sum,
    sum_to,
    var,
)
from zerograd.functions.shape import (
    concat,
    expand_dims,
    flatten,
    get_item,
    reshape,
    split,
    stack,
    transpose,
)

_variable._F = _sys.modules[__name__]  # Variable's methods call these functions
_V = _variable.Variable
_V.__add__ = _V.__radd__ = add
_V.__sub__, _V.__rsub__ = sub, rsub
_V.__mul__ = _V.__rmul__ = mul
_V.__truediv__, _V.__rtruediv__ = div, rdiv
_V.__pow__, _V.__rpow__ = pow, rpow
_V.__neg__, _V.__abs__ = neg, abs
_V.__matmul__ = matmul
_V.__getitem__ = get_item

__all__ = [
    "abs",
    "accuracy",
    "add",
    "argmax",
    "average",
    "average_pooling",
    "batch_norm",
    "batch_nrom",
    "binary_cross_entropy",
    "broadcast_to",
    "clip",
    "col2im",
    "concat",
    "conv2d",
    "conv2d_simple",
    "cos",
    "deconv2d",
    "div",
    "dropout",
    "embed_id",
    "exp",
    "expand_dims",
    "flatten",
    "gelu",
    "get_item",
    "im2col",
    "layer_norm",
    "leaky_relu",
    "linear",
    "linear_simple",
    "log",
    "log_softmax",
    "logsumexp",
    "matmul",
    "max",
    "maximum",
    "mean",
    "mean_squared_error",
    "mean_squared_error_simple",
    "min",
    "minimum",
    "mul",
    "neg",
    "pooling",
    "pooling_simple",
    "pow",
    "rdiv",
    "relu",
    "reshape",
    "reshape_sum_backward",
    "rpow",
    "rsub",
    "sigmoid",
    "sigmoid_cross_entropy",
    "sigmoid_simple",
    "sin",
    "softmax",
    "softmax_cross_entropy",
    "softmax_cross_entropy_simple",
    "softmax_simple",
    "softplus",
    "split",
    "sqrt",
    "square",
    "stack",
    "sub",
    "sum",
    "sum_to",
    "tanh",
    "transpose",
    "var",
    "where",
]
