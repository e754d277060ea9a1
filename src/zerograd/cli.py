"""The ``zerograd`` command (also ``python -m zerograd``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def demo(dot: bool = False, plot: str | None = None) -> int:
    """The seed's graph: ``a = x**2; y = a**2 + a**2`` at ``x = 2.0``, and backward's order.

    ``dot`` prints the graph's DOT text; ``plot`` draws it into that file (needs Graphviz for
    image formats).
    """
    import numpy as np

    from zerograd import Variable
    from zerograd.viz import backward_order, get_dot_graph, plot_dot_graph

    x = Variable(np.array(2.0), name="x")
    a = x**2
    a.name = "a"
    left, right = a**2, a**2  # kept (and named) only so that the listing can name them
    left.name, right.name = "a**2 (left)", "a**2 (right)"
    y = left + right
    y.name = "y"
    order = backward_order(y)
    text = get_dot_graph(y, show_order=True) if dot else None
    if plot is not None:
        plot_dot_graph(y, to_file=plot, show_order=True)
    y.backward()
    print("graph: a = x**2; y = a**2 + a**2 at x = 2.0")
    print(f"y = {float(y.data)}")
    print(f"x.grad = {float(x.grad.data)}")  # type: ignore[union-attr]
    print("backward visited (largest generation first, each function once):")
    for step in order:
        made = ", ".join(_names(step.function))
        print(f"  {step.position}. {step.name:<6} generation {step.generation}  -> {made}")
    if text is not None:
        print(text)
    if plot is not None:
        print(f"graph drawn to {plot}")
    elif not dot:
        print("see it: zerograd demo --dot (DOT text) or --plot graph.png (needs Graphviz)")
    return 0


def _names(f: object) -> list[str]:
    """Names of the outputs of function ``f`` ("?" for unnamed or freed ones)."""
    outputs = [ref() for ref in f.outputs]  # type: ignore[attr-defined]
    return ["?" if out is None or out.name is None else out.name for out in outputs]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="zerograd", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo_parser = sub.add_parser(
        "demo", help="run the seed's example and show backward's visit order"
    )
    demo_parser.add_argument("--dot", action="store_true", help="also print the DOT text")
    demo_parser.add_argument(
        "--plot", metavar="FILE", help="draw the graph into FILE (.png/.svg/.pdf/.dot)"
    )
    train_parser = sub.add_parser(
        "train",
        help="train a classifier (default: an MLP on the 8x8 digits); last line test_accuracy=",
        description="Train a model; the last line printed is test_accuracy=<float>.",
    )
    from zerograd import train as _train  # light: heavy modules load inside train()

    _train.add_arguments(train_parser)
    summary_parser = sub.add_parser(
        "summary",
        help="print the layers of a model zerograd train builds: output shapes, parameters",
        description="Each layer's name, class, output shape and parameter count, and totals.",
    )
    _train.add_summary_arguments(summary_parser)
    from zerograd.distributed import launch as _launch

    _launch.add_arguments(train_parser)  # --nproc N
    export_parser = sub.add_parser(
        "export",
        help="write the model of a zerograd train checkpoint as ONNX",
        description="Export the model a `zerograd train --save` checkpoint holds to ONNX.",
    )
    export_parser.add_argument("--checkpoint", required=True, metavar="PATH")
    export_parser.add_argument("output", metavar="OUT.onnx", help="the ONNX file to write")
    export_parser.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    export_parser.add_argument(
        "--static-batch", action="store_true", help="fix the batch size to 1 (default: symbolic)"
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(dot=args.dot, plot=args.plot)
    if args.command == "train":
        try:
            code = _launch.relaunch(args.nproc, sys.argv[1:] if argv is None else argv)
            if code is not None:  # ran under mpiexec; the processes printed the results
                return code
            return _train.run(args)
        except _train.TrainError as error:
            print(f"zerograd train: error: {error}", file=sys.stderr)
            return 1
    if args.command == "summary":
        try:
            print(_train.model_summary(args.dataset, args.model, args.batch_size))
        except _train.TrainError as error:
            print(f"zerograd summary: error: {error}", file=sys.stderr)
            return 1
        return 0
    if args.command == "export":
        from zerograd.onnx import command  # needs the onnx package: loaded only here

        return command.run(args)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
