"""``python -m zerograd.compat SCRIPT.py [args]``: run a DeZero program on zerograd."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Parse ``SCRIPT.py [args]`` and run it with ``dezero`` mapped to zerograd."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(
            "usage: python -m zerograd.compat SCRIPT.py [args...]\n\n"
            "Run a program written for DeZero with `dezero` and its submodules mapped to "
            "zerograd's.",
            file=sys.stderr if not args else sys.stdout,
        )
        return 2 if not args else 0
    from zerograd.compat import run_script

    run_script(args[0], args[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
