"""Functional transforms, as in JAX and ``torch.func``: ``grad``, ``value_and_grad``, ``vjp``,
``jvp``, ``jacobian``, ``hessian``, ``hvp`` and ``functional_call``.

A transform takes a function of arrays or Variables and returns a function (or values) of
the same kind: NumPy (or CuPy) arrays in, arrays out, with the input's dtype; Variables in,
Variables out, recorded when recording is on, so that the transforms compose
(``grad(grad(f))``, ``grad`` of a function that calls ``grad``, ``jacobian(jacobian(f))``) and
their results can be differentiated with ``backward()``. An argument may be a dict, list or
tuple of arrays (a "pytree", as ``functional_call``'s parameters are): its gradient has the
same structure.

They are pure: they set no ``.grad`` on any Variable or Parameter (they differentiate with
``zerograd.autograd.grad``), record their own work even inside the caller's ``no_grad()``,
keep no state between calls and are as thread-safe as the engine.

>>> import numpy as np
>>> from zerograd.func import grad
>>> f = lambda x: (x ** 3).sum()
>>> grad(f)(np.array([1.0, 2.0]))
array([ 3., 12.])
>>> grad(lambda x: grad(f)(x).sum())(np.array([1.0, 2.0]))
array([ 6., 12.])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from zerograd import cuda
from zerograd.autograd.config import Config, using_config
from zerograd.autograd.function import Function
from zerograd.autograd.variable import Variable

__all__ = [
    "functional_call",
    "grad",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "value_and_grad",
    "vjp",
]


# -- pytrees: dicts, lists and tuples of arrays ---------------------------------------------------
def _flatten(tree: Any) -> tuple[list[Any], Any]:
    """The leaves of ``tree`` (anything but a dict, list or tuple) and its structure."""
    if isinstance(tree, dict):
        leaves: list[Any] = []
        specs = []
        for key, value in tree.items():
            sub, spec = _flatten(value)
            leaves += sub
            specs.append((key, spec, len(sub)))
        return leaves, ("dict", specs)
    if isinstance(tree, (list, tuple)):
        leaves = []
        specs = []
        for value in tree:
            sub, spec = _flatten(value)
            leaves += sub
            specs.append((None, spec, len(sub)))
        return leaves, (type(tree), specs)
    return [tree], None


def _unflatten(spec: Any, leaves: Sequence[Any]) -> Any:
    if spec is None:
        return leaves[0]
    kind, specs = spec
    parts = []
    start = 0
    for key, sub, n in specs:
        parts.append((key, _unflatten(sub, leaves[start : start + n])))
        start += n
    if kind == "dict":
        return dict(parts)
    return kind(value for _, value in parts)


# -- leaves ---------------------------------------------------------------------------------------
def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray) or cuda.is_device_array(x)


class _Primal:
    """One differentiable input: the Variable ``f`` receives and how to give results back."""

    def __init__(self, name: str, where: str, value: Any) -> None:
        if isinstance(value, Variable):
            data = value.data
            self.as_variable = True
        elif _is_array(value) or isinstance(value, (float, np.floating)):
            data = value if _is_array(value) else np.asarray(value)
            self.as_variable = False
        else:
            raise TypeError(
                f"{name}: {where} is a {type(value).__name__}; expected a floating-point array, "
                f"a Variable, or a dict/list/tuple of them"
            )
        if data is None or data.dtype.kind not in "fc":
            dtype = None if data is None else data.dtype
            raise TypeError(
                f"{name}: {where} has dtype {dtype}; only floating-point inputs can be "
                f"differentiated"
            )
        self.dtype = data.dtype
        self.shape = data.shape
        self.data = data
        self.value = value
        self.var = Variable(data)  # a leaf of our own; ``_prepare`` may take the user's

    def give(self, g: Variable | None, record: bool) -> Any:
        """``g`` (a gradient or tangent shaped like this input) in the input's kind and dtype;
        zeros for ``None`` (the output does not depend on this input)."""
        if g is None:
            zeros = cuda.get_array_module(self.data).zeros(self.shape, self.dtype)
            return Variable(zeros) if self.as_variable else zeros
        if g.dtype != self.dtype:
            g = _cast(g, self.dtype) if record else Variable(g.data.astype(self.dtype))
        return g if self.as_variable else g.data


class _Cast(Function):
    """``x.astype(dtype)``; the gradient goes back in ``x``'s dtype (torch's rule: a gradient
    has its input's dtype)."""

    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype

    def forward(self, x: Any) -> Any:
        self.x_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy: Any) -> Any:
        return _cast(gy, self.x_dtype)


def _cast(x: Variable, dtype: Any) -> Variable:
    if x.dtype == dtype:
        return x
    return _Cast(dtype)(x)  # type: ignore[return-value]


def _recording(primals: Sequence[_Primal], *extra: Any) -> bool:
    """Whether results must be recorded (differentiable further): a Variable came in, and the
    caller records (an enclosing transform always does)."""
    return bool(Config.enable_backprop) and (
        any(p.as_variable for p in primals) or any(isinstance(e, Variable) for e in extra)
    )


def _many(argnums: Any) -> bool:
    return isinstance(argnums, (tuple, list))


def _argnums(name: str, argnums: int | Sequence[int], nargs: int) -> tuple[int, ...]:
    nums = tuple(argnums) if isinstance(argnums, (tuple, list)) else (argnums,)
    if not nums:
        raise ValueError(f"{name}: argnums is empty")
    out = []
    for a in nums:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"{name}: argnums must be ints, got {type(a).__name__}")
        if not -nargs <= a < nargs:
            raise ValueError(
                f"{name}: argnums {a} is out of range for {nargs} positional argument(s)"
            )
        out.append(int(a) % nargs)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: argnums {tuple(nums)} repeats an argument")
    return tuple(out)


def _prepare(
    name: str, args: Sequence[Any], nums: tuple[int, ...], *extra: Any
) -> tuple[list[Any], list[tuple[list[_Primal], Any]], bool]:
    """The arguments with Variables in place of the differentiated leaves, per argument
    number its primals and tree structure, and whether to record (see ``_recording``;
    ``extra`` are tangents that may be Variables)."""
    groups = []
    for a in nums:
        leaves, spec = _flatten(args[a])
        primals = [
            _Primal(name, f"argument {a}" + (f", leaf {i}" if spec is not None else ""), leaf)
            for i, leaf in enumerate(leaves)
        ]
        groups.append((primals, spec))
    record = _recording([p for group, _ in groups for p in group], *extra)
    call_args = list(args)
    for a, (primals, spec) in zip(nums, groups):
        for p in primals:
            if p.as_variable and record:
                # Differentiate through the caller's Variable itself, so that an enclosing
                # transform (or the caller's backward) sees the dependence. Otherwise our own
                # leaf keeps the work off the caller's graph and its hooks.
                p.var = p.value
        call_args[a] = _unflatten(spec, [p.var for p in primals])
    return call_args, groups, record


def _regroup(groups: list[tuple[list[_Primal], Any]], values: Sequence[Any]) -> list[Any]:
    """``values`` (one per primal, in ``_prepare``'s order) as one tree per argument."""
    trees = []
    start = 0
    for primals, spec in groups:
        trees.append(_unflatten(spec, values[start : start + len(primals)]))
        start += len(primals)
    return trees


def _scalar_output(name: str, out: Any) -> Variable:
    if not isinstance(out, Variable):
        if _is_array(out) or isinstance(out, (int, float, np.generic)):
            out = Variable(np.asarray(out) if not _is_array(out) else out)  # a constant
        else:
            raise TypeError(
                f"{name}: f must return a scalar (a one-element array or Variable), got "
                f"{type(out).__name__}"
                + (" (use has_aux=True for (output, aux))" if isinstance(out, tuple) else "")
            )
    if out.size != 1:
        raise ValueError(
            f"{name}: f must return a scalar (one element), got shape {out.shape}; use "
            f"jacobian or vjp for other outputs"
        )
    if out.dtype.kind not in "fc":
        raise TypeError(f"{name}: f returned dtype {out.dtype}; expected a floating-point scalar")
    return out


def _split_aux(name: str, result: Any, has_aux: bool) -> tuple[Any, Any]:
    if not has_aux:
        return result, None
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(f"{name}: with has_aux=True, f must return (output, aux)")
    return result[0], result[1]


def _grads(
    outputs: list[Variable],
    primals: list[_Primal],
    grad_outputs: list[Any] | None,
    record: bool,
) -> list[Variable | None]:
    """d(sum <outputs, grad_outputs>)/d(primals), None where an output does not depend on it."""
    from zerograd.autograd import grad as autograd_grad

    ids = {id(p.var) for p in primals}
    # Outputs with no creator are constants (or inputs): nothing to differentiate but those.
    live = [i for i, y in enumerate(outputs) if y.creator is not None or id(y) in ids]
    if not live or not primals:
        return [None] * len(primals)
    ys = [outputs[i] for i in live]
    gos = None if grad_outputs is None else [grad_outputs[i] for i in live]
    return list(
        autograd_grad(ys, [p.var for p in primals], gos, create_graph=record, allow_unused=True)
    )


# -- grad and value_and_grad ----------------------------------------------------------------------
def value_and_grad(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False
) -> Callable[..., tuple[Any, Any]]:
    """``f``'s value and its gradient with respect to argument(s) ``argnums``: returns
    ``(value, grad)`` (``((value, aux), grad)`` with ``has_aux``); for a tuple ``argnums``,
    ``grad`` is a tuple. ``f`` must return a one-element array or Variable.

    >>> import numpy as np
    >>> from zerograd.func import value_and_grad
    >>> value_and_grad(lambda x, y: (x * y).sum(), argnums=(0, 1))(np.ones(2), np.full(2, 3.0))
    (array(6.), (array([3., 3.]), array([1., 1.])))
    """
    if not callable(f):
        raise TypeError(f"value_and_grad: f must be callable, got {type(f).__name__}")

    def transformed(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        nums = _argnums("grad", argnums, len(args))
        call_args, groups, record = _prepare("grad", args, nums)
        primals = [p for group, _ in groups for p in group]
        with using_config("enable_backprop", True):
            out, aux = _split_aux("grad", f(*call_args, **kwargs), has_aux)
            out = _scalar_output("grad", out)
            gs = _grads([out], primals, None, record)
        results = _regroup(groups, [p.give(g, record) for p, g in zip(primals, gs)])
        grads = tuple(results) if _many(argnums) else results[0]
        value = out if any(p.as_variable for p in primals) else out.data
        if value is out and not record:
            value = Variable(out.data)
        return ((value, aux) if has_aux else value), grads

    return transformed


def grad(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """The gradient of scalar-valued ``f`` with respect to argument(s) ``argnums`` (an int or
    a tuple of ints), in each argument's kind, structure and dtype; with ``has_aux``, ``f``
    returns ``(output, aux)`` and the result is ``(grad, aux)``.

    >>> import numpy as np, zerograd as zg
    >>> from zerograd.func import grad
    >>> grad(lambda x: (x ** 2).sum())(np.array([1.0, -2.0], np.float32))
    array([ 2., -4.], dtype=float32)
    >>> x = zg.Variable(np.array(0.5))
    >>> grad(grad(lambda x: x ** 4))(x)      # Variables in, Variables out: 12 x^2
    variable(3.0)
    >>> x.grad is None
    True
    """
    vg = value_and_grad(f, argnums, has_aux)

    def transformed(*args: Any, **kwargs: Any) -> Any:
        value, grads = vg(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return transformed


# -- vjp, jvp -------------------------------------------------------------------------------------
def _outputs(name: str, out: Any) -> tuple[list[Variable], Any]:
    leaves, spec = _flatten(out)
    vs = []
    for i, y in enumerate(leaves):
        if not isinstance(y, Variable):
            if not _is_array(y):
                raise TypeError(
                    f"{name}: f returned a {type(y).__name__} (output {i}); expected arrays or "
                    f"Variables"
                )
            y = Variable(y)
        vs.append(y)
    return vs, spec


def _give_outputs(outputs: list[Variable], spec: Any, as_variable: bool) -> Any:
    return _unflatten(spec, outputs if as_variable else [y.data for y in outputs])


def _cotangents(name: str, what: str, given: Any, outputs: list[Variable]) -> list[Any]:
    """``given`` (structured like the outputs) as a list checked against their shapes."""
    leaves, _ = _flatten(given)
    if len(leaves) != len(outputs):
        raise ValueError(f"{name}: {len(leaves)} {what} for {len(outputs)} output(s)")
    out = []
    for i, (v, y) in enumerate(zip(leaves, outputs)):
        data = v.data if isinstance(v, Variable) else v
        if not _is_array(data):
            raise TypeError(f"{name}: {what} {i} is a {type(v).__name__}, not an array or Variable")
        if tuple(data.shape) != tuple(y.shape):
            raise ValueError(
                f"{name}: {what} {i} has shape {tuple(data.shape)}, but output {i} has shape "
                f"{tuple(y.shape)}"
            )
        out.append(v if isinstance(v, Variable) else Variable(v.astype(y.dtype, copy=False)))
    return out


def vjp(f: Callable[..., Any], *primals: Any, has_aux: bool = False) -> Any:
    """``(f(*primals), vjp_fn)`` (``(out, vjp_fn, aux)`` with ``has_aux``): ``vjp_fn(ct)``
    gives the vector-Jacobian products ``ct^T J`` for every primal, as a tuple, each in its
    primal's kind and dtype. ``ct`` is structured like ``f``'s output; ``vjp_fn`` may be
    called many times.

    >>> import numpy as np
    >>> from zerograd.func import vjp
    >>> out, vjp_fn = vjp(lambda x: x ** 2, np.array([1.0, 3.0]))
    >>> vjp_fn(np.array([1.0, 10.0]))
    (array([ 2., 60.]),)
    """
    if not callable(f):
        raise TypeError(f"vjp: f must be callable, got {type(f).__name__}")
    nums = tuple(range(len(primals)))
    call_args, groups, record_out = _prepare("vjp", primals, nums)
    flat = [p for group, _ in groups for p in group]
    with using_config("enable_backprop", True):
        out, aux = _split_aux("vjp", f(*call_args), has_aux)
        outputs, spec = _outputs("vjp", out)
    as_variable = any(p.as_variable for p in flat)

    def vjp_fn(cotangents: Any) -> tuple[Any, ...]:
        cts = _cotangents("vjp_fn", "cotangents", cotangents, outputs)
        record = record_out or _recording([], *_flatten(cotangents)[0])
        with using_config("enable_backprop", True):
            gs = _grads(outputs, flat, cts, record)
        return tuple(_regroup(groups, [p.give(g, record) for p, g in zip(flat, gs)]))

    shown = outputs if record_out else [Variable(y.data) for y in outputs]
    value = _give_outputs(shown, spec, as_variable)
    return (value, vjp_fn, aux) if has_aux else (value, vjp_fn)


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(*primals), J @ tangents)``: the Jacobian-vector product, structured like ``f``'s
    output.

    Method: the double-vjp trick, not forward mode. zerograd's engine is reverse mode and
    every backward rule is written with differentiable functions, so ``g(u) = u^T J``
    (one reverse pass recorded with ``create_graph``) is linear in ``u``, and its gradient
    with respect to ``u`` in the direction ``v`` is ``J v`` (a second reverse pass). That
    works for every function the engine can differentiate, to any order, with no second set
    of (forward-mode) rules to write and keep correct; it costs about two backward passes
    instead of one forward pass.

    >>> import numpy as np
    >>> from zerograd.func import jvp
    >>> jvp(lambda x: x ** 2, (np.array([1.0, 3.0]),), (np.array([1.0, 10.0]),))
    (array([1., 9.]), array([ 2., 60.]))
    """
    from zerograd.autograd import grad as autograd_grad

    if not callable(f):
        raise TypeError(f"jvp: f must be callable, got {type(f).__name__}")
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples (one item per argument)")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    nums = tuple(range(len(primals)))
    call_args, groups, record = _prepare("jvp", primals, nums, *_flatten(list(tangents))[0])
    flat = [p for group, _ in groups for p in group]
    tleaves: list[Any] = []
    for a, t in enumerate(tangents):
        leaves, tspec = _flatten(t)
        if len(leaves) != len(groups[a][0]) or tspec != groups[a][1]:
            raise ValueError(f"jvp: tangents[{a}] is not structured like primals[{a}]")
        tleaves += leaves
    vs = _cotangents("jvp", "tangent", tleaves, [p.var for p in flat])
    with using_config("enable_backprop", True):
        outputs, spec = _outputs("jvp", f(*call_args))
        # u: a dummy cotangent per output; g(u) = u^T J is linear in u.
        us = [Variable(cuda.get_array_module(y.data).zeros(y.shape, y.dtype)) for y in outputs]
        gs = _grads(outputs, flat, us, True)
        pairs = [(g, v) for g, v in zip(gs, vs) if g is not None]
        if pairs:
            jv = autograd_grad(
                [g for g, _ in pairs],
                us,
                [v if v.dtype == g.dtype else _cast(v, g.dtype) for g, v in pairs],
                create_graph=record,
                allow_unused=True,
            )
        else:
            jv = (None,) * len(us)
    as_variable = any(p.as_variable for p in flat) or any(isinstance(t, Variable) for t in tleaves)
    tangent_out = []
    for y, t in zip(outputs, jv):
        if t is None:
            t = Variable(cuda.get_array_module(y.data).zeros(y.shape, y.dtype))
        elif not record:
            t = Variable(t.data)
        tangent_out.append(t)
    shown = outputs if record else [Variable(y.data) for y in outputs]
    return _give_outputs(shown, spec, as_variable), _give_outputs(tangent_out, spec, as_variable)


# -- jacobian, hessian, hvp -----------------------------------------------------------------------
def jacobian(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """The Jacobian of ``f`` by reverse mode (``torch.func.jacrev``): one vector-Jacobian
    product per output element. For an output of shape ``O`` and an argument of shape ``I``
    the result has shape ``O + I``; a tuple ``argnums`` gives a tuple; several outputs give
    a tuple (per output) of those.

    >>> import numpy as np
    >>> from zerograd.func import jacobian
    >>> jacobian(lambda x: x ** 2)(np.array([1.0, 3.0]))
    array([[2., 0.],
           [0., 6.]])
    """
    if not callable(f):
        raise TypeError(f"jacobian: f must be callable, got {type(f).__name__}")

    def transformed(*args: Any, **kwargs: Any) -> Any:
        import zerograd.functions as F

        nums = _argnums("jacobian", argnums, len(args))
        call_args, groups, record = _prepare("jacobian", args, nums)
        flat = [p for group, _ in groups for p in group]
        with using_config("enable_backprop", True):
            out, aux = _split_aux("jacobian", f(*call_args, **kwargs), has_aux)
            outputs, spec = _outputs("jacobian", out)
            per_output = []
            for y in outputs:
                xp = cuda.get_array_module(y.data)
                rows: list[list[Any]] = [[] for _ in flat]  # per primal, one per output element
                for i in range(y.size):
                    onehot = xp.zeros(y.size, y.dtype)
                    onehot[i] = 1
                    gs = _grads([y], flat, [Variable(onehot.reshape(y.shape))], record)
                    for row, p, g in zip(rows, flat, gs):
                        row.append(p.give(g, record))
                jacs = []
                for p, r in zip(flat, rows):
                    shape = tuple(y.shape) + tuple(p.shape)
                    if p.as_variable and record:
                        stacked = F.stack(r) if r else Variable(xp.zeros(shape, p.dtype))
                        jacs.append(F.reshape(stacked, shape))
                    elif p.as_variable:
                        data = [v.data for v in r]
                        jacs.append(
                            Variable(
                                xp.stack(data).reshape(shape) if r else xp.zeros(shape, p.dtype)
                            )
                        )
                    else:
                        stacked = xp.stack(r) if r else xp.zeros(shape, p.dtype)
                        jacs.append(stacked.reshape(shape))
                per_arg = _regroup(groups, jacs)
                per_output.append(tuple(per_arg) if _many(argnums) else per_arg[0])
        result = _unflatten(spec, per_output)
        return (result, aux) if has_aux else result

    return transformed


def hessian(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """The Hessian of scalar-valued ``f``: ``jacobian(jacobian(f))``, shape ``I + I``.

    >>> import numpy as np
    >>> from zerograd.func import hessian
    >>> hessian(lambda x: (x[0] ** 2) * x[1])(np.array([1.0, 3.0]))
    array([[6., 2.],
           [2., 0.]])
    """
    return jacobian(jacobian(f, argnums), argnums)


def hvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(*primals), H @ tangents)`` for scalar-valued ``f`` (torch.autograd.functional's
    ``hvp``), by reverse over reverse: the gradient of ``<grad f(x), v>``, two backward
    passes and no Hessian formed.

    >>> import numpy as np
    >>> from zerograd.func import hvp
    >>> hvp(lambda x: (x ** 3).sum(), (np.array([1.0, 2.0]),), (np.array([1.0, 1.0]),))
    (array(9.), (array([ 6., 12.]),))
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("hvp: primals and tangents must be tuples (one item per argument)")
    if len(primals) != len(tangents):
        raise ValueError(f"hvp: {len(primals)} primals but {len(tangents)} tangents")
    nums = tuple(range(len(primals)))

    def inner(*xs: Any) -> Any:
        import zerograd.functions as F

        value, gs = value_and_grad(f, nums)(*xs)
        total: Any = None
        for g, v in zip(_flatten(gs)[0], _flatten(list(tangents))[0]):
            if tuple(np.shape(v.data if isinstance(v, Variable) else v)) != tuple(g.shape):
                raise ValueError(
                    f"hvp: a tangent has shape {np.shape(v)}, but its primal has shape {g.shape}"
                )
            term = F.sum(g * v)
            total = term if total is None else total + term
        return total, value

    (hv, value) = grad(inner, nums, has_aux=True)(*primals)
    as_variable = any(isinstance(leaf, Variable) for leaf in _flatten(list(primals))[0])
    value = value if as_variable or not isinstance(value, Variable) else value.data
    return value, hv


# -- functional_call ------------------------------------------------------------------------------
def functional_call(
    model: Any,
    params: dict[str, Any],
    args: Any = (),
    kwargs: dict[str, Any] | None = None,
    *,
    strict: bool = False,
) -> Any:
    """Call ``model(*args, **kwargs)`` with the parameters and buffers named in ``params``
    (dotted names, as ``model.named_params()`` and ``named_buffers()`` give them) replaced by
    the given arrays or Variables, as ``torch.func.functional_call`` does; the others keep
    their values (all must be given with ``strict=True``). With ``grad`` this differentiates
    a model with respect to a dict of parameter arrays:

    >>> import numpy as np, zerograd.functions as F, zerograd.layers as L
    >>> from zerograd.func import functional_call, grad
    >>> model = L.Linear(1, in_size=2)
    >>> params = {k: p.data for k, p in model.named_params()}
    >>> x = np.array([[1.0, 2.0]], np.float32)
    >>> loss = lambda p: F.sum(functional_call(model, p, (x,)))
    >>> g = grad(loss)(params)
    >>> sorted(g), g["W"].ravel().tolist(), model.W.grad is None
    (['W', 'b'], [1.0, 2.0], True)

    The model's attributes are swapped for the call and restored after it (even on error),
    so do not use the same model from another thread meanwhile.
    """
    from zerograd.layers.layer import Layer

    if not isinstance(model, Layer):
        raise TypeError(f"functional_call: model must be a Layer, got {type(model).__name__}")
    if not isinstance(params, dict):
        raise TypeError(f"functional_call: params must be a dict, got {type(params).__name__}")
    named: dict[str, Variable] = dict(model.named_params())
    named.update(model.named_buffers())
    unknown = sorted(k for k in params if k not in named)
    if unknown:
        raise ValueError(
            f"functional_call: {type(model).__name__} has no parameter or buffer {unknown}; "
            f"its names: {sorted(named)}"
        )
    if strict:
        missing = sorted(k for k in named if k not in params)
        if missing:
            raise ValueError(f"functional_call: strict=True, but {missing} not given")
    holders = _holders(model)
    swaps = []
    for key, value in params.items():
        current = named[key]
        if isinstance(value, Variable):
            var = value
        elif _is_array(value):
            var = Variable(value)
        else:
            raise TypeError(
                f"functional_call: params[{key!r}] is a {type(value).__name__}, not an array or "
                f"Variable"
            )
        if current.data is not None and tuple(var.shape) != tuple(current.shape):
            raise ValueError(
                f"functional_call: params[{key!r}] has shape {tuple(var.shape)}, but the "
                f"model's has shape {tuple(current.shape)}"
            )
        # Every attribute holding this parameter (tied weights) sees the replacement.
        swaps += [(layer, attr, var) for layer, attr in holders[id(current)]]
    if not isinstance(args, tuple):
        args = (args,)
    saved = []
    try:
        for layer, attr, var in swaps:
            # Straight into the instance dict: Layer.__setattr__ would re-register the name.
            saved.append((layer, attr, layer.__dict__[attr]))
            layer.__dict__[attr] = var
        return model(*args, **(kwargs or {}))
    finally:
        for layer, attr, original in reversed(saved):
            layer.__dict__[attr] = original


def _holders(model: Any) -> dict[int, list[tuple[Any, str]]]:
    """``id(variable)`` -> every ``(layer, attribute)`` holding it, for the model's layers."""
    holders: dict[int, list[tuple[Any, str]]] = {}
    stack = [model]
    seen = {id(model)}
    while stack:
        layer = stack.pop()
        for attr, value in vars(layer).items():
            if isinstance(value, Variable):
                holders.setdefault(id(value), []).append((layer, attr))
        for _, child in layer.named_children():
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return holders
