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

_anomaly_enabled = anomaly.enabled

_new_variable = object.__new__
_ref = weakref.ref
# Shared needs_grad values (no allocation per call).
_TRUE1, _FALSE1, _TRUE2, _FALSE2 = (True,), (False,), (True, True), (False, False)
_TRUE3 = (True, True, True)
_ndarray = np.ndarray
_asarray = np.asarray
# NumPy scalars whose arithmetic matches NumPy's array loops (see ``Function.elementwise``).
_FLOAT_SCALARS = frozenset({np.float64, np.float32, np.float16})
#: NumPy 2 promotes NumPy scalars exactly as 0-d arrays (NEP 50); NumPy 1 does not always.
NUMPY2 = int(np.__version__.split(".")[0]) >= 2


class _Zeros:
    """Reads 0 at every index: the saved versions of inputs that were never modified."""

    __slots__ = ()

    def __getitem__(self, i: int) -> int:
        return 0


class _Constant(Variable):
    """A non-Variable input wrapped by a call: it needs no gradient."""

    requires_grad = False


def _wrap_constants(inputs: tuple[Any, ...]) -> tuple[Variable, ...]:
    """Wrap the non-Variable inputs of a call as constants.

    Python scalars and 0-d arrays adopt the dtype (and device) of the first Variable they
    meet, so ``x * 0.5`` keeps a float32 ``x`` float32 on NumPy 1.x and 2.x alike.
    """
    like = None
    for x in inputs:
        if isinstance(x, Variable) and x.data is not None:
            like = x.data
            break
    floating = like is not None and like.dtype.kind in "fc"
    result = []
    for x in inputs:
        if isinstance(x, Variable):
            result.append(x)
            continue
        if isinstance(x, cuda.array_types) or cuda.is_device_array(x):
            if x.ndim == 0 and floating and x.dtype != like.dtype and x.dtype.kind in "biuf":
                x = x.astype(like.dtype)
        elif isinstance(x, (int, float, complex, np.generic)):
            real = x.dtype.kind in "biuf" if isinstance(x, np.generic) else type(x) is not complex
            xp = np if like is None else cuda.get_array_module(like)
            x = xp.asarray(x, dtype=like.dtype if floating and real else None)
        else:
            raise TypeError(
                f"expected a Variable, an array or a scalar as function input, "
                f"got {type(x).__name__}"
            )
        result.append(_Constant(x))
    return tuple(result)


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
    #: Check each gradient's shape against its input (and sum broadcast ones back). Ops whose
    #: backward always returns gradients in their inputs' shapes (unary elementwise) turn it off;
    #: an elementwise op skips it for a call whose inputs have one shape.
    check_shapes = True
    _in_shapes: tuple[tuple[int, ...], ...] | None = None
    _in_shape: tuple[int, ...] | None = None  # the inputs' one shape when _in_shapes is None
    _inputs: list[Variable] | None = None
    _hooks: dict[int, list[Hook]] | None = None
    _cut: dict[int, weakref.ref[Variable]] | None = None  # unchained outputs
    _special = False  # set once an output is unchained (see Variable._special)
    _is_variable = False  # see Variable._is_variable
    #: The inputs' edges (see ``__call__``): a tuple of them, or for one input the edge itself
    #: (``_all_edges()`` reads both); ``()`` until a recorded call.
    _edges: Any = ()
    #: Weak references to output 0, and to every output when there are several (``outputs``
    #: reads them): a one-output call then allocates no list.
    _out: weakref.ref[Variable] | None = None
    _outs: list[weakref.ref[Variable]] | None = None
    #: The array of a one-input function's retained input when that input is an intermediate,
    #: as forward got it (a NumPy scalar on the scalar path); ``_saved_in`` keeps leaves, and
    #: the inputs of several-input functions.
    _saved_x: Any = None
    #: Inputs / outputs that backward reads (``saved_input``/``saved_output``). Ops with a
    #: fixed need set these on the class; others call ``retain_inputs`` in ``forward``.
    retained_inputs: tuple[int, ...] = ()
    retained_outputs: tuple[int, ...] = ()
    _forward_stack: anomaly.ForwardStack | None = None
    #: Which inputs need a gradient (all False when the call is not recorded); set by the call.
    needs_grad: tuple[bool, ...] = ()
    #: Versions of the retained inputs when they were saved (read as all 0 until set).
    _saved_versions: Any = _Zeros()
    #: Backward may take the engine's short path: a lean function with no output hooks and no
    #: anomaly record (both clear it on the instance).
    _plain = False
    #: ``forward`` applies only elementwise NumPy operations (ufuncs, operators, ``clip``) to
    #: its inputs. On NumPy 2 the call then hands it NumPy scalars for 0-d float arrays: NumPy
    #: computes on scalars several times faster than on 0-d arrays (which it turns into
    #: scalars anyway), with the same values and dtypes.
    elementwise = False
    _scalar_0d = False  # elementwise on NumPy 2: set per class

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The short path trusts backward to return raw arrays on the fast path: zerograd's own
        # lean functions do; a user's subclass that writes its own backward may return
        # Variables, so it takes the general path.
        own = cls.__module__.startswith("zerograd.")
        cls._plain = bool(cls.lean) and (own or "backward" not in cls.__dict__)
        cls._scalar_0d = bool(cls.elementwise) and NUMPY2

    def __call__(self, *inputs: Any) -> Any:
        # The hottest code in zerograd: flat, few allocations, nothing done twice. One- and
        # two-input calls (nearly all ops) have paths of their own. Each input gets an edge:
        # None (no gradient wanted), a leaf Variable, or the producing Function (a
        # (function, index) pair when the input is not its first output).
        gen = -1  # stays -1 unless the call is recorded
        n = len(inputs)
        if n == 1:
            v = inputs[0]
            if v.__class__ is not Variable and not isinstance(v, Variable):
                inputs = _wrap_constants(inputs)
                v = inputs[0]
            if v.requires_grad and backprop_enabled():
                c = v.creator
                # One input: the edge itself, no tuple (a pair goes in a 1-tuple).
                self._edges = v if c is None else c if not v._index else ((c, v._index),)
                self.needs_grad = _TRUE1
                gen = v.generation
            else:
                self.needs_grad = _FALSE1
            d = v.data
            if (
                self._scalar_0d
                and d.ndim == 0
                and d.__class__ is _ndarray
                and (s := d[()]).__class__ in _FLOAT_SCALARS
            ):
                d = s  # what forward got is what backward reads (see ``_saved_x``)
                ys = self.forward(s)  # a NumPy scalar in: no device to check
                if ys.__class__ is not tuple:
                    ys = _asarray(ys)
            else:
                if cuda._cupy is not None:
                    self.xp = cuda.check_same_device(type(self).__name__, [d])
                ys = self.forward(d)
        elif n == 2:
            a, b = inputs
            if (a.__class__ is not Variable and not isinstance(a, Variable)) or (
                b.__class__ is not Variable and not isinstance(b, Variable)
            ):
                inputs = _wrap_constants(inputs)
                a, b = inputs
            if backprop_enabled() and (a.requires_grad or b.requires_grad):
                if a.requires_grad:
                    c = a.creator
                    ea = a if c is None else (c, a._index) if a._index else c
                    gen = a.generation
                else:
                    ea = None
                if b.requires_grad:
                    c = b.creator
                    eb = b if c is None else (c, b._index) if b._index else c
                    if b.generation > gen:
                        gen = b.generation
                else:
                    eb = None
                self._edges = (ea, eb)
                self.needs_grad = (
                    _TRUE2
                    if ea is not None and eb is not None
                    else (ea is not None, eb is not None)
                )
            else:
                self.needs_grad = _FALSE2
            da, db = a.data, b.data
            if (
                self._scalar_0d
                and da.ndim == 0
                and db.ndim == 0
                and da.__class__ is _ndarray
                and db.__class__ is _ndarray
                and (xa := da[()]).__class__ in _FLOAT_SCALARS
                and (xb := db[()]).__class__ in _FLOAT_SCALARS
            ):
                ys = self.forward(xa, xb)
                if ys.__class__ is not tuple:
                    ys = _asarray(ys)
            else:
                if cuda._cupy is not None:
                    self.xp = cuda.check_same_device(type(self).__name__, [da, db])
                ys = self.forward(da, db)
        else:
            for x in inputs:
                if not isinstance(x, Variable):
                    inputs = _wrap_constants(inputs)
                    break
            if cuda._cupy is not None:
                self.xp = cuda.check_same_device(type(self).__name__, [v.data for v in inputs])
            if backprop_enabled():
                edges = []
                for v in inputs:
                    if v.requires_grad:
                        c = v.creator
                        edges.append(v if c is None else (c, v._index) if v._index else c)
                        if v.generation > gen:
                            gen = v.generation
                    else:
                        edges.append(None)
                if gen >= 0:
                    self._edges = tuple(edges)
                    self.needs_grad = (
                        _TRUE3
                        if n == 3 and None not in edges
                        else tuple([e is not None for e in edges])
                    )
            if gen < 0:
                self.needs_grad = (False,) * n
            ys = self.forward(*[v.data for v in inputs])

        if ys.__class__ is not _ndarray:
            if ys.__class__ is tuple:
                return self._outputs(inputs, ys, gen)
            if not isinstance(ys, cuda.array_types):  # NumPy turns 0-d results into scalars
                ys = _asarray(ys)
        out = _new_variable(Variable)
        out.data = ys
        out.grad = None
        if gen < 0:  # only constants in, or no_grad: the call is not recorded
            out.creator = None
            out.generation = 0
            # Under no_grad the outputs are plain leaves, as in DeZero; otherwise constants.
            if backprop_enabled():
                out.__class__ = _Constant
            return out
        out.creator = self
        out.generation = gen + 1
        self.generation = gen
        self._out = _ref(out)
        if self.lean:
            # _save for one output, inlined.
            if self.check_shapes:
                if n != 2:
                    self._in_shapes = tuple([v.data.shape for v in inputs])
                elif (sa := a.data.shape) != (sb := b.data.shape) or not self.elementwise:
                    self._in_shapes = (sa, sb)
                else:
                    # An elementwise op whose inputs share one shape broadcasts nothing: its
                    # gradients come back in that shape, as a unary op's do (no tuple to keep).
                    self._in_shape = sa
            retained = self.retained_inputs
            if retained:
                if len(retained) == n:
                    if n == 1:
                        if v.creator is None:
                            self._saved_in = v  # a leaf: kept bare, with its version
                            if v._version:  # rare: only then are the versions kept
                                self._saved_versions = (v._version,)
                        else:
                            # An intermediate: its array is enough (the Variable may die;
                            # ``saved_input`` finds or rebuilds it for a recorded backward).
                            self._saved_x = d
                    else:
                        self._saved_in = inputs
                        for x in inputs:
                            if x._version:
                                self._saved_versions = tuple([x._version for x in inputs])
                                break
                else:
                    self._save_some(inputs, retained)
            if self.retained_outputs:
                self._saved_out = (ys,)
            if _anomaly_enabled():
                anomaly.check_forward(self, [ys])
        else:
            self._save(inputs, (ys,))
        return out

    def _outputs(self, inputs: tuple[Variable, ...], ys: tuple[Any, ...], gen: int) -> list[Any]:
        """``__call__`` for a forward that returned several arrays."""
        ys = tuple(y if isinstance(y, cuda.array_types) else np.asarray(y) for y in ys)
        outputs = []
        for i, y in enumerate(ys):
            out = Variable(y)
            if gen >= 0:
                out.creator, out.generation = self, gen + 1
                if i:
                    out._index = i
            elif backprop_enabled():
                out.__class__ = _Constant
            outputs.append(out)
        if gen >= 0:
            self.generation = gen
            self.outputs = [_ref(out) for out in outputs]
            self._save(inputs, ys)
        return outputs

    def _save(self, inputs: tuple[Variable, ...], ys: tuple[Any, ...]) -> None:
        """Keep what backward needs: input shapes, and the input Variables (user Functions) or
        only the retained inputs and outputs (zerograd's lean functions)."""
        # Tuples of ints (shapes, versions) are soon untracked by the cyclic GC: cheaper
        # collections on big graphs than lists would give.
        if self.check_shapes:
            self._in_shapes = tuple([v.data.shape for v in inputs])
        if not self.lean:
            self._inputs = list(inputs)
        else:
            retained = self.retained_inputs
            if retained:
                if len(retained) == len(inputs):
                    self._saved_in = inputs
                    versions = tuple([v._version for v in inputs])
                    if any(versions):
                        self._saved_versions = versions
                else:
                    self._save_some(inputs, retained)
            if self.retained_outputs:
                self._saved_out = ys
        if anomaly.enabled():
            anomaly.check_forward(self, list(ys))

    def _save_some(self, inputs: tuple[Variable, ...], retained: tuple[int, ...]) -> None:
        """Keep the retained inputs only (the others may be freed)."""
        saved: list[Variable | None] = [None] * len(inputs)
        versions = [0] * len(inputs)
        for i in retained:
            v = saved[i] = inputs[i]
            versions[i] = v._version
        self._saved_in = saved
        self._saved_versions = tuple(versions)

    def extra_repr(self) -> str:
        """Parameters worth showing next to the class name (graph pictures use it)."""
        return ""

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
        result: list[Variable | None] = []
        for node in self._all_edges():
            if node is None or isinstance(node, Variable):
                result.append(node)
            elif isinstance(node, tuple):
                result.append(node[0]._output_ref(node[1])())
            else:
                result.append(node._out())
        return result

    @inputs.setter
    def inputs(self, value: list[Variable]) -> None:
        self._inputs = value

    def _all_edges(self) -> tuple[Any, ...]:
        """One edge per input: None (no gradient wanted), a leaf Variable, the producing
        Function, or a (function, output index) pair; empty until a recorded call."""
        edges = self._edges
        return edges if edges.__class__ is tuple else (edges,)

    @property
    def outputs(self) -> list[weakref.ref[Variable]]:
        """Weak references to the outputs (DeZero's attribute); empty until a recorded call."""
        if self._outs is not None:
            return self._outs
        return [] if self._out is None else [self._out]

    @outputs.setter
    def outputs(self, refs: list[weakref.ref[Variable]]) -> None:
        refs = list(refs)
        self._out = refs[0] if refs else None
        self._outs = refs if len(refs) > 1 else None

    def _output_ref(self, i: int) -> weakref.ref[Variable]:
        """The weak reference to output ``i``."""
        return self._out if i == 0 and self._out is not None else self.outputs[i]

    def retain_inputs(self, *indices: int) -> None:
        """In ``forward``: keep these inputs for backward (read them with ``saved_input``)."""
        self.retained_inputs = indices

    def retain_outputs(self, *indices: int) -> None:
        """In ``forward``: keep these outputs for backward (read them with ``saved_output``)."""
        self.retained_outputs = indices

    def saved_input(self, i: int) -> Any:
        """Input ``i`` kept by ``retain_inputs``: an array on the fast path (a NumPy scalar for
        a 0-d float input of an ``elementwise`` function), a Variable when the backward pass is
        itself recorded (``create_graph=True``)."""
        x = self._saved_x
        if x is not None and i == 0:
            return self._input_variable() if backprop_enabled() else x
        try:
            saved = self._saved_in
        except AttributeError:
            saved = None
        if saved.__class__ is tuple or saved.__class__ is list:
            var = saved[i] if -len(saved) <= i < len(saved) else None
        else:  # the only input, kept bare (or nothing kept)
            var = saved if i == 0 else None
        if var is None:
            raise RuntimeError(f"{type(self).__name__}: input {i} was not retained in forward")
        # Versions only grow: one still at 0 was never modified.
        if var._version and var._version != (version := self._saved_versions[i]):
            raise RuntimeError(
                f"{type(self).__name__}.backward needs input {i} (shape {var.data.shape}, dtype "
                f"{var.data.dtype}), but it was modified in place after the forward pass "
                f"(version {version} then, {var._version} now)"
            )
        if backprop_enabled():
            return var
        d = var.data
        return _float_scalar(d) if self._scalar_0d else d  # as forward got it

    def _input_variable(self) -> Variable:
        """The Variable of the intermediate input kept as ``_saved_x``: the one forward got if
        it is alive and unchanged, else a new one that routes gradients to the same producer."""
        edge = self._edges
        node = edge[0] if edge.__class__ is tuple else edge
        if node is None or isinstance(node, Variable):  # cut by unchain_backward
            if node is not None:
                return node
            x = self._saved_x
            return Variable(x if isinstance(x, cuda.array_types) else _asarray(x))
        fn, index = node if node.__class__ is tuple else (node, 0)
        var = fn._output_ref(index)()
        x = self._saved_x
        if var is None or var.data is not x:  # (a NumPy scalar never is: a new one then)
            var = Variable(x if isinstance(x, cuda.array_types) else _asarray(x))
            var.creator, var.generation, var._index = fn, fn.generation + 1, index
        return var

    def saved_output(self, i: int) -> Any:
        """Output ``i`` kept by ``retain_outputs`` (array, or Variable under ``create_graph``)."""
        data = self._saved_out[i]
        if not backprop_enabled():
            return data
        out = self._output_ref(i)()
        if out is None:
            # The user dropped the output; rebuild a Variable that still routes gradients here.
            out = Variable(data)
            out.creator, out.generation, out._index = self, self.generation + 1, i
            if i == 0:
                self._out = _ref(out)
            if self._outs is not None:
                self._outs[i] = _ref(out)
        return out

    @property
    def ops(self) -> Any:
        """NumPy-named functions for backward rules: array functions on the fast path,
        zerograd's differentiable functions when the backward pass is recorded."""
        if backprop_enabled():
            return graph_ops
        xp = self.xp
        return _numpy_ops if xp is np else array_ops(xp)

    def _cut_output(self, var: Variable) -> None:
        """``var`` (one of the outputs) was unchained: gradients for it stop at it."""
        if self._cut is None:
            self._cut = {}
            self._special = True
        self._cut[var._index] = weakref.ref(var)

    def _output_hooks(self, index: int) -> list[Hook]:
        if self._hooks is None:
            self._hooks = {}
            self._plain = False
        return self._hooks.setdefault(index, [])


def _float_scalar(d: Any) -> Any:
    """A 0-d float NumPy array as a NumPy scalar (what ``elementwise`` functions get); any
    other array as it is. (``Function.__call__`` inlines this test.)"""
    if d.ndim == 0 and d.__class__ is _ndarray:
        s = d[()]
        if s.__class__ in _FLOAT_SCALARS:
            return s
    return d


#: ``Function.__call__`` as a plain function: ``call(Sin(), x)`` does what ``Sin()(x)`` does,
#: without the type slot that dispatches a call on an instance (about 40 ns a call). The
#: wrappers of zerograd's hottest functions use it.
call = Function.__call__


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

    def apply(self, fn: Function, *xs: Any) -> Any:
        """Run ``fn`` on raw arrays without recording it (``fn.xp`` is set to this namespace's
        array module, as ``__call__`` would; ``fn.needs_grad`` reads all False)."""
        fn.xp = self.xp
        fn.needs_grad = (False,) * len(xs)
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


_numpy_ops = ArrayOps(np)
_array_ops: dict[Any, ArrayOps] = {np: _numpy_ops}


def array_ops(xp: Any) -> ArrayOps:
    """The ``ArrayOps`` namespace for array module ``xp``."""
    ops = _array_ops.get(xp)
    if ops is None:
        ops = _array_ops[xp] = ArrayOps(xp)
    return ops
