#!/usr/bin/env bash
# The CUDA backend on a machine with an NVIDIA GPU and no network: tests on
# the hardware, launch cost, the table against PyTorch's cuDNN LSTM and
# run-to-run bit identity, in about 7 minutes. Nothing is installed: the
# repository goes on PYTHONPATH and Numba caches into OUT.
#
# Usage: benchmarks/gpu_check.sh OUT [STEP ...]
#   OUT    folder for the logs (OUT/STEP.log), results (OUT/STEP.json) and
#          OUT/summary.txt; created if missing
#   STEP   any of env tests launch table repro (default: all, in order);
#          the summary of whatever OUT holds is printed last either way
# Env:    PYTHON (default python3), SMOKE=1 for toy sizes (checks the
#          script, e.g. under NUMBA_ENABLE_CUDASIM=1; numbers mean nothing)
set -uo pipefail

if [[ $# -lt 1 ]]; then
    sed -n '2,14p' "$0" >&2
    exit 2
fi
OUT="$(mkdir -p "$1" && cd "$1" && pwd)"
shift
STEPS=("$@")
[[ ${#STEPS[@]} -eq 0 ]] && STEPS=(env tests launch table repro)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
export PYTHONPATH="${ROOT}${PYTHONPATH:+:${PYTHONPATH}}"
export NUMBA_CACHE_DIR="${OUT}/numba-cache"
SMOKE_FLAG=()
[[ "${SMOKE:-0}" == 1 ]] && SMOKE_FLAG=(--smoke)

STATUS=0
for step in "${STEPS[@]}"; do
    echo "gpu_check: ${step} ($(date -u '+%H:%M:%S'))"
    "${PYTHON}" "${ROOT}/benchmarks/gpu_check.py" "${step}" --out "${OUT}" \
        "${SMOKE_FLAG[@]}" > "${OUT}/${step}.log" 2>&1
    rc=$?
    tail -n 3 "${OUT}/${step}.log"
    if [[ ${rc} -ne 0 ]]; then
        echo "gpu_check: ${step} FAILED (exit ${rc}); log: ${OUT}/${step}.log"
        STATUS=1
    fi
done
"${PYTHON}" "${ROOT}/benchmarks/gpu_check.py" summary --out "${OUT}" \
    "${SMOKE_FLAG[@]}"
exit "${STATUS}"
