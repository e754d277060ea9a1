"""``summary(model, *example_inputs)``: each layer's name, class, output shape and parameter
count, and the totals, as torchinfo prints them (``Model.summary`` calls it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zerograd.layers.layer import Layer

__all__ = ["LayerRow", "ModelSummary", "summary"]

_WIDTHS = (44, 26, 14)


@dataclass
class LayerRow:
    """One layer call: ``depth`` 0 is the model itself; ``params`` counts the layer's own
    parameters (not its children's), ``None`` for a layer called a second time."""

    name: str
    cls: str
    depth: int
    output_shape: Any = None
    params: int | None = 0


@dataclass
class ModelSummary:
    """What ``summary`` found; ``str()`` (and ``repr()``) is the table. Every Parameter is
    trainable (freezing is the optimizer's business: ``FreezeParam``), so
    ``trainable_params == total_params``; buffers are counted apart."""

    rows: list[LayerRow] = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    buffer_elements: int = 0
    param_bytes: int = 0

    def __str__(self) -> str:
        rule = "=" * sum(_WIDTHS)
        lines = [rule, _line("Layer (type)", "Output Shape", "Param #"), rule]
        for row in self.rows:
            if row.depth == 0:
                label = row.cls
            else:
                branch = "├─" if row.depth == 1 else "│    " * (row.depth - 1) + "└─"
                label = f"{branch}{row.name} ({row.cls})"
            params = (
                "(recursive)" if row.params is None else f"{row.params:,}" if row.params else "--"
            )
            lines.append(_line(label, _shape_text(row.output_shape), params))
        lines += [
            rule,
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Buffers (saved, not trained, e.g. running statistics): {self.buffer_elements:,}",
            f"Params size (MB): {self.param_bytes / 1e6:.2f}",
            rule,
        ]
        return "\n".join(lines)

    __repr__ = __str__


def _line(*cells: str) -> str:
    return "".join(c.ljust(w) for c, w in zip(cells, _WIDTHS)).rstrip()


def _shape_text(shape: Any) -> str:
    if shape is None:
        return "--"
    if isinstance(shape, list) and shape and isinstance(shape[0], list):
        return ", ".join(_shape_text(s) for s in shape)
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _shape_of(output: Any) -> Any:
    if isinstance(output, (tuple, list)):
        return [_shape_of(o) for o in output]
    shape = getattr(output, "shape", None)
    return None if shape is None else list(shape)


def _layers(model: Layer) -> list[tuple[str, Layer]]:
    """``(dotted name, layer)`` for the model and every layer below it, each once
    (iterative: nesting depth is not bounded by Python's stack)."""
    found = [("", model)]
    seen = {id(model)}
    stack = [("", model)]
    while stack:
        prefix, layer = stack.pop()
        for name, child in layer.named_children():
            if id(child) not in seen:
                seen.add(id(child))
                found.append((prefix + name, child))
                stack.append((prefix + name + ".", child))
    return found


def summary(model: Layer, *example_inputs: Any) -> ModelSummary:
    """Run ``model(*example_inputs)`` once (in test mode, recording no graph) and report each
    layer call in order with its output shape and own parameter count, then the totals.

    Lazily sized layers get their weights from this call, as from any first call. The model
    is not otherwise changed (no BatchNorm statistics are updated, dropout draws nothing);
    while it runs, the layers' ``forward`` is wrapped, so do not call the same model from
    another thread meanwhile.

    >>> import numpy as np, zerograd.functions as F
    >>> from zerograd.models import MLP
    >>> s = MLP((16, 3), activation=F.relu).summary(np.zeros((4, 8), np.float32))
    >>> [(r.name, r.cls, r.output_shape, r.params) for r in s.rows]
    [('', 'MLP', [4, 3], 0), ('l0', 'Linear', [4, 16], 144), ('l1', 'Linear', [4, 3], 51)]
    >>> s.total_params
    195
    """
    import zerograd

    if not isinstance(model, Layer):
        raise TypeError(f"summary: expected a Layer or Model, got {type(model).__name__}")
    result = ModelSummary()
    depth = 0
    called: set[int] = set()
    wrapped: list[tuple[Layer, Any]] = []

    def wrap(name: str, layer: Layer) -> None:
        forward = layer.forward

        def recording(*args: Any, **kwargs: Any) -> Any:
            nonlocal depth
            row = LayerRow(name.rpartition(".")[2], type(layer).__name__, depth)
            result.rows.append(row)
            depth += 1
            try:
                out = forward(*args, **kwargs)
            finally:
                depth -= 1
            # Counted after the call: a lazily sized layer has its weights only now.
            own = sum(
                int(p.size) for n, p in layer.named_params() if "." not in n and p.data is not None
            )
            row.params = None if id(layer) in called else own
            called.add(id(layer))
            row.output_shape = _shape_of(out)
            return out

        wrapped.append((layer, layer.__dict__.get("forward")))
        layer.__dict__["forward"] = recording  # an instance attribute shadows the method

    try:
        for name, layer in _layers(model):
            wrap(name, layer)
        with zerograd.no_grad(), zerograd.test_mode():
            model(*example_inputs)
    finally:
        for layer, previous in wrapped:
            if previous is None:
                layer.__dict__.pop("forward", None)
            else:
                layer.__dict__["forward"] = previous
    params = [p for p in model.params() if p.data is not None]
    result.total_params = result.trainable_params = sum(int(p.size) for p in params)
    result.param_bytes = sum(int(p.data.nbytes) for p in params)
    result.buffer_elements = sum(int(b.size) for b in model.buffers() if b.data is not None)
    return result
