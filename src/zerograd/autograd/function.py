"""``Function``: one node of the graph, with DeZero's ``forward``/``backward`` protocol.

A user subclass works exactly as in DeZero: ``forward`` takes arrays, ``backward`` takes and
returns Variables, and ``self.inputs`` holds the input Variables.

zerograd's own functions set ``array_backward = True``. They do not keep their inputs: they
keep an *edge* per input (see ``edges``) and only the arrays their backward needs, named with
``retain_inputs``/``retain_outputs`` (Chainer's design; PyTorch's saved tensors), so a long
chain does not keep every intermediate array alive. Their ``backward`` is written once with
the ``self.ops`` namespace and operators: on the default fast path it runs on raw arrays and
records nothing; under ``create_graph=True`` the same code runs on Variables through
differentiable functions.

What every recorded call keeps (read it through ``edges()``, ``input_shapes()``,
``input_dtypes()``, ``inputs``, ``outputs``, ``saved_input``, ``saved_output``):

- ``_edges``: one edge per input: ``None`` (no gradient flows there), the leaf ``Variable``,
  the producing Function for its output 0, or ``(producer, index)`` for another output;
- ``_in_shapes``/``_in_dtypes``: each input's shape and dtype;
- ``_saved_inputs``: for the retained inputs (``None`` for the others) the ``Variable``, or,
  for an intermediate on the one-input fast path, the array forward got (the Variable may
  die; ``saved_input`` rebuilds it when a recorded backward needs it);
- ``_saved_outputs``: the retained outputs' arrays; ``_out``/``_outs``: weak references to
  the outputs.

Each per-input record is a tuple with one entry per input, with three savings: a one-input
call keeps its edge itself (a pair edge stays in a 1-tuple, so that a tuple always means
"one edge per input"); shapes or dtypes that every input shares are kept once; an edge to
output 0 is the producer alone. Each saves an object that every call would keep: on the chain
benchmark each object kept per call costs about 3% (allocation, and the cyclic GC that walks
it). ``_per_input`` reads every form back as a tuple.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator
from typing import Any, TypeAlias, TypeVar

import numpy as np

from zerograd import cuda
from zerograd.autograd import anomaly
from zerograd.autograd.config import (
    ANOMALY,
    KEEP_INPUTS,
    backprop_enabled,
    recording_flags,
    set_flag,
)
from zerograd.autograd.variable import Hook, Parameter, Variable

_new_variable = object.__new__
_ref = weakref.ref
_ndarray = np.ndarray
_asarray = np.asarray
_TRUE1, _FALSE1 = (True,), (False,)  # shared needs_grad values
_TRUE2, _FALSE2 = (True, True), (False, False)
_ALL_TRUE = [(), _TRUE1, _TRUE2, (True, True, True)]


# NumPy scalars whose arithmetic matches NumPy's array loops (see ``Function.elementwise``).
_FLOAT_SCALARS = frozenset({np.float64, np.float32, np.float16})
_FLOAT_DTYPES = frozenset(map(np.dtype, _FLOAT_SCALARS))
#: NumPy 2 promotes NumPy scalars exactly as 0-d arrays (NEP 50); NumPy 1 does not always.
NUMPY2 = int(np.__version__.split(".")[0]) >= 2

#: An edge (see ``Function.edges``).
Edge: TypeAlias = "Variable | tuple[Function, int] | None"


class _Zeros:
    """Reads 0 at every index: the saved versions of inputs that were never modified."""

    __slots__ = ()

    def __getitem__(self, i: int) -> int:
        return 0


class Constant(Variable):
    """A non-Variable input wrapped by a call (or a value made under no gradient): it needs
    no gradient, and ``Function.edges`` reads ``None`` for it."""

    requires_grad = False


#: zerograd's own Variable classes: the fast path takes them (a user's subclass may redefine
#: what the call reads, so it takes the general path). Constants and parameters on the fast
#: path save a recorded backward (``create_graph=True``, which calls ops on constants) 8% of
#: its instructions: the 6th derivative of tanh, 7.43M against 6.80M under callgrind.
_OWN_VARIABLES = frozenset({Variable, Constant, Parameter})


def _wrap_constants(inputs: tuple[Any, ...]) -> tuple[Variable, ...]:
    """Wrap the non-Variable inputs of a call as constants.

    Python scalars and 0-d arrays adopt the dtype (and device) of the first Variable they
    meet, so ``x * 0.5`` keeps a float32 ``x`` float32 on NumPy 1.x and 2.x alike.
    """
    like: Any = None
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
        result.append(Constant(x))
    return tuple(result)


def _as_array(y: Any) -> Any:
    """A forward result as an array (NumPy turns 0-d results into scalars). The class tests
    come first: ``isinstance`` costs a NumPy scalar nearly what ``asarray`` does."""
    if y.__class__ is _ndarray:
        return y
    return (
        _asarray(y) if y.__class__ in _FLOAT_SCALARS or not isinstance(y, cuda.array_types) else y
    )


def _new_output(f: Function, y: Any, gen: int, index: int = 0) -> Variable:
    """A new output (number ``index``) of ``f`` holding forward result ``y``."""
    out = _new_variable(Variable)
    out.data = y if y.__class__ is _ndarray else _as_array(y)
    out.grad, out.creator, out.generation = None, f, gen + 1
    if index:
        out._index = index
    return out


_V = TypeVar("_V", bound=Variable)


def _leaf(cls: type[_V], y: Any) -> _V:
    """A new ``cls`` holding forward result ``y`` (``__init__``'s checks are for users)."""
    out: _V = _new_variable(cls)
    out.data = _as_array(y)
    out.grad = out.creator = None
    out.generation = 0
    return out


def _float_scalar(d: Any) -> Any:
    """A 0-d float NumPy array as a NumPy scalar, as ``elementwise`` functions get it (the
    test ``Function.__call__`` makes); any other array as it is."""
    if d.__class__ is _ndarray and not d.ndim and d.dtype in _FLOAT_DTYPES:
        return d[()]
    return d


class Function:
    """Base class of every differentiable operation.

    Subclasses implement ``forward(*xs)`` on arrays and ``backward(*gys)``. Calling the
    function records it in the graph when ``Config.enable_backprop`` is on and some input
    needs a gradient. Returns one Variable, or a list of them for several outputs. One
    instance records one call: call a new instance for each use.
    """

    #: The contract of zerograd's own functions: keep edges and the retained arrays instead
    #: of the input Variables, and write ``backward`` with ``self.ops`` so that it returns raw
    #: arrays on the fast path. A subclass that overrides such a backward restates it, or its
    #: backward (which may then return Variables) takes the engine's general path.
    array_backward = False
    #: Array module of the inputs (``numpy`` unless CuPy arrays came in).
    xp: Any = np
    generation = 0
    #: Check each gradient's shape against its input (and sum broadcast ones back). Ops whose
    #: backward always returns gradients in their inputs' shapes (unary elementwise) turn it
    #: off; an elementwise call whose inputs have one shape turns it off for that call.
    check_shapes = True
    #: Which inputs need a gradient (all False when the call is not recorded); set by the call.
    needs_grad: tuple[bool, ...] = ()
    #: Inputs / outputs that backward reads (``saved_input``/``saved_output``). Ops with a
    #: fixed need set these on the class; others call ``retain_inputs`` in ``forward``.
    retained_inputs: tuple[int, ...] = ()
    retained_outputs: tuple[int, ...] = ()
    #: ``forward`` applies only elementwise NumPy operations (ufuncs, operators, ``clip``) to
    #: its inputs. On NumPy 2 the call then hands it NumPy scalars for 0-d float arrays: NumPy
    #: computes on scalars several times faster than on 0-d arrays (which it turns into
    #: scalars anyway), with the same values and dtypes.
    elementwise = False

    # -- what a recorded call sets (see the module docstring); class defaults until then --
    _edges: Any = ()
    _in_shapes: Any = ()
    _in_dtypes: Any = ()
    _inputs: list[Variable | None] | None = None  # DeZero-style functions (and ``keep_inputs``)
    _saved_inputs: Any = None
    _saved_outputs: tuple[Any, ...] = ()
    _saved_versions: Any = _Zeros()  # versions of the saved leaves when nonzero
    _out: weakref.ref[Variable] | None = None  # output 0 (a one-output call allocates no list)
    _outs: list[weakref.ref[Variable]] | None = None  # every output, when there are several
    _hooks: dict[int, list[Hook]] | None = None  # gradient hooks of the outputs
    _unchained: dict[int, weakref.ref[Variable]] | None = None  # outputs cut by ``unchain``
    _forward_stack: anomaly.ForwardStack | None = None  # anomaly mode's record
    # Backward may take the engine's short path (no hooks, no anomaly record, raw arrays in
    # and out): set per class, cleared on an instance by hooks and anomaly mode.
    _short_backward = False
    # An edge to this node may stop the gradient (a leaf Variable, or a function with
    # unchained outputs): one attribute read sorts the edges that need a closer look.
    _may_stop_gradient = False
    _is_variable = False  # tells a Function from a leaf in an edge without isinstance
    _scalar_0d = False  # elementwise on NumPy 2: set per class

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The short path trusts backward to return raw arrays. A class that overrides the
        # backward of an ``array_backward`` class without restating the flag may return
        # Variables (a user's variant of a built-in): it takes the general path.
        overrides = "backward" in cls.__dict__ and "array_backward" not in cls.__dict__
        cls._short_backward = bool(cls.array_backward) and not (
            overrides
            and any("backward" in b.__dict__ and b.array_backward for b in cls.__mro__[1:-1])  # type: ignore[attr-defined]
        )
        cls._scalar_0d = bool(cls.elementwise) and NUMPY2

    def __call__(self, *inputs: Any) -> Any:
        if self._out is not None:
            raise RuntimeError(
                f"{type(self).__name__}: this instance already recorded a call; one Function "
                f"instance is one node of the graph, so call a new instance, "
                f"{type(self).__name__}(...)(...), for each use"
            )
        n = len(inputs)
        if (
            n < 3
            and (v := inputs[0]).__class__ in _OWN_VARIABLES
            and self.array_backward
            and (x := v.data).__class__ is _ndarray
            and cuda.cupy is None
            and (
                n == 1
                or ((w := inputs[1]).__class__ in _OWN_VARIABLES and w.data.__class__ is _ndarray)
            )
        ):
            # The fast path: one or two NumPy Variables into one of zerograd's own functions
            # (nearly every call). The general path's steps without its loop and lists, which
            # cost F.sin 43% more instructions and ``x + y`` 27% (callgrind; the chain
            # benchmark 6%). A tuple result or a recording flag (keep_inputs, anomaly mode)
            # goes on to ``_record``. tests/autograd/test_call_paths.py holds both paths equal.
            shape, dtype, record = x.shape, x.dtype, backprop_enabled()
            in_edges: Any  # kept in the compact forms of the module docstring
            in_shapes: Any
            in_dtypes: Any
            if n == 1:
                if self._scalar_0d and not shape and dtype in _FLOAT_DTYPES:
                    x = x[()]  # see ``elementwise``
                if not (record and v.requires_grad):
                    self.needs_grad = _FALSE1
                    return self._unrecorded(self.forward(x))
                self.needs_grad = _TRUE1
                ys = self.forward(x)
                c, gen = v.creator, v.generation
                in_edges = v if c is None else c if not v._index else ((c, v._index),)
                in_shapes, in_dtypes = shape, dtype
            else:
                x1 = w.data
                shape1, dtype1 = x1.shape, x1.dtype
                if self._scalar_0d and not shape and not shape1 and dtype in _FLOAT_DTYPES:
                    if dtype1 in _FLOAT_DTYPES:
                        x, x1 = x[()], x1[()]  # see ``elementwise``
                gen = -1
                e0 = e1 = None
                if record and v.requires_grad:
                    c, gen = v.creator, v.generation
                    e0 = v if c is None else c if not v._index else (c, v._index)
                if record and w.requires_grad:
                    c = w.creator
                    e1 = w if c is None else c if not w._index else (c, w._index)
                    if w.generation > gen:
                        gen = w.generation
                if gen < 0:
                    self.needs_grad = _FALSE2
                    return self._unrecorded(self.forward(x, x1))
                both = e0 is not None and e1 is not None
                self.needs_grad = _TRUE2 if both else (e0 is not None, e1 is not None)
                ys = self.forward(x, x1)
                in_edges = (e0, e1)
                in_shapes = shape if shape == shape1 else (shape, shape1)
                in_dtypes = dtype if dtype is dtype1 else (dtype, dtype1)
                if in_shapes is shape and self.elementwise:
                    self.check_shapes = False  # nothing broadcast: gradients come in input shapes
            if ys.__class__ is tuple or recording_flags():
                return self._record(inputs, in_edges, in_shapes, in_dtypes, gen, ys)
            self._edges, self._in_shapes, self._in_dtypes = in_edges, in_shapes, in_dtypes
            self.generation = gen
            if self.retained_inputs:
                if n == 2:
                    self._save_inputs(inputs)
                else:
                    self._saved_inputs = v if c is None else x  # (see the module docstring)
                    if v._version:
                        self._saved_versions = (v._version,)
            if ys.__class__ is not _ndarray:
                ys = _asarray(ys)  # (no CuPy here) NumPy turns 0-d results into scalars
            if self.retained_outputs:
                self._saved_outputs = (ys,)
            # ``_new_output``, inlined: the call costs 1.5% of each op's time.
            out = _new_variable(Variable)
            out.data, out.grad, out.creator, out.generation = ys, None, self, gen + 1
            self._out = _ref(out)
            return out
        # The general path: any inputs (non-Variables are wrapped as constants), any Function.
        record, scalars, gen = backprop_enabled(), self._scalar_0d, -1
        xs: list[Any] = []
        edges: list[Any] = []
        shapes: list[tuple[int, ...]] = []
        dtypes: list[Any] = []
        for v in inputs:
            if v.__class__ is not Variable and not isinstance(v, Variable):
                return self(*_wrap_constants(inputs))
            if (x := v.data) is None:
                raise ValueError(
                    f"{type(self).__name__}: input {len(xs)} holds no data (Variable(None), e.g."
                    f" a Parameter not initialised yet); give it an array first"
                )
            shapes.append(shape := x.shape)
            dtypes.append(dtype := x.dtype)
            if scalars and not shape and dtype in _FLOAT_DTYPES and x.__class__ is _ndarray:
                x = x[()]  # see ``elementwise``
            xs.append(x)
            if record and v.requires_grad:
                c = v.creator
                edges.append(v if c is None else c if not v._index else (c, v._index))
                if v.generation > gen:
                    gen = v.generation
            else:
                edges.append(None)
        if cuda.cupy is not None:
            self.xp = cuda.check_same_device(type(self).__name__, [v.data for v in inputs])
        if gen < 0:  # nothing to record: only constants came in, or no_grad
            self.needs_grad = (False,) * n
            return self._unrecorded(self.forward(*xs))
        # A shared tuple where every input needs a gradient: one object less to keep.
        self.needs_grad = (
            _ALL_TRUE[n] if n < 4 and None not in edges else tuple([e is not None for e in edges])
        )
        # Kept compact (see the module docstring): one entry for all inputs where they agree.
        edge = edges[0]
        same = shapes.count(shape := shapes[0]) == n
        if same and self.elementwise:
            self.check_shapes = False  # nothing broadcast: gradients come in input shapes
        return self._record(
            inputs,
            tuple(edges) if n != 1 else (edge,) if edge.__class__ is tuple else edge,
            shape if same else tuple(shapes),
            dtype if dtypes.count(dtype := dtypes[0]) == n else tuple(dtypes),
            gen,
            self.forward(*xs),
        )

    def _record(self, inputs: Any, edges: Any, shapes: Any, dtypes: Any, gen: int, ys: Any) -> Any:
        """Record the call (the per-input records come compact: see the module docstring) and
        return its outputs."""
        self._edges, self._in_shapes, self._in_dtypes, self.generation = edges, shapes, dtypes, gen
        if ys.__class__ is tuple:
            outputs = [_new_output(self, y, gen, i) for i, y in enumerate(ys)]
            self.outputs = [_ref(out) for out in outputs]
            arrays = tuple([out.data for out in outputs])
        else:
            out = _new_output(self, ys, gen)
            self._out = _ref(out)
            arrays = (out.data,)
        flags = recording_flags()
        if not self.array_backward or flags & KEEP_INPUTS:
            self._inputs = list(inputs)
        if self.array_backward:
            if self.retained_inputs:
                self._save_inputs(inputs)
            if self.retained_outputs:
                self._saved_outputs = arrays
        if flags & ANOMALY:
            anomaly.check_forward(self, arrays)
        return outputs if ys.__class__ is tuple else out

    def _save_inputs(self, inputs: tuple[Variable, ...]) -> None:
        """Keep the retained inputs' Variables for backward, an intermediate's too: a recorded
        backward (create_graph) then reads it as it is, where rebuilding one per read cost
        the 6th derivative of tanh 1.6x its time. (The fast path keeps an intermediate's array:
        the chain's unary steps.)"""
        retained, n = self.retained_inputs, len(inputs)
        if n == 1 or len(retained) == n:
            self._saved_inputs = inputs[0] if n == 1 else inputs  # no tuple to build
        else:
            # A loop, not a comprehension (a frame of its own): 3% of a recorded backward.
            saved: list[Any] = [None] * n
            try:
                for i in retained:
                    saved[i] = inputs[i]
            except (IndexError, TypeError):
                raise ValueError(
                    f"{type(self).__name__}: retained_inputs {retained!r} must be indices of "
                    f"its {n} inputs"
                ) from None
            self._saved_inputs = tuple(saved)
        for v in inputs:
            if v._version:
                self._saved_versions = tuple([u._version for u in inputs])
                break

    def _unrecorded(self, ys: Any) -> Any:
        """The outputs of a call that is not recorded: leaves under ``no_grad`` (as in
        DeZero), constants when only constants came in."""
        cls = Constant if backprop_enabled() else Variable
        if ys.__class__ is tuple:
            return [_leaf(cls, y) for y in ys]
        return _leaf(cls, ys)

    # -- the public, read-only view of a recorded call -------------------------------------
    def edges(self) -> tuple[Edge, ...]:
        """One edge per input, ``()`` until a recorded call: ``None`` where no gradient flows
        (a constant, or an input that needs none), the leaf ``Variable``, or
        ``(producer, output_index)`` for an intermediate.

        >>> import numpy as np, zerograd as zg, zerograd.functions as F
        >>> x = zg.Variable(np.array(2.0))
        >>> y = x * 3.0
        >>> z = y + np.ones(1)
        >>> z.creator.edges() == ((y.creator, 0), None)
        True
        >>> y.creator.edges()[0] is x
        True
        """
        return tuple([(e, 0) if isinstance(e, Function) else e for e in self._per_input("_edges")])

    def input_shapes(self) -> tuple[tuple[int, ...], ...]:
        """The shape of each input as the call got it (kept after the inputs are freed)."""
        return self._per_input("_in_shapes")

    def input_dtypes(self) -> tuple[np.dtype[Any], ...]:
        """The dtype of each input as the call got it (kept after the inputs are freed)."""
        return self._per_input("_in_dtypes")

    def _per_input(self, name: str) -> tuple[Any, ...]:
        """A per-input record as a tuple (see the module docstring for the kept forms)."""
        value = getattr(self, name)
        n = len(self.needs_grad)
        if self._out is None and self._outs is None:
            return ()  # not recorded
        if name == "_edges":
            return value if value.__class__ is tuple else (value,)  # type: ignore[no-any-return]
        if name == "_in_shapes" and (not value or value[0].__class__ is not tuple):
            return (value,) * n  # one shape (a tuple of shapes holds tuples)
        return value if value.__class__ is tuple else (value,) * n  # type: ignore[no-any-return]

    @property
    def inputs(self) -> list[Variable | None]:
        """The input Variables (DeZero's attribute). zerograd's own functions keep only edges
        (unless recorded under ``keep_inputs``), so an input that is neither a leaf nor alive
        any more reads as ``None``, and so does a constant."""
        if self._inputs is not None:
            return self._inputs
        result: list[Variable | None] = []
        for edge in self.edges():
            result.append(
                edge if edge is None or isinstance(edge, Variable) else edge[0]._output(edge[1])
            )
        return result

    @inputs.setter
    def inputs(self, value: list[Variable | None]) -> None:
        self._inputs = value

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

    def _output(self, i: int) -> Variable | None:
        """Output ``i`` if it is alive."""
        ref = self._out if i == 0 else self.outputs[i]
        return None if ref is None else ref()

    def extra_repr(self) -> str:
        """Parameters worth showing next to the class name (graph pictures use it)."""
        return ""

    # -- what forward and backward use -------------------------------------------------------
    def forward(self, *xs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    def backward(self, *gys: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.backward is not implemented")

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
        x = self._saved_inputs
        if x.__class__ is tuple:
            x = x[i] if -len(x) <= i < len(x) else None
        elif i:  # a one-input call keeps its input's entry itself (never a tuple)
            x = None
        if x.__class__ in _FLOAT_SCALARS or x.__class__ is _ndarray:
            # An intermediate's array (or NumPy scalar), as forward got it.
            return self._input_variable(i, x) if backprop_enabled() else x
        if x is None:
            raise RuntimeError(f"{type(self).__name__}: input {i} was not retained in forward")
        if not isinstance(x, Variable):  # a CuPy array
            return self._input_variable(i, x) if backprop_enabled() else x
        # Versions only grow: one still at 0 was never modified.
        if x._version and x._version != (version := self._saved_versions[i]):
            raise RuntimeError(
                f"{type(self).__name__}.backward needs input {i} (shape {x.data.shape}, dtype "
                f"{x.data.dtype}), but it was modified in place after the forward pass "
                f"(version {version} then, {x._version} now)"
            )
        if backprop_enabled():
            return x
        d = x.data
        return _float_scalar(d) if self._scalar_0d else d  # as forward got it

    def _input_variable(self, i: int, x: Any) -> Variable:
        """The Variable of intermediate input ``i`` (array ``x``): the one forward got if it is
        alive and unchanged, else a new one that routes gradients to the same producer."""
        edges = self._edges
        edge = edges[i] if edges.__class__ is tuple else edges  # (see the module docstring)
        if edge is None or isinstance(edge, Variable):  # cut by unchain_backward
            return Variable(_as_array(x)) if edge is None else edge
        fn, index = edge if edge.__class__ is tuple else (edge, 0)
        var = fn._output(index)
        if var is None or var.data is not x:  # (a NumPy scalar never is: a new one then)
            var = Variable(_as_array(x))
            var.creator, var.generation, var._index = fn, fn.generation + 1, index
        return var

    def saved_output(self, i: int) -> Any:
        """Output ``i`` kept by ``retain_outputs`` (array, or Variable under ``create_graph``)."""
        data = self._saved_outputs[i]
        if not backprop_enabled():
            return data
        out = self._output(i)
        if out is None:
            # The user dropped the output; rebuild a Variable that still routes gradients here.
            out = Variable(data)
            out.creator, out.generation, out._index = self, self.generation + 1, i
            if i == 0:
                self._out = _ref(out)
            if self._outs is not None:
                self._outs[i] = _ref(out)
        return out

    def saved_output_array(self, i: int) -> Any:
        """The array of output ``i`` kept by ``retain_outputs``, on any pass (for masks and
        other values that backward uses as constants)."""
        return self._saved_outputs[i]

    @property
    def ops(self) -> Any:
        """NumPy-named functions for backward rules: array functions on the fast path,
        zerograd's differentiable functions when the backward pass is recorded."""
        if backprop_enabled():
            return graph_ops
        xp = self.xp
        return numpy_ops if xp is np else array_ops(xp)

    # -- the engine's bookkeeping -----------------------------------------------------------
    def _unchain_output(self, var: Variable) -> None:
        """``var`` (one of the outputs) was unchained: gradients for it stop at it."""
        if self._unchained is None:
            self._unchained = {}
            self._may_stop_gradient = True
        self._unchained[var._index] = weakref.ref(var)

    def _output_hooks(self, index: int) -> list[Hook]:
        if self._hooks is None:
            self._hooks = {}
            self._short_backward = False
        return self._hooks.setdefault(index, [])


@contextlib.contextmanager
def keep_inputs(enabled: bool = True) -> Iterator[None]:
    """Inside the block every recorded call keeps all its input Variables (constants
    included), so that ``Function.inputs`` reads each of them afterwards: for exporters that
    walk the graph. Context-local, like ``no_grad``; free when off.

    >>> import numpy as np, zerograd as zg
    >>> x = zg.Variable(np.array([1.0, 2.0]))
    >>> with keep_inputs():
    ...     y = x * np.array([3.0, 4.0])
    >>> y.creator.inputs[1].data
    array([3., 4.])
    """
    with set_flag(KEEP_INPUTS, enabled):
        yield


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
        array module, as a call would; ``fn.needs_grad`` reads all False)."""
        fn.xp = self.xp
        fn.needs_grad = (False,) * len(xs)
        return fn.forward(*xs)


class GraphOps:
    """The same names as ``ArrayOps``, bound to zerograd's differentiable functions: the
    function library is bound by ``install_operators`` (the engine does not import it)."""

    def __getattr__(self, name: str) -> Any:
        from zerograd.autograd import variable

        if variable._library is None:
            raise RuntimeError(
                "a recorded backward needs zerograd's functions: call "
                "zerograd.setup_variable() (importing zerograd does)"
            )
        value = getattr(variable._library, name)
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


numpy_ops = ArrayOps(np)
_array_ops: dict[Any, ArrayOps] = {np: numpy_ops}


def array_ops(xp: Any) -> ArrayOps:
    """The ``ArrayOps`` namespace for array module ``xp``."""
    ops = _array_ops.get(xp)
    if ops is None:
        ops = _array_ops[xp] = ArrayOps(xp)
    return ops
