"""Configuration is context-local: ``no_grad()`` in one thread leaves the others recording."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

import zerograd as zg
import zerograd.functions as F
from zerograd import Config, Variable, no_grad, test_mode, using_config


def _records() -> bool:
    y = F.sin(Variable(np.array(1.0)))
    return y.creator is not None


def test_no_grad_switches_recording_off_and_back_on() -> None:
    assert Config.enable_backprop is True
    with no_grad():
        assert Config.enable_backprop is False
        assert not _records()
    assert Config.enable_backprop is True
    assert _records()


def test_no_grad_result_is_a_leaf() -> None:
    x = Variable(np.array(1.0))
    with no_grad():
        y = x * 2.0 + 1.0
    assert y.creator is None
    z = y * x
    z.backward()
    assert float(x.grad.data) == 3.0  # y did not route any gradient back to x
    assert float(y.grad.data) == 1.0  # as in DeZero, y is a leaf of the new graph


def test_no_grad_in_one_thread_does_not_disable_recording_in_another() -> None:
    inside = threading.Event()
    checked = threading.Event()
    seen: dict[str, bool] = {}

    def quiet() -> None:
        with no_grad():
            inside.set()
            checked.wait(10)
            seen["quiet"] = _records()

    def busy() -> None:
        inside.wait(10)
        seen["busy_flag"] = Config.enable_backprop
        seen["busy"] = _records()
        checked.set()

    threads = [threading.Thread(target=quiet), threading.Thread(target=busy)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert seen == {"quiet": False, "busy_flag": True, "busy": True}


def test_a_new_thread_starts_with_the_defaults() -> None:
    seen = {}
    with no_grad(), test_mode():

        def worker() -> None:
            seen["enable_backprop"] = Config.enable_backprop
            seen["train"] = Config.train
            seen["records"] = _records()

        t = threading.Thread(target=worker)
        t.start()
        t.join(10)
        assert Config.enable_backprop is False and Config.train is False
    assert seen == {"enable_backprop": True, "train": True, "records": True}


def test_no_grad_in_one_asyncio_task_does_not_leak_into_another() -> None:
    async def quiet(started: asyncio.Event, done: asyncio.Event) -> bool:
        with no_grad():
            started.set()
            await done.wait()
            return _records()

    async def busy(started: asyncio.Event, done: asyncio.Event) -> bool:
        await started.wait()
        result = _records()
        done.set()
        return result

    async def main() -> list[bool]:
        started, done = asyncio.Event(), asyncio.Event()
        return list(await asyncio.gather(quiet(started, done), busy(started, done)))

    assert asyncio.run(main()) == [False, True]


def test_using_config_restores_after_an_exception() -> None:
    with pytest.raises(RuntimeError), using_config("enable_backprop", False):
        raise RuntimeError("boom")
    assert Config.enable_backprop is True


def test_test_mode_and_config_assignment() -> None:
    with test_mode():
        assert Config.train is False
    assert Config.train is True
    # DeZero code assigns Config attributes directly; it acts on the current context only.
    seen = {}

    def worker() -> None:
        Config.enable_backprop = False
        seen["worker"] = _records()

    t = threading.Thread(target=worker)
    t.start()
    t.join(10)
    assert seen == {"worker": False}
    assert Config.enable_backprop is True and _records()


def test_unknown_setting_is_an_error_naming_it() -> None:
    with pytest.raises(AttributeError, match="enable_backprob"):
        with using_config("enable_backprob", False):
            pass
    with pytest.raises(AttributeError, match="nope"):
        Config.nope


def test_backward_restores_the_setting_even_when_a_backward_fails() -> None:
    class Broken(zg.Function):
        def forward(self, x):
            return x

        def backward(self, gy):
            raise ArithmeticError("broken backward")

    x = Variable(np.array(1.0))
    y = Broken()(x)
    with pytest.raises(ArithmeticError):
        y.backward(create_graph=False)
    assert Config.enable_backprop is True
    with no_grad():
        x2 = Variable(np.array(1.0))
    y2 = F.sin(x2)
    with no_grad():
        y2.backward(create_graph=True)
        assert Config.enable_backprop is False
    assert x2.grad.creator is not None  # create_graph records even under no_grad
