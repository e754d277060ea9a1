#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and CuPy: run the test suite on the CuPy backend, then the
# GPU benchmarks (zerograd on CuPy vs torch on CUDA, same run). Sized for under 5 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c "import cupy, numpy; print('cupy', cupy.__version__, 'numpy', numpy.__version__)"
status=0
python3 -m pytest -q -m gpu -p no:cacheprovider "$@" || status=$?
python3 benchmarks/run.py --only gpu --out "${OUT:-/tmp}/gpu_bench.json" || status=$?
exit $status
