"""``Variable`` and ``Parameter``: arrays that remember the function that made them."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from zerograd import cuda as _backend

if TYPE_CHECKING:
    from zerograd.autograd.function import Function

Hook = Callable[["Variable"], "Variable | None"]
# dtype kinds a Variable refuses: object, bytes, str, void (structured), datetime, timedelta.
_NOT_NUMBERS = frozenset("OSUVMm")


def as_array(x: Any, array_module: Any = np) -> Any:
    """Return ``x`` as an array: Python and NumPy scalars become 0-d arrays (DeZero's rule)."""
    if np.isscalar(x):
        return array_module.array(x)
    return x


def as_variable(obj: Any) -> Variable:
    """Return ``obj`` itself if it is a ``Variable``, else wrap it (it must be an array)."""
    if isinstance(obj, Variable):
        return obj
    return Variable(obj)


class ArrayLike:
    """The array-like face of a variable (``shape``, ``dtype``, ``len``, DeZero's ``repr``),
    read from ``self.data``; shared with the book's simple core (``zerograd.core_simple``)."""

    __slots__ = ()
    data: Any

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        if self.data is None:
            return "variable(None)"
        p = str(self.data).replace("\n", "\n" + " " * 9)
        return "variable(" + p + ")"


class Variable(ArrayLike):
    """An array in the computational graph.

    ``data`` is a NumPy (or CuPy) array or ``None``; ``grad`` is a ``Variable`` once backward
    has run; ``creator`` is the ``Function`` that produced it (``None`` for a leaf) and
    ``generation`` its depth, which orders backward.

    >>> import numpy as np, zerograd as zg
    >>> x = zg.Variable(np.array(2.0))
    >>> y = x ** 4 * 2
    >>> y.backward()
    >>> float(y.data), float(x.grad.data)
    (32.0, 64.0)
    """

    # Hot attributes are slots; rare ones (name, hooks, version...) fall back to the class
    # defaults below until set, which keeps creating a Variable cheap.
    __slots__ = ("__dict__", "__weakref__", "creator", "data", "generation", "grad")
    __array_priority__ = 200

    name: str | None = None
    #: False for constants made inside an op from plain arrays or scalars; every Variable a
    #: user creates needs a gradient (DeZero gives every leaf a grad).
    requires_grad = True
    _index = 0  # which output of ``creator`` this is (``output_index``)
    _version = 0  # bumped by in-place updates (``version``)
    _hooks: list[Hook] | None = None
    _retains_grad = False  # set by retain_grad()
    # In the graph's edges a leaf is the Variable itself; the backward loop tells it from a
    # Function by these two attributes, without isinstance (see Function).
    _is_variable = True
    _may_stop_gradient = True

    def __init__(self, data: Any, name: str | None = None) -> None:
        if data is not None:
            if not isinstance(data, _backend.array_types) and not _backend.is_device_array(data):
                raise TypeError(
                    f"Variable: data must be a numpy.ndarray (or cupy.ndarray) or None, "
                    f"got {type(data).__name__}; wrap scalars and lists with np.array(...)"
                )
            if data.dtype.kind in _NOT_NUMBERS:
                raise TypeError(
                    f"Variable: data must hold numbers (bool, integer, floating or complex), "
                    f"got an array of dtype {data.dtype}; convert it first, e.g. "
                    f"data.astype(np.float32)"
                )
        self.data = data
        if name is not None:
            self.name = name
        self.grad: Variable | None = None
        self.creator: Function | None = None
        self.generation = 0

    # -- graph -----------------------------------------------------------------------------
    def set_creator(self, func: Function) -> None:
        """Record ``func`` as this variable's creator (one generation below it)."""
        self.creator = func
        self.generation = func.generation + 1

    @property
    def output_index(self) -> int:
        """Which output of ``creator`` this is (0 for a leaf)."""
        return self._index

    @property
    def version(self) -> int:
        """How many times ``data`` was changed in place (see ``bump_version``)."""
        return self._version

    def cleargrad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    def backward(self, retain_grad: bool = False, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``grad``.

        The seed is ``self.grad`` if set, else ones. With ``retain_grad=False`` only leaves keep
        their gradients. With ``create_graph=True`` the backward pass is itself recorded, so
        gradients can be differentiated again.
        """
        from zerograd.autograd.backward import backward

        backward(self, retain_grad, create_graph)

    def unchain(self) -> None:
        """Cut the link to the creator: this variable becomes a leaf.

        Functions that already consumed it stop here too: their gradient is routed to this
        variable instead of flowing on into the old creator (DeZero's behaviour).
        """
        if self.creator is not None:
            self.creator._unchain_output(self)
        self.creator = None

    def unchain_backward(self) -> None:
        """Cut every link in the graph behind this variable (iteratively), freeing it."""
        from zerograd.autograd.backward import unchain_backward

        unchain_backward(self)

    def bump_version(self) -> None:
        """Record an in-place change of ``data`` (optimizer steps, running statistics), so a
        backward that saved this variable before the change fails instead of lying."""
        self._version += 1

    def retain_grad(self) -> None:
        """Keep this variable's gradient after backward even though it is not a leaf."""
        if self.creator is None or self._retains_grad:
            return  # leaves keep their gradient anyway; a second call changes nothing
        self._retains_grad = True
        ref = weakref.ref(self)

        def _store(grad: Variable) -> None:
            var = ref()
            if var is not None:
                if grad.creator is None:
                    # On the fast path the array may also flow on to other gradients (Add
                    # hands gy to both inputs): keep a copy, as leaves do.
                    grad = Variable(grad.data.copy())
                var.grad = grad if var.grad is None else var.grad + grad

        _store._zerograd_retain = True  # type: ignore[attr-defined]
        self.register_hook(_store)

    def register_hook(self, hook: Hook) -> Callable[[], None]:
        """Call ``hook(grad)`` when this variable's gradient is computed.

        The hook may return a replacement gradient. For a leaf it sees the sum of all
        contributions of one backward pass, before it is added to ``grad``. Returns a
        function that removes the hook.
        """
        if self.creator is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            # Non-leaf hooks live on the creator, so they fire even if this object is dropped.
            hooks = self.creator._output_hooks(self._index)
        if hooks and getattr(hooks[-1], "_zerograd_retain", False):
            hooks.insert(len(hooks) - 1, hook)  # retain_grad stores what the other hooks made
        else:
            hooks.append(hook)
        return lambda: hooks.remove(hook) if hook in hooks else None

    # -- devices ---------------------------------------------------------------------------
    def to_cpu(self) -> Variable:
        """Move ``data`` to host memory (in place); returns self."""
        if self.data is not None:
            self.data = _backend.as_numpy(self.data)
        return self

    def to_gpu(self) -> Variable:
        """Move ``data`` to the current GPU (in place, needs CuPy); returns self."""
        if self.data is not None:
            self.data = _backend.as_cupy(self.data)
        return self

    # -- tensor methods ----------------------------------------------------------------------
    def reshape(self, *shape: Any) -> Variable:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _library.reshape(self, shape)

    def transpose(self, *axes: Any) -> Variable:
        order: Any = axes
        if len(axes) == 0:
            order = None
        elif len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            order = axes[0]
        return _library.transpose(self, order)

    @property
    def T(self) -> Variable:
        return _library.transpose(self)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Variable:
        return _library.sum(self, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Variable:
        return _library.mean(self, axis, keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Variable:
        return _library.max(self, axis, keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Variable:
        return _library.min(self, axis, keepdims)

    def matmul(self, other: Any) -> Variable:
        return _library.matmul(self, other)

    dot = matmul

    def abs(self) -> Variable:
        return _library.abs(self)

    # -- operators ---------------------------------------------------------------------------
    # ``+ - * / ** @``, negation, ``abs`` and indexing are the function library's own functions
    # (``install_operators`` binds them, as DeZero's ``setup_variable`` does): one Python call
    # less per operator than a method that calls them.
    if TYPE_CHECKING:

        def __add__(self, other: Any) -> Variable: ...
        def __radd__(self, other: Any) -> Variable: ...
        def __sub__(self, other: Any) -> Variable: ...
        def __rsub__(self, other: Any) -> Variable: ...
        def __mul__(self, other: Any) -> Variable: ...
        def __rmul__(self, other: Any) -> Variable: ...
        def __truediv__(self, other: Any) -> Variable: ...
        def __rtruediv__(self, other: Any) -> Variable: ...
        def __pow__(self, other: Any) -> Variable: ...
        def __rpow__(self, other: Any) -> Variable: ...
        def __neg__(self) -> Variable: ...
        def __abs__(self) -> Variable: ...
        def __matmul__(self, other: Any) -> Variable: ...
        def __getitem__(self, slices: Any) -> Variable: ...

    def __rmatmul__(self, other: Any) -> Variable:
        return _library.matmul(other, self)


class Parameter(Variable):
    """A ``Variable`` that a ``Layer`` registers as a trainable parameter."""


# The function library (``zerograd.functions``) that the methods and operators above call;
# the engine does not import it: ``install_operators`` binds it.
_library: Any = None


def install_operators(library: Any) -> None:
    """Bind ``Variable``'s operators and methods, and the functions of recorded backward
    passes, to ``library`` (``zerograd.functions``; ``zerograd.setup_variable()`` does it
    when zerograd is imported)."""
    global _library
    _library = library
    V = Variable
    V.__add__ = V.__radd__ = library.add  # type: ignore[method-assign,assignment]
    V.__sub__, V.__rsub__ = library.sub, library.rsub  # type: ignore[method-assign,assignment]
    V.__mul__ = V.__rmul__ = library.mul  # type: ignore[method-assign,assignment]
    V.__truediv__ = library.div  # type: ignore[method-assign,assignment]
    V.__rtruediv__ = library.rdiv  # type: ignore[method-assign,assignment]
    V.__pow__, V.__rpow__ = library.pow, library.rpow  # type: ignore[method-assign,assignment]
    V.__neg__, V.__abs__ = library.neg, library.abs  # type: ignore[method-assign,assignment]
    V.__matmul__ = library.matmul  # type: ignore[method-assign,assignment]
    V.__getitem__ = library.get_item  # type: ignore[method-assign,assignment]
