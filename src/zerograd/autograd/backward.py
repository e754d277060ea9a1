"""Reverse-mode traversal: generation-ordered, iterative, each function exactly once.

The seed's idea (step 16 of *Deep Learning from Scratch 3*): every function knows its
generation, so taking the function with the largest generation first guarantees that all
consumers of a value have contributed to its gradient before its producer runs. The priority
queue is a bucket queue (one bucket per generation, walked downwards): O(1) per push and pop
where DeZero sorts its list at every insert and a heap pays log n per pop. All state is local
to one call.
"""

from __future__ import annotations

import sys as _sys
from typing import Any, NoReturn

import numpy as np

from zerograd import cuda
from zerograd.autograd import anomaly
from zerograd.autograd import variable as _variable
from zerograd.autograd.config import _enable_backprop
from zerograd.autograd.function import Function, _Constant, array_ops
from zerograd.autograd.variable import Hook, Variable

_new_variable = object.__new__
_PENDING = object()  # marks a function that has no gradient entry yet


def _as_var(g: Any) -> Variable:
    """Wrap a raw gradient (array or NumPy scalar) in a Variable."""
    v = _new_variable(Variable)
    v.data = g if isinstance(g, cuda.array_types) else np.asarray(g)
    v.grad = v.creator = None
    v.generation = 0
    return v


def _run_hooks(hooks: list[Hook], g: Any, fast: bool) -> Any:
    gv = _as_var(g) if fast else g
    for hook in list(hooks):
        result = hook(gv)
        if result is not None:
            result = result if isinstance(result, Variable) else _as_var(result)
            if result.shape != gv.shape:
                raise ValueError(
                    f"gradient hook {getattr(hook, '__qualname__', hook)!r} returned a gradient "
                    f"of shape {result.shape} for a gradient of shape {gv.shape}"
                )
            gv = result
    return gv.data if fast else gv


def _fit_all(f: Function, gxs: Any, fast: bool) -> list[Any]:
    """``f``'s gradients, each brought to the shape of its input (see ``_fit``)."""
    shapes = f._in_shapes
    fitted = list(gxs) if gxs.__class__ is tuple or gxs.__class__ is list else [gxs]
    for i, (node, gx) in enumerate(zip(f._all_edges(), fitted)):
        if gx is not None and node is not None and gx.shape != shapes[i]:  # type: ignore[index]
            fitted[i] = _fit(f, i, gx, shapes[i], fast)  # type: ignore[index]
    return fitted


def _fit(f: Function, i: int, gx: Any, shape: tuple[int, ...], fast: bool) -> Any:
    """Sum a broadcast gradient back to its input's shape, or name the function that erred."""
    gshape = gx.shape
    if len(gshape) >= len(shape) and all(
        s == 1 or s == g for s, g in zip(reversed(shape), reversed(gshape))
    ):
        if fast:
            return array_ops(f.xp).sum_to(gx, shape)
        from zerograd.functions import sum_to

        return sum_to(gx, shape)
    _fail(
        f,
        ValueError(
            f"{type(f).__name__}.backward returned a gradient of shape {gshape} for input "
            f"{i}, whose shape is {shape}"
        ),
    )


def backward(y: Variable, retain_grad: bool = False, create_graph: bool = False) -> None:
    """Run backward from ``y`` (see ``Variable.backward``)."""
    if y.data is None:
        raise ValueError("backward: the variable holds no data (Variable(None))")
    if y.grad is None:
        # The seed is a constant: a recorded backward pass (create_graph) then builds no
        # gradient with respect to it (torch's default grad_outputs need none either).
        data = y.data
        if data.__class__ is np.ndarray and data.ndim == 0:  # a loss: the common case
            seed = np.array(1, dtype=data.dtype)
        else:
            seed = cuda.get_array_module(data).ones_like(data)
        y.grad = _as_var(seed)
        y.grad.__class__ = _Constant
    elif y.grad.shape != y.data.shape:
        # Functions that broadcast nothing pass a gradient on in the shape it came in.
        raise ValueError(
            f"backward: the gradient set on the output has shape {y.grad.shape}, but the "
            f"output has shape {y.data.shape}"
        )
    f = y.creator
    if f is None:
        return  # a leaf: its gradient is the seed
    token = _enable_backprop.set(create_graph)
    try:
        _run(y, f, retain_grad, not create_graph)
    finally:
        _enable_backprop.reset(token)
    if not retain_grad and not y._retains_grad:
        y.grad = None


def _fail(f: Function, error: Exception) -> NoReturn:
    """Raise ``error`` from ``f``'s backward, with its forward stack in anomaly mode."""
    if f._forward_stack is not None:
        anomaly.annotate(f, error)
    raise error


def _call_backward(f: Function, gys: list[Any], y: Variable, retain_grad: bool, fast: bool) -> Any:
    """Run ``f.backward`` with everything around it: output hooks, ``retain_grad``,
    Variables for DeZero-style functions, anomaly checks, and gradients brought to the
    pass's kind (arrays on the fast path, Variables under ``create_graph``) and to each
    input's shape. Returns the gradients as a tuple."""
    if f._hooks is not None:
        for i, hooks in f._hooks.items():
            if gys[i] is not None and hooks:
                gys[i] = _run_hooks(hooks, gys[i], fast)
    if retain_grad:
        for ref, gy in zip(f.outputs, gys):
            out = ref()
            if out is not None and gy is not None and out is not y and not out._retains_grad:
                g = _as_var(gy) if fast else gy
                out.grad = g if out.grad is None else out.grad + g
    if fast and not f.lean:
        # DeZero-style Functions expect Variables in backward.
        gys = [None if gy is None else _as_var(gy) for gy in gys]
    try:
        gxs = f.backward(gys[0]) if len(gys) == 1 else f.backward(*gys)
    except Exception as error:
        if f._forward_stack is not None:
            anomaly.annotate(f, error)
        raise
    gxs = _as_tuple(f, gxs)
    if f._forward_stack is not None:
        anomaly.check_backward(f, gxs)
    if fast:
        # User Functions return Variables.
        return tuple([gx.data if isinstance(gx, Variable) else gx for gx in gxs])
    return _as_variables(gxs)


def _as_variables(gxs: tuple[Any, ...]) -> tuple[Any, ...]:
    """Under ``create_graph``: raw gradients (constants of the recorded pass) as Variables."""
    result = []
    for gx in gxs:
        if gx is not None and not isinstance(gx, Variable):
            gx = _as_var(gx)
            gx.__class__ = _Constant
        result.append(gx)
    return tuple(result)


def _as_tuple(f: Function, gxs: Any) -> tuple[Any, ...]:
    """``f.backward``'s result as a tuple of one gradient per input, or a named error."""
    if gxs.__class__ is not tuple:
        gxs = tuple(gxs) if isinstance(gxs, list) else (gxs,)
    if len(gxs) != len(f._all_edges()):
        _fail(
            f,
            ValueError(
                f"{type(f).__name__}.backward returned {len(gxs)} gradient(s) for "
                f"{len(f._all_edges())} input(s)"
            ),
        )
    return gxs


def _to_unchained(f: Function, index: int, gx: Any, leaf_grads: dict[Variable, Any]) -> bool:
    """If output ``index`` of ``f`` was unchained after a consumer recorded it, it is a leaf
    now: give it ``gx`` and return True."""
    if f._cut is None or index not in f._cut:
        return False
    leaf = f._cut[index]()
    if leaf is not None:
        prev = leaf_grads.get(leaf)
        leaf_grads[leaf] = gx if prev is None else prev + gx
    return True


def _run(y: Variable, f: Function, retain_grad: bool, fast: bool) -> None:
    seed = y.grad.data if fast else y.grad  # type: ignore[union-attr]
    if y._retains_grad:
        y.grad = None  # its retain_grad hook stores this pass's (hooked) seed
    # Gradients waiting for their function: output 0's in ``grads`` (None until one arrives;
    # every pending function has an entry), the other outputs' in ``more``.
    grads: dict[Function, Any] = {f: seed if y._index == 0 else None}
    more: dict[tuple[Function, int], Any] = {} if y._index == 0 else {(f, y._index): seed}
    # The priority queue: functions waiting for backward, one bucket per generation, indexed
    # by depth below the seed's function (``top - generation``: every function behind it has a
    # lower generation) and taken from depth 0 down. This monotone queue pushes and pops in
    # O(1) (a heap's pops cost log n: on a wide graph, where thousands of functions wait at
    # once, that shows), spans only the generations this graph uses (a long run whose
    # generations count into the millions costs nothing), and a bucket keeps push order.
    top = f.generation
    buckets: list[Any] = [f]
    # A bucket holds the first function of its generation; later ones wait behind it, each
    # linked to the next in ``after`` (``last``: a crowded bucket's newest function).
    after: dict[Function, Function] = {}
    last: dict[int, Function] = {}
    n_buckets = 1
    # No intermediate gradient to keep: lean functions without hooks or anomaly records
    # (``_plain``) then take the short path.
    plain = not retain_grad
    leaf_grads: dict[Variable, Any] = {}

    for f in buckets:  # grows while it is walked: later buckets are visited too
        while f is not None:
            gy = grads.pop(f)
            if plain and f._plain:
                if f._outs is None:
                    gxs = f.backward(gy)
                else:
                    n_out = len(f._outs)
                    gxs = f.backward(gy, *[more.pop((f, i), None) for i in range(1, n_out)])
                # zerograd's own backward rules return one gradient per input (a bare one
                # for one input): no count to check.
                if not fast:
                    if gxs.__class__ is not tuple:
                        gxs = tuple(gxs) if gxs.__class__ is list else (gxs,)
                    for gx in gxs:
                        if gx is not None and gx.__class__ is not Variable:
                            gxs = _as_variables(gxs)  # raw constants of the recorded pass
                            break
            else:
                n_out = 1 if f._outs is None else len(f._outs)
                gys = [gy] + [more.pop((f, i), None) for i in range(1, n_out)]
                gxs = _call_backward(f, gys, y, retain_grad, fast)
            if f._in_shapes is not None:
                gxs = _fit_all(f, gxs, fast)
            generation = f.generation
            edges = f._edges
            if edges.__class__ is tuple:
                if gxs.__class__ is not tuple:
                    gxs = tuple(gxs) if gxs.__class__ is list else (gxs,)
                pairs: Any = zip(edges, gxs)
            else:  # one input: ``edges`` is its edge
                if gxs.__class__ is tuple or gxs.__class__ is list:
                    gxs = gxs[0]
                pairs = ((edges, gxs),)
            for node, gx in pairs:
                if gx is None or node is None:
                    continue
                if node.__class__ is tuple:
                    node, index = node
                    if node._special and _to_unchained(node, index, gx, leaf_grads):
                        continue
                elif node._special:  # a leaf, or a function with unchained outputs
                    if node._is_variable:
                        prev = leaf_grads.get(node)
                        leaf_grads[node] = gx if prev is None else prev + gx
                        continue
                    if _to_unchained(node, 0, gx, leaf_grads):
                        continue
                    index = 0
                else:
                    index = 0
                prev = grads.get(node, _PENDING)
                if prev is _PENDING:  # the first gradient for this function: schedule it
                    k = node.generation
                    if not 0 <= k < generation:
                        raise RuntimeError(
                            f"backward: {type(node).__name__} (generation {k}) feeds "
                            f"{type(f).__name__} (generation {generation}); the generations of the "
                            f"graph are inconsistent (was set_creator misused?)"
                        )
                    k = top - k
                    if k < n_buckets:
                        first = buckets[k]
                        if first is None:
                            buckets[k] = node
                        else:
                            after[last.get(k, first)] = node
                            last[k] = node
                    else:
                        while n_buckets < k:  # generations nobody waits at (a few, usually)
                            buckets.append(None)
                            n_buckets += 1
                        buckets.append(node)
                        n_buckets += 1
                    if index == 0:
                        grads[node] = gx
                        continue
                    prev = None
                if index == 0:
                    grads[node] = gx if prev is None else prev + gx
                else:
                    grads[node] = prev
                    key = (node, index)
                    prev = more.get(key)
                    more[key] = gx if prev is None else prev + gx
            f = after.pop(f, None) if after else None  # the next one of this generation

    # A raw gradient may be shared (Add hands gy to both inputs) or a read-only broadcast
    # view; each leaf gets an array of its own, so in-place updates of one grad (weight decay
    # hooks do ``grad.data += ...``) never leak into another.
    given = {id(seed)}
    for x, g in leaf_grads.items():
        if x._hooks:
            g = _run_hooks(x._hooks, g, fast)
        if fast:
            if x.grad is not None:
                g = x.grad.data + g
            elif id(g) in given or (g.base is not None and not getattr(g.flags, "writeable", True)):
                g = g.copy()
            given.add(id(g))
            x.grad = _as_var(g)
        else:
            x.grad = g if x.grad is None else x.grad + g


def unchain_backward(y: Variable) -> None:
    """Cut the graph behind ``y``: every live input of every function behind it becomes a
    leaf (``y`` keeps its creator, as in DeZero), so the rest of the graph is freed."""
    f = y.creator
    if f is None:
        return
    stack = [f]
    seen = {f}
    while stack:
        f = stack.pop()
        edges = f._all_edges()
        if not edges:
            continue
        new_edges: list[Any] = []
        for node in edges:
            index = 0
            if node.__class__ is tuple:
                node, index = node
            if isinstance(node, Function):
                if node not in seen:
                    seen.add(node)
                    stack.append(node)
                var = node._output_ref(index)()
                if var is not None:
                    var.unchain()
                new_edges.append(var)  # the input is a leaf now (None: nobody holds it)
            else:
                new_edges.append(node)
        f._edges = tuple(new_edges)
        f.needs_grad = tuple([e is not None for e in new_edges])


_variable._engine = _sys.modules[__name__]  # Variable.backward and unchain_backward call here
