"""DeZero's ``dezero.functions_conv`` import path: the convolution and pooling family."""

from zerograd.functions._im2col import (
    col2im_array,
    get_conv_outsize,
    get_deconv_outsize,
    im2col_array,
    pair,
)
from zerograd.functions.conv import (
    Col2im,
    Conv2d,
    Conv2DGradW,
    Deconv2d,
    Im2col,
    col2im,
    conv2d,
    conv2d_simple,
    deconv2d,
    im2col,
)
from zerograd.functions.linalg import linear
from zerograd.functions.pooling import (
    AveragePooling,
    Pooling,
    average_pooling,
    pooling,
    pooling_simple,
)
from zerograd.functions.reduction import broadcast_to

__all__ = [
    "AveragePooling",
    "Col2im",
    "Conv2DGradW",
    "Conv2d",
    "Deconv2d",
    "Im2col",
    "Pooling",
    "average_pooling",
    "broadcast_to",
    "col2im",
    "col2im_array",
    "conv2d",
    "conv2d_simple",
    "deconv2d",
    "get_conv_outsize",
    "get_deconv_outsize",
    "im2col",
    "im2col_array",
    "linear",
    "pair",
    "pooling",
    "pooling_simple",
]
