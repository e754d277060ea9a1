"""Check the sdist and the wheel in DIST against the source tree: every file of the package is
shipped (so that a file missing from the package fails CI, not a user), nothing else is, and
the metadata carries the one version, the license and the command.

usage: python .ci/check_dist.py DIST   (run from the repository root)
"""

from __future__ import annotations

import ast
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "zerograd"


def version() -> str:
    """``__version__`` from ``zerograd/__init__.py``, read without importing it."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise SystemExit("check_dist: no __version__ in src/zerograd/__init__.py")


def package_files() -> set[str]:
    """Every file of the package as it should be installed: ``zerograd/...`` paths."""
    files = {
        str(PurePosixPath("zerograd", *p.relative_to(PACKAGE).parts))
        for p in PACKAGE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    packages = {str(PurePosixPath(f).parent) for f in files if f.endswith(".py")}
    missing_init = sorted(p for p in packages if f"{p}/__init__.py" not in files)
    if missing_init:
        raise SystemExit(f"check_dist: folders without __init__.py: {missing_init}")
    return files


def check_wheel(wheel: Path, expected: set[str], ver: str) -> list[str]:
    problems = []
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = f"zerograd-{ver}.dist-info"
        shipped = {n for n in names if not n.startswith(info + "/")}
        if missing := sorted(expected - shipped):
            problems.append(f"{wheel.name} lacks {missing}")
        if extra := sorted(shipped - expected):
            problems.append(f"{wheel.name} ships files that are not in src/zerograd: {extra}")
        if f"{info}/licenses/LICENSE" not in names:
            problems.append(f"{wheel.name} lacks {info}/licenses/LICENSE")
        meta = Parser().parsestr(archive.read(f"{info}/METADATA").decode("utf-8"))
        entry_points = archive.read(f"{info}/entry_points.txt").decode("utf-8")
    if meta["Version"] != ver:
        problems.append(f"{wheel.name}: Version {meta['Version']}, __version__ {ver}")
    if meta["License-Expression"] != "MIT":
        problems.append(f"{wheel.name}: License-Expression {meta['License-Expression']!r}")
    if "zerograd = zerograd.cli:main" not in entry_points:
        problems.append(f"{wheel.name}: no `zerograd` console script")
    return problems


def check_sdist(sdist: Path, expected: set[str], ver: str) -> list[str]:
    top = f"zerograd-{ver}"
    with tarfile.open(sdist) as archive:
        names = {n for n in archive.getnames() if not n.endswith("/")}
    needed = {f"{top}/src/{f}" for f in expected} | {
        f"{top}/{f}" for f in ("LICENSE", "README.md", "pyproject.toml", "PKG-INFO")
    }
    missing = sorted(needed - names)
    return [f"{sdist.name} lacks {missing}"] if missing else []


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        raise SystemExit(__doc__)
    dist = Path(argv[0])
    ver = version()
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if [w.name for w in wheels] != [f"zerograd-{ver}-py3-none-any.whl"] or [
        s.name for s in sdists
    ] != [f"zerograd-{ver}.tar.gz"]:
        raise SystemExit(f"check_dist: expected one wheel and one sdist of {ver} in {dist}")
    expected = package_files()
    problems = check_wheel(wheels[0], expected, ver) + check_sdist(sdists[0], expected, ver)
    for problem in problems:
        print(f"check_dist: {problem}", file=sys.stderr)
    if not problems:
        subpackages = sorted({str(PurePosixPath(f).parent) for f in expected})
        print(
            f"check_dist: {wheels[0].name} and {sdists[0].name} hold all {len(expected)} files "
            f"of the package ({len(subpackages)} packages, py.typed included)"
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
