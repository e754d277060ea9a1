"""Shape functions: split/concat/stack specifics, expand_dims, flatten, embed_id checks."""

from __future__ import annotations

import numpy as np
import pytest

import zerograd.functions as F
from zerograd import Variable


def test_split_returns_a_list_and_unused_pieces_get_zero_gradient() -> None:
    x = Variable(np.arange(12.0).reshape(3, 4))
    pieces = F.split(x, 2, axis=1)
    assert [p.shape for p in pieces] == [(3, 2), (3, 2)]
    (pieces[1] * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.tile([0.0, 0, 3, 3], (3, 1)))
    assert len(F.split(x, 1)) == 1


def test_split_and_concat_errors() -> None:
    with pytest.raises(ValueError, match=r"split: cannot split shape \(3, 4\)"):
        F.split(np.zeros((3, 4)), 3, axis=1)
    with pytest.raises(ValueError, match="concat: got shapes"):
        F.concat([np.zeros((2, 3)), np.zeros((3, 3))], axis=1)
    with pytest.raises(ValueError, match="stack: got shapes"):
        F.stack([np.zeros((2, 3)), np.zeros((3, 3))])
    with pytest.raises(ValueError, match="no arrays"):
        F.concat([])


def test_stack_negative_axis_and_expand_dims() -> None:
    a, b = np.ones((2, 3)), np.zeros((2, 3))
    assert F.stack([a, b], axis=-1).shape == (2, 3, 2)
    assert F.expand_dims(a, -1).shape == (2, 3, 1)
    assert F.expand_dims(a, 0).shape == (1, 2, 3)
    with pytest.raises(ValueError, match="expand_dims"):
        F.expand_dims(a, 3)
    assert F.flatten(np.zeros((2, 3, 4))).shape == (2, 12)


def test_embed_id_scatter_adds_repeated_ids_and_checks_them() -> None:
    W = Variable(np.ones((3, 2)))
    F.embed_id(np.array([[0, 2], [2, 2]]), W).sum().backward()
    np.testing.assert_array_equal(W.grad.data, [[1, 1], [0, 0], [3, 3]])
    with pytest.raises(ValueError, match=r"embed_id: ids must lie in \[0, 3\)"):
        F.embed_id(np.array([3]), W)
    with pytest.raises(ValueError, match="must be integers"):
        F.embed_id(np.array([0.0]), W)


def test_where_condition_gets_no_gradient() -> None:
    cond = Variable(np.array([True, False]))
    a, b = Variable(np.ones(2)), Variable(np.zeros(2))
    F.where(cond, a, b).backward()
    np.testing.assert_array_equal(a.grad.data, [1, 0])
    np.testing.assert_array_equal(b.grad.data, [0, 1])
    assert cond.grad is None


def test_maximum_ties_split_the_gradient() -> None:
    a, b = Variable(np.array([1.0, 2.0])), Variable(np.array([1.0, 1.0]))
    F.maximum(a, b).backward()
    np.testing.assert_array_equal(a.grad.data, [0.5, 1])
    np.testing.assert_array_equal(b.grad.data, [0.5, 0])


def test_clip_with_one_bound() -> None:
    x = Variable(np.array([-2.0, 0.5, 3.0]))
    y = F.clip(x, None, 1.0)
    y.backward()
    np.testing.assert_array_equal(y.data, [-2, 0.5, 1])
    np.testing.assert_array_equal(x.grad.data, [1, 1, 0])
    with pytest.raises(ValueError, match="both be None"):
        F.clip(x, None, None)
