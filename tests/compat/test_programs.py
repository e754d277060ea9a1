"""DeZero programs modelled on the book's steps 23-60 print under ``python -m zerograd.compat``
what they print under the real DeZero 0.0.13.

Where DeZero and zerograd do the same arithmetic the output is byte-identical. Where DeZero on
NumPy 2 silently promotes a float32 model to float64 (``randn(...).astype(float32) *
np.sqrt(1 / I)`` is float64 under NEP 50, one of the DeZero bugs zerograd fixes: a float32
model stays float32), the numbers agree to float32 precision and the text is identical.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from tests.compat.dezero_ref import run_compat_script, run_dezero_script

PROGRAMS = Path(__file__).parent / "programs"
EXACT = None  # byte-identical output
FLOAT32 = (1e-5, 1e-7)  # (rtol, atol): a float32 model against DeZero's float64 one

CASES = [
    ("step24_functions.py", (), EXACT),
    ("step28_rosenbrock.py", (), EXACT),
    ("step29_newton.py", (), EXACT),
    # tanh's 6th derivative: the same formulas summed in another order (last 2 digits).
    ("step33_36_higher_order.py", (), (1e-13, 0.0)),
    ("step37_41_tensors.py", (), EXACT),
    ("step42_43_regression.py", (), EXACT),
    ("step44_47_layers.py", (), FLOAT32),
    ("step48_spiral.py", (), FLOAT32),
    ("step49_51_dataloader.py", (), EXACT),
    ("step52_53_save_load.py", (), FLOAT32),
    ("step54_dropout.py", (), EXACT),
    ("step57_58_conv.py", (), FLOAT32),
    ("step59_60_rnn.py", (), FLOAT32),
    pytest.param("step59_60_rnn.py", ("20",), FLOAT32, marks=pytest.mark.slow, id="rnn-long"),
]

_NUMBER = r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?"


def split_numbers(text: str) -> tuple[list[str], list[float]]:
    """The text between numbers (whitespace removed, so line wrapping does not matter) and
    the numbers."""
    parts = re.split(f"({_NUMBER})", text)
    return ["".join(p.split()) for p in parts[::2]], [float(p) for p in parts[1::2]]


def assert_same_output(expected: str, actual: str, tolerance: tuple[float, float] | None) -> None:
    if tolerance is None:
        assert actual == expected
        return
    rtol, atol = tolerance
    words_e, numbers_e = split_numbers(expected)
    words_a, numbers_a = split_numbers(actual)
    assert words_a == words_e, f"text differs:\n{expected}\n---\n{actual}"
    assert len(numbers_a) == len(numbers_e)
    bad = [
        (i, e, a)
        for i, (e, a) in enumerate(zip(numbers_e, numbers_a))
        if not math.isclose(e, a, rel_tol=rtol, abs_tol=atol)
    ]
    assert not bad, f"numbers differ beyond rtol={rtol}, atol={atol}: {bad[:5]}"


@pytest.mark.parametrize("name, args, tolerance", CASES)
def test_program_prints_what_dezero_prints(
    name: str, args: tuple[str, ...], tolerance, tmp_path: Path
) -> None:
    script = PROGRAMS / name  # run in a fresh folder: some programs write files
    (tmp_path / "dezero").mkdir()
    (tmp_path / "zerograd").mkdir()
    expected = run_dezero_script(script, *args, cwd=tmp_path / "dezero")
    actual = run_compat_script(script, *args, cwd=tmp_path / "zerograd")
    assert expected.strip(), "the reference printed nothing"
    assert_same_output(expected, actual, tolerance)


def test_split_numbers_and_tolerances() -> None:
    assert split_numbers("variable([1.5 -2e-3]\n  3)") == (
        ["variable([", "", "]", ")"],
        [1.5, -2e-3, 3.0],
    )
    assert_same_output("loss 1.0000001 ok", "loss 1.0000002  ok", (1e-6, 0.0))
    with pytest.raises(AssertionError):
        assert_same_output("loss 1.0 ok", "loss 1.1 ok", FLOAT32)
    with pytest.raises(AssertionError):
        assert_same_output("loss 1.0 ok", "loss 1.0 no", FLOAT32)
