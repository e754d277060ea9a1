"""``Function``: one node of the graph, with DeZero's ``forward``/``backward`` protocol.

A user subclass works exactly as in DeZero: ``forward`` takes arrays, ``backward`` takes and
returns Variables, and ``self.inputs`` holds the input Variables.

zerograd's own functions set ``lean = True``. They do not keep their inputs: they keep an
*edge* per input (the leaf Variable, or the producing function and output index) and only the
arrays their backward needs, named in ``forward`` with ``retain_inputs``/``retain_outputs``
(Chainer's design; PyTorch's saved tensors). A long chain then does not keep every
intermediate array alive. Their ``backward`` is written once with the ``self.ops`` namespace
and operators: on the default fast path it runs on raw arrays and records nothing; under
``create_graph=True`` the same code runs on Variables through differentiable functions.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from zerograd import cuda
from zerograd.autograd import anomaly
from zerograd.autograd.config import backprop_enabled
from zerograd.autograd.variable import Hook, Variable

_new_variable = object.__new__


def _wrap_constants(inputs: tuple[Any, ...]) -> list[Variable]:
    """Wrap the non-Variable inputs of a call as constants that need no gradient.

    Python scalars and 0-d float arrays adopt the dtype (and device) of the first Variable
    they meet, so ``x * 0.5`` keeps a float32 ``x`` float32 on NumPy 1.x and 2.x alike.
    """
    like = next((x.data for x in inputs if isinstance(x, Variable) and x.data is not None), None)
    result = []
    for x in inputs:
        if isinstance(x, Variable):
            result.append(x)
            continue
        if (
            np.isscalar(x)
            or isinstance(x, np.generic)
            or (isinstance(x, cuda.array_types) and x.ndim == 0)
        ):
            kind = np.asarray(x).dtype.kind
            xp = np if like is None else cuda.get_array_module(like)
            floating = like is not None and like.dtype.kind in "fc" and kind in "biuf"
            dtype = like.dtype if floating else None
            x = xp.asarray(x, dtype=dtype)
        elif not isinstance(x, cuda.array_types):
            raise TypeError(
                f"expected a Variable, an array or a scalar as function input, "
                f"got {type(x).__name__}"
            )
        v = Variable(x)
        v.requires_grad = False
        result.append(v)
    return result


class Function:
    """Base class of every differentiable operation.

    Subclasses implement ``forward(*xs)`` on arrays and ``backward(*gys)``. Calling the
    function records it in the graph when ``Config.enable_backprop`` is on and some input
    needs a gradient. Returns one Variable, or a list of them for several outputs.
    """

    #: zerograd's own functions: keep edges and retained arrays instead of input Variables.
    lean = False
    #: Array module of the inputs (``numpy`` unless CuPy arrays came in).
    xp: Any = np
    generation = 0
    needs_grad: tuple[bool, ...] = ()
    _inputs: list[Variable] | None = None
    _hooks: dict[int, list[Hook]] | None = None
    _retained_in: tuple[int, ...] = ()
    _retained_out: tuple[int, ...] = ()
    _forward_stack: str | None = None

    def __call__(self, *inputs: Any) -> Any:
        # This is the hottest code in zerograd: keep it flat and allocation-light.
        for x in inputs:
            if not isinstance(x, Variable):
                variables = _wrap_constants(inputs)
                break
        else:
            variables = inputs
        xs = [v.data for v in variables]
        if cuda._cupy is not None:
            self.xp = cuda.get_array_module(xs[0]) if xs else np
        if backprop_enabled():
            needs = tuple([v.requires_grad for v in variables])
            record = True in needs
        else:
            record = False
        self.needs_grad = needs if record else (False,) * len(xs)

        ys = self.forward(*xs)
        if ys.__class__ is not tuple:
            ys = (ys,)
        array_types = cuda.array_types
        outputs = []
        for y in ys:
            if not isinstance(y, array_types):  # NumPy turns 0-d results into scalars
                y = np.asarray(y)
            out = _new_variable(Variable)
            out.data = y
            out.grad = None
            out.creator = None
            out.generation = 0
            outputs.append(out)

        if not record:
            for out in outputs:
                out.requires_grad = False
            return outputs if len(outputs) > 1 else outputs[0]

        if len(variables) == 1:
            gen = variables[0].generation
        else:
            gen = max([v.generation for v in variables])
        self.generation = gen
        gen += 1
        refs = []
        for i, out in enumerate(outputs):
            out.creator = self
            out.generation = gen
            if i:
                out._index = i
            refs.append(weakref.ref(out))
        self.outputs = refs
        self._in_shapes = [x.shape for x in xs]
        # One edge per input: None (no gradient wanted), a leaf Variable, or the producing
        # Function (as a (function, index) pair when the input is not its first output).
        self._edges = [
            None
            if not v.requires_grad
            else v
            if v.creator is None
            else v.creator
            if not v._index
            else (v.creator, v._index)
            for v in variables
        ]
        if not self.lean:
            self._inputs = list(variables)
        else:
            retained = self._retained_in
            if retained:
                if len(retained) == len(variables):
                    saved = list(variables)
                else:
                    saved = [None] * len(variables)
                    for i in retained:
                        saved[i] = variables[i]
                self._saved_in = saved
                self._saved_versions = [0 if v is None else v._version for v in saved]
            if self._retained_out:
                self._saved_out = ys
        if anomaly.enabled():
            anomaly.check_forward(self, ys)
        return outputs if len(outputs) > 1 else outputs[0]

    def forward(self, *xs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    def backward(self, *gys: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.backward is not implemented")

    # -- what backward may use ---------------------------------------------------------------
    @property
    def inputs(self) -> list[Variable | None]:
        """The input Variables. Lean functions keep only edges, so an input that is neither a
        leaf nor alive any more reads as ``None``."""
        if self._inputs is not None:
            return self._inputs
        edges = getattr(self, "_edges", None)
        if edges is None:
            return []
        result: list[Variable | None] = []
        for node in edges:
            if node is None or isinstance(node, Variable):
                result.append(node)
            elif isinstance(node, tuple):
                result.append(node[0].outputs[node[1]]())
            else:
                result.append(node.outputs[0]())
        return result

    @inputs.setter
    def inputs(self, value: list[Variable]) -> None:
        self._inputs = value

    def retain_inputs(self, *indices: int) -> None:
        """In ``forward``: keep these inputs for backward (read them with ``saved_input``)."""
        self._retained_in = indices

    def retain_outputs(self, *indices: int) -> None:
        """In ``forward``: keep these outputs for backward (read them with ``saved_output``)."""
        self._retained_out = indices

    def saved_input(self, i: int) -> Any:
        """Input ``i`` kept by ``retain_inputs``: an array on the fast path, a Variable when the
        backward pass is itself recorded (``create_graph=True``)."""
        try:
            var = self._saved_in[i]
            version = self._saved_versions[i]
        except (AttributeError, IndexError):
            var = None
        if var is None:
            raise RuntimeError(f"{type(self).__name__}: input {i} was not retained in forward")
        if var._version != version:
            raise RuntimeError(
                f"{type(self).__name__}.backward needs input {i} (shape {var.data.shape}, dtype "
                f"{var.data.dtype}), but it was modified in place after the forward pass "
                f"(version {version} then, {var._version} now)"
            )
        return var if backprop_enabled() else var.data

    def saved_output(self, i: int) -> Any:
        """Output ``i`` kept by ``retain_outputs`` (array, or Variable under ``create_graph``)."""
        data = self._saved_out[i]
        if not backprop_enabled():
            return data
        out = self.outputs[i]()
        if out is None:
            # The user dropped the output; rebuild a Variable that still routes gradients here.
            out = Variable(data)
            out.creator, out.generation, out._index = self, self.generation + 1, i
            self.outputs[i] = weakref.ref(out)
        return out

    @property
    def ops(self) -> Any:
        """NumPy-named functions for backward rules: array functions on the fast path,
        zerograd's differentiable functions when the backward pass is recorded."""
        if backprop_enabled():
            return graph_ops
        return array_ops(self.xp)

    def _output_hooks(self, index: int) -> list[Hook]:
        if self._hooks is None:
            self._hooks = {}
        return self._hooks.setdefault(index, [])


class ArrayOps:
    """The array module (``numpy`` or ``cupy``) plus ``sum_to``, the names backward rules use."""

    def __init__(self, xp: Any) -> None:
        self.xp = xp

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.xp, name)
        setattr(self, name, value)  # cache: the next lookup is a plain attribute read
        return value

    def sum_to(self, x: Any, shape: tuple[int, ...]) -> Any:
        """Sum ``x`` over broadcast axes so that it has ``shape``."""
        return sum_to_array(x, shape)

    @staticmethod
    def apply(fn: Function, *xs: Any) -> Any:
        """Run ``fn`` on raw arrays without recording it."""
        return fn.forward(*xs)


class GraphOps:
    """The same names as ``ArrayOps``, bound to zerograd's differentiable functions."""

    def __getattr__(self, name: str) -> Any:
        from zerograd import functions

        value = getattr(functions, name)
        setattr(self, name, value)
        return value

    @staticmethod
    def apply(fn: Function, *xs: Any) -> Any:
        """Call ``fn`` on Variables, recording it."""
        return fn(*xs)


graph_ops = GraphOps()


def sum_to_array(x: Any, shape: tuple[int, ...]) -> Any:
    """Sum array ``x`` down to ``shape`` (the inverse of broadcasting)."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    ndim = len(shape)
    lead = x.ndim - ndim
    lead_axis = tuple(range(lead))
    axis = tuple(i + lead for i, sx in enumerate(shape) if sx == 1 and x.shape[i + lead] != 1)
    y = x.sum(lead_axis + axis, keepdims=True)
    if lead > 0:
        y = y.reshape(y.shape[lead:])
    return y


_array_ops: dict[Any, ArrayOps] = {np: ArrayOps(np)}


def array_ops(xp: Any) -> ArrayOps:
    """The ``ArrayOps`` namespace for array module ``xp``."""
    ops = _array_ops.get(xp)
    if ops is None:
        ops = _array_ops[xp] = ArrayOps(xp)
    return ops
