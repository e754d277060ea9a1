"""The ``zerograd`` command (also ``python -m zerograd``): ``demo`` and ``train``."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn


def demo(dot: bool = False, plot: str | None = None) -> int:
    """The seed's graph: ``a = x**2; y = a**2 + a**2`` at ``x = 2.0``, and backward's order.

    ``dot`` prints the graph's DOT text; ``plot`` draws it into that file (needs Graphviz for
    image formats).
    """
    import shutil

    import numpy as np

    from zerograd import Variable
    from zerograd.viz import backward_order, get_dot_graph, plot_dot_graph
    from zerograd.viz.dot import GraphvizNotFoundError

    text_only = plot is None or plot.lower().endswith((".dot", ".gv"))
    if not text_only and shutil.which("dot") is None:  # say so before computing anything
        raise GraphvizNotFoundError(
            f"--plot {plot} needs Graphviz's `dot` program, which is not on PATH (install "
            "Graphviz: apt-get install graphviz, brew install graphviz, conda install "
            "graphviz); --plot graph.dot and --dot need no Graphviz"
        )

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


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as one line, ``zerograd <cmd>: error: ...``, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see: {self.prog} --help)\n")


def _demo_plot_file(text: str) -> str:
    """``demo --plot``'s argparse type: a file whose extension names a format we draw, in a
    folder that exists."""
    from zerograd.viz.dot import FORMATS

    suffixes = [f".{f}" for f in (*FORMATS, "dot", "gv")]
    if os.path.splitext(text)[1].lower() not in suffixes:
        raise argparse.ArgumentTypeError(
            f"cannot tell the format of {text!r}; end it in one of {' '.join(suffixes)}"
        )
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"cannot write {text}: no directory {folder}")
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"cannot write {text}: it is a directory")
    return text


def build_parser() -> argparse.ArgumentParser:
    """The ``zerograd`` command line: its ``demo`` and ``train`` subcommands."""
    from zerograd import __version__
    from zerograd import train as _train  # light: heavy modules load inside train()

    parser = _Parser(
        prog="zerograd",
        description="zerograd: define-by-run deep learning with DeZero's API, in NumPy.",
        epilog="zerograd COMMAND --help shows a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"zerograd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo_help = (
        "the seed's graph: a = x**2, y = a**2 + a**2 at x = 2.0; prints y, x.grad and the "
        "order in which backward() visits the functions (each once, largest generation first)"
    )
    demo_parser = sub.add_parser(
        "demo", help=demo_help, description=demo_help[0].upper() + demo_help[1:] + "."
    )
    demo_parser.add_argument("--dot", action="store_true", help="also print the DOT text")
    demo_parser.add_argument(
        "--plot",
        metavar="FILE",
        type=_demo_plot_file,
        help="draw the graph into FILE (.png/.svg/.pdf need Graphviz's dot; .dot does not)",
    )
    train_parser = sub.add_parser(
        "train",
        help="train a classifier (default: an MLP on the 8x8 digits); last line test_accuracy=",
        description="Train a model; the last line printed is test_accuracy=<float>.",
    )
    _train.add_arguments(train_parser)
    from zerograd.distributed import launch as _launch

    _launch.add_arguments(train_parser)  # --nproc N
    summary_help = "print the layers of a model zerograd train builds: output shapes, parameters"
    summary_parser = sub.add_parser(
        "summary",
        help=summary_help,
        description="Each layer's name, class, output shape and parameter count, and totals.",
    )
    _train.add_summary_arguments(summary_parser)
    export_parser = sub.add_parser(
        "export",
        help="write the model of a zerograd train checkpoint as ONNX (needs zerograd[onnx])",
        description="Export the model a `zerograd train --save` checkpoint holds to ONNX.",
    )
    export_parser.add_argument("--checkpoint", required=True, metavar="PATH")
    export_parser.add_argument("output", metavar="OUT.onnx", help="the ONNX file to write")
    export_parser.add_argument(
        "--opset",
        type=int,
        choices=range(13, 22),  # zerograd.onnx.export's MIN_OPSET..MAX_OPSET
        metavar="N",
        default=17,
        help="ONNX opset, 13 to 21 (default 17)",
    )
    export_parser.add_argument(
        "--static-batch", action="store_true", help="fix the batch size to 1 (default: symbolic)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``zerograd`` with ``argv`` (default: the command line); returns the exit status.

    A bad option value, a missing file or program, or a checkpoint that does not fit ends with
    one line ``zerograd <cmd>: error: ...`` on stderr and status 2, never a traceback.
    """
    from zerograd import train as _train
    from zerograd.distributed import launch as _launch
    from zerograd.viz.dot import GraphvizError

    parser = build_parser()
    args = parser.parse_args(argv)
    prog = f"zerograd {args.command}"
    try:
        if args.command == "demo":
            return demo(dot=args.dot, plot=args.plot)
        if args.command == "summary":
            print(_train.model_summary(args.dataset, args.model, args.batch_size))
            return 0
        if args.command == "export":
            from zerograd.onnx import command  # needs the onnx package: loaded only here

            return command.run(args)
        code = _launch.relaunch(args.nproc, sys.argv[1:] if argv is None else argv)
        if code is not None:  # ran under mpiexec; the processes printed the results
            return code
        return _train.run(args)
    except BrokenPipeError:  # the reader went away (``zerograd train | head``): stop quietly
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (_train.TrainError, GraphvizError, OSError) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
