"""Reverse-mode traversal: generation-ordered, iterative, each function exactly once.

The seed's idea (step 16 of *Deep Learning from Scratch 3*): every function knows its
generation, so taking the function with the largest generation first guarantees that all
consumers of a value have contributed to its gradient before its producer runs. The priority
queue is a bucket queue (one bucket per generation, walked downwards): O(1) per push and pop
where DeZero sorts its list at every insert and a heap pays log n per pop. All state is local
to one call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

import numpy as np

from zerograd import cuda
from zerograd.autograd import anomaly
from zerograd.autograd.config import _enable_backprop
from zerograd.autograd.function import Constant, Function, _leaf, array_ops, graph_ops
from zerograd.autograd.variable import Hook, Variable

_new_variable = object.__new__
_PENDING = object()  # marks a function that has no gradient entry yet


def _as_var(g: Any) -> Variable:
    """Wrap a raw gradient (array or NumPy scalar) in a Variable."""
    return _leaf(Variable, g)


def _as_constant(g: Any) -> Constant:
    """Wrap a raw gradient as a constant of a recorded backward pass."""
    return _leaf(Constant, g)


def _run_hooks(hooks: list[Hook], g: Any, fast: bool, capture: Any = None) -> Any:
    gv = _as_var(g) if fast else g
    for hook in list(hooks):
        if capture is not None and getattr(hook, "_zerograd_retain", False):
            continue  # ``grad`` sets no ``.grad``, not even a retained one
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


def _fit_all(f: Function, gxs: Any, fast: bool) -> tuple[Any, ...]:
    """``f``'s gradients (a bare one for one input), each brought to the shape of its input
    (see ``_fit``)."""
    shapes = f.input_shapes()
    fitted = list(gxs) if gxs.__class__ is tuple or gxs.__class__ is list else [gxs]
    # ``needs_grad`` mirrors the edges (False where no gradient flows), without building them.
    for i, (wanted, gx) in enumerate(zip(f.needs_grad, fitted)):
        if wanted and gx is not None and gx.shape != shapes[i]:
            fitted[i] = _fit(f, i, gx, shapes[i], fast)
    return tuple(fitted)


def _fit(f: Function, i: int, gx: Any, shape: tuple[int, ...], fast: bool) -> Any:
    """Sum a broadcast gradient back to its input's shape, or name the function that erred."""
    gshape = gx.shape
    if len(gshape) >= len(shape) and all(
        s == 1 or s == g for s, g in zip(reversed(shape), reversed(gshape))
    ):
        return (array_ops(f.xp) if fast else graph_ops).sum_to(gx, shape)
    _fail(
        f,
        ValueError(
            f"{type(f).__name__}.backward returned a gradient of shape {gshape} for input "
            f"{i}, whose shape is {shape}"
        ),
    )


def _seed(y: Variable, name: str) -> Any:
    """Ones in ``y``'s shape: the implicit gradient of an output."""
    data = y.data
    if data is None:
        raise ValueError(f"{name}: the variable holds no data (Variable(None))")
    if data.__class__ is np.ndarray and data.ndim == 0:  # a loss: the common case
        return np.array(1, dtype=data.dtype)
    return cuda.get_array_module(data).ones_like(data)


def backward(y: Variable, retain_grad: bool = False, create_graph: bool = False) -> None:
    """Run backward from ``y`` (see ``Variable.backward``)."""
    if y.grad is None:
        # The seed is a constant: a recorded backward pass (create_graph) then builds no
        # gradient with respect to it (torch's default grad_outputs need none either).
        y.grad = _as_constant(_seed(y, "backward"))
    elif y.data is None:
        raise ValueError("backward: the variable holds no data (Variable(None))")
    elif y.grad.shape != y.data.shape:
        # Functions that broadcast nothing pass a gradient on in the shape it came in.
        raise ValueError(
            f"backward: the gradient set on the output has shape {y.grad.shape}, but the "
            f"output has shape {y.data.shape}"
        )
    f = y.creator
    if f is None:
        return  # a leaf: its gradient is the seed
    g = y.grad.data if not create_graph else y.grad
    if y._retains_grad:
        y.grad = None  # its retain_grad hook stores this pass's (hooked) seed
    token = _enable_backprop.set(create_graph)
    try:
        _run(((f, y._index),), (g,), retain_grad, not create_graph, y)
    finally:
        _enable_backprop.reset(token)
    if not retain_grad and not y._retains_grad:
        y.grad = None


def grad(
    outputs: Variable | Sequence[Variable],
    inputs: Variable | Sequence[Variable],
    grad_outputs: Any = None,
    *,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Variable | None, ...]:
    """The gradients of ``sum(outputs[i] * grad_outputs[i])`` with respect to ``inputs``
    (leaves or intermediates), as ``torch.autograd.grad`` computes them. No ``.grad`` is set
    on any Variable. ``grad_outputs`` defaults to ones for one-element outputs; with
    ``create_graph=True`` the gradients are recorded, so they can be differentiated again
    (to any order). An input the outputs do not depend on is an error, or ``None`` with
    ``allow_unused=True``.

    >>> import numpy as np, zerograd as zg
    >>> x = zg.Variable(np.array(3.0))
    >>> y = x ** 3
    >>> (gx,) = zg.autograd.grad(y, x, create_graph=True)
    >>> (ggx,) = zg.autograd.grad(gx, x)
    >>> float(gx.data), float(ggx.data), x.grad is None
    (27.0, 18.0, True)
    """
    outs = [outputs] if isinstance(outputs, Variable) else list(outputs)
    ins = [inputs] if isinstance(inputs, Variable) else list(inputs)
    for what, group in (("outputs", outs), ("inputs", ins)):
        for i, v in enumerate(group):
            if not isinstance(v, Variable):
                raise TypeError(f"grad: {what}[{i}] is a {type(v).__name__}, not a Variable")
    gos: list[Any]
    if grad_outputs is None:
        gos = [None] * len(outs)
    elif isinstance(grad_outputs, (Variable, *cuda.array_types)):
        gos = [grad_outputs]
    else:
        gos = list(grad_outputs)
    if len(gos) != len(outs):
        raise ValueError(f"grad: {len(gos)} grad_outputs for {len(outs)} outputs")
    edges: list[Any] = []
    seeds: list[Any] = []
    for i, (y, g) in enumerate(zip(outs, gos)):
        if g is None:
            if y.data is not None and y.data.size != 1:
                raise ValueError(
                    f"grad: outputs[{i}] has shape {y.shape}; its gradient can be implied (as "
                    f"ones) only for a one-element output: pass grad_outputs"
                )
            g = _as_constant(_seed(y, "grad"))
        elif not isinstance(g, Variable):
            g = _as_constant(g)
        if g.shape != y.shape:
            raise ValueError(
                f"grad: grad_outputs[{i}] has shape {g.shape}, but outputs[{i}] has shape {y.shape}"
            )
        edge = (y.creator, y._index) if y.creator is not None else y  # pairs for index 0 too
        edges.append(edge)
        seeds.append(g if create_graph else g.data)
    # Where each input's gradient shows: a leaf's in the leaf gradients, an intermediate's
    # when its producer runs (``capture``).
    capture = {(v.creator, v._index): None for v in ins if v.creator is not None}
    token = _enable_backprop.set(create_graph)
    try:
        leaf_grads = _run(tuple(edges), tuple(seeds), False, not create_graph, None, capture)
    finally:
        _enable_backprop.reset(token)
    result: list[Variable | None] = []
    for i, v in enumerate(ins):
        g = leaf_grads.get(v) if v.creator is None else capture[(v.creator, v._index)]
        if g is None and not allow_unused:
            raise ValueError(
                f"grad: inputs[{i}] (shape {v.shape}) is not used to compute the outputs (or "
                f"needs no gradient); pass allow_unused=True to get None for it"
            )
        result.append(g if g is None or isinstance(g, Variable) else _as_var(g))
    return tuple(result)


def _fail(f: Function, error: Exception) -> NoReturn:
    """Raise ``error`` from ``f``'s backward, with its forward stack in anomaly mode."""
    if f._forward_stack is not None:
        anomaly.annotate(f, error)
    raise error


def _call_backward(
    f: Function, gys: list[Any], y: Variable | None, retain_grad: bool, fast: bool, capture: Any
) -> tuple[Any, ...]:
    """Run ``f.backward`` with everything around it: output hooks, ``retain_grad``,
    Variables for DeZero-style functions, anomaly checks, the gradients ``grad`` asked for,
    and gradients brought to the pass's kind (arrays on the fast path, Variables under
    ``create_graph``). Returns the gradients as a tuple."""
    if f._hooks is not None:
        for i, hooks in f._hooks.items():
            if gys[i] is not None and hooks:
                gys[i] = _run_hooks(hooks, gys[i], fast, capture)
    if capture:
        for i, gy in enumerate(gys):
            if (f, i) in capture:
                capture[(f, i)] = gy
    if retain_grad:
        for ref, gy in zip(f.outputs, gys):
            out = ref()
            if out is not None and gy is not None and out is not y and not out._retains_grad:
                g = _as_var(gy) if fast else gy
                out.grad = g if out.grad is None else out.grad + g
    if fast and not f.array_backward:
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
    return tuple([gx if gx is None or isinstance(gx, Variable) else _as_constant(gx) for gx in gxs])


def _as_tuple(f: Function, gxs: Any) -> tuple[Any, ...]:
    """``f.backward``'s result as a tuple of one gradient per input, or a named error."""
    if gxs.__class__ is not tuple:
        gxs = tuple(gxs) if isinstance(gxs, list) else (gxs,)
    if len(gxs) != len(f.needs_grad):
        _fail(
            f,
            ValueError(
                f"{type(f).__name__}.backward returned {len(gxs)} gradient(s) for "
                f"{len(f.needs_grad)} input(s)"
            ),
        )
    return gxs


def _to_unchained(f: Function, index: int, gx: Any, leaf_grads: dict[Variable, Any]) -> bool:
    """If output ``index`` of ``f`` was unchained after a consumer recorded it, it is a leaf
    now: give it ``gx`` and return True."""
    if f._unchained is None or index not in f._unchained:
        return False
    leaf = f._unchained[index]()
    if leaf is not None:
        prev = leaf_grads.get(leaf)
        leaf_grads[leaf] = gx if prev is None else prev + gx
    return True


class _Roots:
    """The roots of a backward pass, as a node above the graph whose gradients are the seeds."""

    check_shapes = False

    def __init__(self, edges: tuple[Any, ...], generation: int) -> None:
        self._edges = edges
        self.generation = generation


def _run(
    root_edges: tuple[Any, ...],
    seeds: tuple[Any, ...],
    retain_grad: bool,
    fast: bool,
    y: Variable | None,
    capture: dict[tuple[Function, int], Any] | None = None,
) -> dict[Variable, Any]:
    """The backward pass from ``root_edges`` with gradients ``seeds``. Sets the leaves' ``.grad``
    (``backward``, whose output is ``y``), or, with ``capture`` (``grad``), fills in the
    gradients of the intermediates named there and returns the leaves' gradients."""
    # Gradients waiting for their function: output 0's in ``grads`` (None until one arrives;
    # every pending function has an entry), the other outputs' in ``more``.
    grads: dict[Function, Any] = {}
    more: dict[tuple[Function, int], Any] = {}
    # The priority queue: functions waiting for backward, one bucket per generation, indexed
    # by depth below the top generation (``top - generation``: every function behind the roots
    # has a lower generation) and taken from depth 0 down. This monotone queue pushes and pops
    # in O(1) (a heap's pops cost log n: on a wide graph, where thousands of functions wait at
    # once, that shows), spans only the generations this graph uses (a long run whose
    # generations count into the millions costs nothing), and a bucket keeps push order.
    # The roots are the gradients of a node above the graph (one generation higher than the
    # top): the loop routes them as it routes any function's.
    top = 0
    for edge in root_edges:
        if edge.__class__ is tuple and edge[0].generation >= top:
            top = edge[0].generation + 1
    above = _Roots(root_edges, top)
    buckets: list[Any] = [above]
    # A bucket holds the first function of its generation; later ones wait behind it, each
    # linked to the next in ``after`` (``last``: a crowded bucket's newest function).
    after: dict[Any, Any] = {}
    last: dict[int, Any] = {}
    n_buckets = 1
    # No intermediate gradient to keep or capture: functions without hooks or anomaly
    # records (``_short_backward``) then take the short path.
    short = not retain_grad and not capture
    leaf_grads: dict[Variable, Any] = {}

    for f in buckets:  # grows while it is walked: later buckets are visited too
        while f is not None:
            if f is above:
                gxs: Any = seeds
            else:
                gy = grads.pop(f)
                if short and f._short_backward:
                    if f._outs is None:
                        gxs = f.backward(gy)
                    else:
                        n_out = len(f._outs)
                        gxs = f.backward(gy, *[more.pop((f, i), None) for i in range(1, n_out)])
                    # zerograd's own backward rules return one gradient per input (a bare one for
                    # one input): no count to check.
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
                    gxs = _call_backward(f, gys, y, retain_grad, fast, capture)
                if f.check_shapes:
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
            # Route the gradients to the inputs' producers and leaves.
            for node, gx in pairs:
                if gx is None or node is None:
                    continue
                if node.__class__ is tuple:
                    node, index = node
                    if node._may_stop_gradient and _to_unchained(node, index, gx, leaf_grads):
                        continue
                elif node._may_stop_gradient:  # a leaf, or a function with unchained outputs
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
                            f"{type(f).__name__} (generation {generation}); the generations of "
                            f"the graph are inconsistent (was set_creator misused?)"
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
    given = set(map(id, seeds)) if fast else set()
    for x, g in leaf_grads.items():
        if x._hooks:
            g = _run_hooks(x._hooks, g, fast, capture)
        if capture is None and x.grad is not None:
            x.grad = _as_var(x.grad.data + g) if fast else x.grad + g
            continue
        if fast:
            if id(g) in given or (g.base is not None and not getattr(g.flags, "writeable", True)):
                g = g.copy()
            given.add(id(g))
        if capture is not None:
            leaf_grads[x] = g
        else:
            x.grad = _as_var(g) if fast else g
    return leaf_grads


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
        edges = f.edges()
        if not edges:
            continue
        new_edges: list[Any] = []
        for edge in edges:
            if edge.__class__ is tuple:
                node, index = edge  # type: ignore[misc]
                if node not in seen:
                    seen.add(node)
                    stack.append(node)
                var = node._output(index)
                if var is not None:
                    var.unchain()
                new_edges.append(var)  # the input is a leaf now (None: nobody holds it)
            else:
                new_edges.append(edge)
        f._edges = tuple(new_edges)  # no pair is left: a 1-tuple is a one-input call's too
        f.needs_grad = tuple([e is not None for e in new_edges])
