"""The ``zerograd`` command (also ``python -m zerograd``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def demo() -> int:
    """The seed's graph: ``a = x**2; y = a**2 + a**2`` at ``x = 2.0``, and backward's order."""
    import numpy as np

    from zerograd import Variable
    from zerograd.viz import backward_order

    x = Variable(np.array(2.0), name="x")
    a = x**2
    y = a**2 + a**2
    order = backward_order(y)
    y.backward()
    print("graph: a = x**2; y = a**2 + a**2 at x = 2.0")
    print(f"y = {float(y.data)}")
    print(f"x.grad = {float(x.grad.data)}")  # type: ignore[union-attr]
    print("backward visited (largest generation first, each function once):")
    for step in order:
        print(f"  {step.position}. {step.name:<6} generation {step.generation}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="zerograd", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run the seed's example and show backward's visit order")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo()
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
