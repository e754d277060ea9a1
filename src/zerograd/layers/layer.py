"""``Layer``: parameters, buffers and child layers, registered in assignment order.

DeZero keeps a layer's member names in a ``set``, so ``params()`` comes out in a different
order from run to run. zerograd keeps them in assignment order (like PyTorch's modules), adds
*buffers* (arrays saved with the weights but not trained, such as BatchNorm's running
statistics) and gives every member a stable dotted name (``"l0.W"``; ``"l0/W"`` in weight
files, DeZero's key format).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from zerograd.autograd.variable import Parameter, Variable

__all__ = ["Layer"]


class Layer:
    """Base class of layers and models.

    Assigning a ``Parameter`` or a ``Layer`` to an attribute registers it; ``params()`` yields
    the parameters in assignment order, descending into each child layer at the position
    where it was assigned. Subclasses define ``forward``.

    >>> import numpy as np, zerograd as zg
    >>> layer = zg.Layer()
    >>> layer.W = zg.Parameter(np.ones((2, 3), dtype=np.float32))
    >>> layer.child = zg.Layer()
    >>> layer.child.b = zg.Parameter(np.zeros(3, dtype=np.float32))
    >>> [name for name, _ in layer.named_params()]
    ['W', 'child.b']
    """

    def __init__(self) -> None:
        d = self.__dict__
        # Names only; the objects live in __dict__ as ordinary attributes (DeZero's layout).
        d.setdefault("_params", {})  # Parameters and child Layers, in assignment order
        d.setdefault("_buffers", {})  # non-trained state that is saved (running statistics)

    # -- registration --------------------------------------------------------------------------
    #: Bumped by every change of any layer's members; ``params()`` caches its result per
    #: layer and recomputes it only when this has moved (training calls it every step).
    _structure = 0

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        if isinstance(value, (Parameter, Layer)):
            if "_params" not in d:
                Layer.__init__(self)  # tolerate a subclass that forgot super().__init__()
            d["_buffers"].pop(name, None)
            d["_params"][name] = None
            Layer._structure += 1
        elif "_buffers" in d:
            if name in d["_buffers"]:
                if value is not None and not isinstance(value, Variable):
                    raise TypeError(
                        f"{type(self).__name__}: buffer {name!r} must be a Variable or None, got "
                        f"{type(value).__name__}; to change its values assign to "
                        f"`{name}.data` instead"
                    )
                Layer._structure += 1
            elif name in d["_params"]:
                if value is not None:
                    del d["_params"][name]  # a parameter name rebound to a plain value
                Layer._structure += 1
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        d.get("_params", {}).pop(name, None)
        d.get("_buffers", {}).pop(name, None)
        Layer._structure += 1
        object.__delattr__(self, name)

    def register_buffer(self, name: str, value: Variable | None) -> None:
        """Register ``value`` (a ``Variable``, or ``None`` until it is first computed) as a
        buffer: saved and moved between devices with the parameters, never trained."""
        if value is not None and (not isinstance(value, Variable) or isinstance(value, Parameter)):
            raise TypeError(
                f"{type(self).__name__}.register_buffer: {name!r} must be a Variable that is not "
                f"a Parameter, or None; got {type(value).__name__}"
            )
        if "_buffers" not in self.__dict__:
            Layer.__init__(self)
        self.__dict__["_params"].pop(name, None)
        self.__dict__["_buffers"][name] = None
        Layer._structure += 1
        object.__setattr__(self, name, value)

    # -- calling -------------------------------------------------------------------------------
    def __call__(self, *inputs: Any) -> Any:
        outputs = self.forward(*inputs)
        if isinstance(outputs, tuple) and len(outputs) == 1:
            return outputs[0]
        return outputs

    def forward(self, *inputs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    # -- traversal (iterative: nesting depth is not bounded by Python's stack) ---------------
    def _walk(self, params: bool, buffers: bool, sep: str | None) -> Iterator[tuple[str, Variable]]:
        """Yield ``(name, variable)`` for parameters and/or buffers, depth first in assignment
        order; each layer's buffers follow its parameters and children. A layer or variable
        reachable under several names is yielded once, under the first."""
        seen: set[int] = set()
        visited = {id(self)}
        stack = [("", self, iter(_entries(self, buffers)))]
        while stack:
            prefix, _, entries = stack[-1]
            for name, obj, is_buffer in entries:
                if isinstance(obj, Layer):
                    if id(obj) not in visited:
                        visited.add(id(obj))
                        key = prefix + name + (sep or ".")
                        stack.append((key, obj, iter(_entries(obj, buffers))))
                        break
                    continue
                if obj is None or id(obj) in seen or (params is False and not is_buffer):
                    continue
                seen.add(id(obj))
                yield prefix + name, obj
            else:
                stack.pop()

    def params(self) -> Iterator[Parameter]:
        """Yield every parameter (children's included) once, in assignment order.

        The order is stable across runs: a layer's members in the order they were first
        assigned, each child layer's parameters at the child's position. (The list is cached
        until a member of any layer is assigned or deleted; editing ``__dict__`` directly
        bypasses that.)
        """
        cache = self.__dict__.get("_params_cache")
        if cache is None or cache[0] != Layer._structure:
            params = tuple(p for _, p in self._walk(True, False, None))
            cache = self.__dict__["_params_cache"] = (Layer._structure, params)
        return iter(cache[1])  # type: ignore[arg-type]

    def named_params(self) -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted_name, parameter)`` pairs in ``params()`` order (``"l0.W"``)."""
        return self._walk(True, False, ".")  # type: ignore[return-value]

    def buffers(self) -> Iterator[Variable]:
        """Yield every buffer (running statistics and other saved, untrained state)."""
        for _, b in self._walk(False, True, None):
            yield b

    def named_buffers(self) -> Iterator[tuple[str, Variable]]:
        """Yield ``(dotted_name, buffer)`` pairs."""
        return self._walk(False, True, ".")

    def named_state(self, sep: str = "/") -> Iterator[tuple[str, Variable]]:
        """Yield everything a weight file holds: parameters and buffers, keyed like DeZero's
        npz files (``"l0/W"``; pass ``sep="."`` for dotted names)."""
        return self._walk(True, True, sep)

    def named_children(self) -> Iterator[tuple[str, Layer]]:
        """Yield ``(name, child)`` for the direct child layers, in assignment order. (Not
        ``layers``: DeZero's models keep a list under that name.)"""
        d = self.__dict__
        for name in d.get("_params", {}):
            obj = d.get(name)
            if isinstance(obj, Layer):
                yield name, obj

    def cleargrads(self) -> None:
        """Clear the gradient of every parameter."""
        for p in self.params():
            p.grad = None

    # -- devices -------------------------------------------------------------------------------
    def to_cpu(self) -> Layer:
        """Move parameters and buffers to host memory (in place); returns self."""
        for _, v in self._walk(True, True, None):
            v.to_cpu()
        return self

    def to_gpu(self) -> Layer:
        """Move parameters and buffers to the current GPU (in place, needs CuPy); returns self."""
        for _, v in self._walk(True, True, None):
            v.to_gpu()
        return self

    # -- weights -------------------------------------------------------------------------------
    def save_weights(self, path: Any) -> None:
        """Write parameters and buffers to ``path`` atomically.

        DeZero's npz format (keys ``"layer/sub/param"``) unless ``path`` ends in
        ``.safetensors``; like ``numpy.savez``, ``.npz`` is appended to a path without either
        suffix. The model stays on its device.
        """
        from zerograd import serialization

        serialization.save_weights(self, path)

    def load_weights(self, path: Any, strict: bool = True) -> None:
        """Read weights written by ``save_weights`` (or DeZero) into this layer.

        The whole file is checked before anything is assigned: a missing or unexpected key
        (with ``strict=True``), a shape or dtype mismatch, or a damaged or hostile file raises
        ``CheckpointError`` naming the file and the parameter and leaves the layer unchanged.
        Arrays land on the device the layer is on.
        """
        from zerograd import serialization

        serialization.load_weights(self, path, strict=strict)

    # -- repr ------------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The layer's own settings, shown inside its ``repr`` (``"out_size=10"``)."""
        return ""

    def _repr_children(self) -> list[tuple[str, Any]]:
        return list(self.named_children())

    def __repr__(self) -> str:
        lines: list[str] = []
        stack: list[tuple[int, str, Any, bool]] = [(0, "", self, False)]
        visited: set[int] = set()
        while stack:
            depth, label, obj, closing = stack.pop()
            indent = "  " * depth
            if closing:
                lines.append(indent + ")")
                continue
            if not isinstance(obj, Layer):
                name = getattr(obj, "__name__", None) or type(obj).__name__
                lines.append(f"{indent}{label}{name}")
                continue
            head = f"{indent}{label}{type(obj).__name__}("
            if id(obj) in visited:
                lines.append(head + "...)")  # shared or cyclic: shown once
                continue
            visited.add(id(obj))
            extra = obj.extra_repr()
            children = obj._repr_children()
            if not extra and not children:
                extra = _own_params_repr(obj)
            if not children:
                lines.append(head + extra + ")")
                continue
            lines.append(head + extra)
            stack.append((depth, "", obj, True))
            for name, child in reversed(children):
                stack.append((depth + 1, f"({name}): ", child, False))
        return "\n".join(lines)


def _entries(layer: Layer, buffers: bool) -> list[tuple[str, Any, bool]]:
    d = layer.__dict__
    result = [(name, d.get(name), False) for name in d.get("_params", ())]
    if buffers:
        result += [(name, d.get(name), True) for name in d.get("_buffers", ())]
    return result


def _own_params_repr(layer: Layer) -> str:
    """``W=(2, 3) float32, b=(3,) float32`` for a layer that describes itself no other way."""
    parts = []
    for name, obj, _ in _entries(layer, buffers=True):
        if isinstance(obj, Variable):
            if obj.data is None:
                parts.append(f"{name}=uninitialized")
            else:
                parts.append(f"{name}={tuple(obj.data.shape)} {obj.data.dtype}")
    return ", ".join(parts)
