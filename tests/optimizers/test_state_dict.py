"""``load_state_dict`` on every optimizer: every field of a valid state dict broken in every
way that matters raises ``CheckpointError`` naming it, and changes nothing."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import zerograd as zg
import zerograd.optimizers as O
from zerograd.serialization import CheckpointError

OPTIMIZERS: dict[str, Callable[[], O.Optimizer]] = {
    "SGD": lambda: O.SGD(lr=0.1),
    "MomentumSGD": lambda: O.MomentumSGD(lr=0.1),
    "AdaGrad": lambda: O.AdaGrad(lr=0.1),
    "AdaDelta": lambda: O.AdaDelta(),
    "Adam": lambda: O.Adam(alpha=0.01),
    "AdamW": lambda: O.AdamW(alpha=0.01),
}


class Pair(zg.Layer):
    def __init__(self) -> None:
        super().__init__()
        self.a = zg.Parameter(np.arange(6, dtype=np.float32).reshape(2, 3))
        self.b = zg.Parameter(np.ones(3, dtype=np.float32))


def _trained(name: str) -> tuple[Pair, O.Optimizer]:
    model = Pair()
    opt = OPTIMIZERS[name]().setup(model)
    opt.add_hook(lambda params: None)
    for step in range(2):
        for p in model.params():
            p.grad = zg.Variable(np.full_like(p.data, 0.5 + step))
        opt.update()
    return model, opt


def _snapshot(opt: O.Optimizer) -> tuple[Any, ...]:
    scalars = {k: repr(getattr(opt, k)) for k in (*opt._hyper, *opt._counters)}
    state = {id(p): {s: a.copy() for s, a in slots.items()} for p, slots in opt.state.items()}
    return opt.target, list(opt.hooks), scalars, state


def _assert_same(a: tuple[Any, ...], b: tuple[Any, ...]) -> None:
    assert a[0] is b[0] and a[1] == b[1] and a[2] == b[2] and a[3].keys() == b[3].keys()
    for p, slots in a[3].items():
        assert slots.keys() == b[3][p].keys()
        for s in slots:
            np.testing.assert_array_equal(slots[s], b[3][p][s])


_NOT_A_NUMBER = ["0.1", None, True, math.nan, math.inf, -math.inf, [0.1], {}]
_NOT_A_COUNT = [-1, 1.5, True, "3", None, 2**63, []]


def _edits(name: str) -> list[tuple[str, Callable[[dict[str, Any]], None], str]]:
    """(id, edit of a valid state dict, what the error must name)."""
    _, opt = _trained(name)
    sd = opt.state_dict()
    edits: list[tuple[str, Callable[[dict[str, Any]], None], str]] = []
    for field in ("class", "hyper", "counters", "state"):
        edits.append((f"no {field}", lambda d, f=field: d.pop(f), "fields"))
    edits.append(("unknown field", lambda d: d.update(hooks=[]), "fields"))
    edits.append(("class", lambda d: d.update({"class": "Other"}), "Other"))
    edits.append(("class None", lambda d: d.update({"class": None}), "None"))
    for part, names in (("hyper", opt._hyper), ("counters", opt._counters)):
        edits.append((f"{part} not a mapping", lambda d, p=part: d.update({p: [1]}), part))
        for unknown, value in (("hooks", []), ("target", None), ("state", {}), ("zz", 1)):
            edits.append(
                (
                    f"{part}.{unknown}",
                    lambda d, p=part, u=unknown, v=value: d[p].update({u: v}),
                    unknown,
                )
            )
        for key in names:
            edits.append((f"no {part}.{key}", lambda d, p=part, k=key: d[p].pop(k), key))
            for wrong in _NOT_A_NUMBER if part == "hyper" else _NOT_A_COUNT:
                edits.append(
                    (
                        f"{part}.{key}={wrong!r}",
                        lambda d, p=part, k=key, w=wrong: d[p].update({k: w}),
                        key,
                    )
                )
    edits.append(("state not a mapping", lambda d: d.update(state=[1]), "state"))
    edits.append(
        ("state of an unknown param", lambda d: d["state"].update(nope={"v": np.ones(3)}), "nope")
    )
    if not sd["state"]:  # SGD keeps no state: any is refused
        edits.append(
            (
                "state for SGD",
                lambda d: d["state"].update(a={"v": np.ones((2, 3), np.float32)}),
                "'a'",
            )
        )
        return edits
    for key, slots in sd["state"].items():
        edits.append(
            (f"{key}: slots not a mapping", lambda d, k=key: d["state"].update({k: [1]}), key)
        )
        edits.append((f"{key}: no slots", lambda d, k=key: d["state"].update({k: {}}), key))
        edits.append(
            (
                f"{key}: unknown slot",
                lambda d, k=key: d["state"][k].update(zz=d["state"][k][next(iter(d["state"][k]))]),
                "zz",
            )
        )
        for slot, value in slots.items():
            s = (key, slot)
            edits += [
                (f"{key}.{slot} missing", lambda d, s=s: d["state"][s[0]].pop(s[1]), key),
                (
                    f"{key}.{slot} shape",
                    lambda d, s=s, v=value: d["state"][s[0]].update({s[1]: v[None]}),
                    key,
                ),
                (
                    f"{key}.{slot} dtype",
                    lambda d, s=s, v=value: d["state"][s[0]].update({s[1]: v.astype(np.float64)}),
                    key,
                ),
                (
                    f"{key}.{slot} list",
                    lambda d, s=s, v=value: d["state"][s[0]].update({s[1]: v.tolist()}),
                    key,
                ),
            ]
    return edits


CASES = [
    pytest.param(name, edit, pattern, id=f"{name}-{label}")
    for name in OPTIMIZERS
    for label, edit, pattern in _edits(name)
]


@pytest.mark.parametrize(("name", "edit", "pattern"), CASES)
def test_bad_state_dict_is_refused_and_changes_nothing(
    name: str, edit: Callable[[dict[str, Any]], None], pattern: str
) -> None:
    _, opt = _trained(name)
    sd = copy.deepcopy(opt.state_dict())
    edit(sd)
    _, fresh = _trained(name)
    before = _snapshot(fresh)
    with pytest.raises(CheckpointError, match=pattern):
        fresh.load_state_dict(sd)
    _assert_same(_snapshot(fresh), before)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_valid_state_dict_loads(name: str) -> None:
    model, opt = _trained(name)
    other = Pair()
    fresh = OPTIMIZERS[name]().setup(other)
    fresh.load_state_dict(copy.deepcopy(opt.state_dict()))
    assert _snapshot(fresh)[2] == _snapshot(opt)[2]
    for (_, p), (_, q) in zip(model.named_params(), other.named_params()):
        assert opt.state.get(p, {}).keys() == fresh.state.get(q, {}).keys()
        for slot in opt.state.get(p, {}):
            np.testing.assert_array_equal(fresh.state[q][slot], opt.state[p][slot])


def test_state_for_an_uninitialized_parameter_is_refused() -> None:
    _, opt = _trained("Adam")
    model, fresh = _trained("Adam")
    model.a.data = None  # as a lazily sized layer before its first call
    before = _snapshot(fresh)
    with pytest.raises(CheckpointError, match="'a', whose parameter is not initialized"):
        fresh.load_state_dict(opt.state_dict())
    _assert_same(_snapshot(fresh), before)


class Checked(O.SGD):
    """An optimizer whose constructor validates: loaded values get the same check."""

    def __init__(self, lr: float = 0.01) -> None:
        if lr <= 0:
            raise ValueError(f"Checked: lr must be positive, got {lr}")
        super().__init__(lr)


def test_loaded_hyperparameters_pass_the_constructors_checks() -> None:
    opt = Checked().setup(Pair())
    sd = opt.state_dict()
    sd["hyper"]["lr"] = -0.5
    with pytest.raises(CheckpointError, match="lr must be positive, got -0.5"):
        opt.load_state_dict(sd)
    assert opt.lr == 0.01
