#!/usr/bin/env bash
# Build zerograd's documentation site into docs/_build/html, offline, warnings as errors, and
# run every code example in it (tutorials under sphinx-gallery, pages and docstrings under the
# doctest builder): an example that no longer runs fails the build.
#   bash docs/build.sh            # build (incremental; --clean starts from scratch)
#   bash docs/build.sh --open     # build, then open the site in a browser
# Needs: pip install -e '.[docs]' and Graphviz's dot (apt-get install graphviz).
set -euo pipefail
cd "$(dirname "$0")/.."
open_site=0
for arg in "$@"; do
    case $arg in
        --open) open_site=1 ;;
        --clean) rm -rf docs/_build docs/generated docs/dezero60 docs/_generated ;;
        *) echo "usage: bash docs/build.sh [--clean] [--open]" >&2; exit 2 ;;
    esac
done
if ! command -v dot >/dev/null 2>&1; then
    echo "docs: Graphviz's dot is not on PATH; the site draws zerograd's graphs with it:" \
        "apt-get install graphviz (macOS: brew install graphviz)" >&2
    exit 1
fi
if ! python -c "import sphinx, myst_parser, furo, sphinx_gallery, latex2mathml" 2>/dev/null; then
    echo "docs: the documentation tools are missing: pip install -e '.[docs]'" >&2
    exit 1
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"  # this tree's zerograd
export MPLBACKEND=Agg OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
started=$SECONDS
sphinx() { python -m sphinx -W --keep-going -q -d docs/_build/doctrees "$@"; }
sphinx -b html docs docs/_build/html
# Offline: no page may load a script, style sheet or image from the network.
if grep -rlE '<(script|img)[^>]* src="(https?:)?//|<link[^>]* href="(https?:)?//' \
    --include='*.html' docs/_build/html; then
    echo "docs: the pages above load something from the network; the site must work offline" >&2
    exit 1
fi
sphinx -b doctest docs docs/_build/doctest
# The docstrings' examples (shown in the API reference), each in its module's namespace.
python -m pytest -q -p no:cacheprovider -o addopts="" --doctest-modules src/zerograd
echo "docs: built docs/_build/html/index.html in $((SECONDS - started)) s (every example ran)"
if [ "$open_site" = 1 ]; then
    python -m webbrowser -t "file://$PWD/docs/_build/html/index.html"
fi
