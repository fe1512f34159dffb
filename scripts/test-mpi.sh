#!/usr/bin/env bash
# The MPI layer on 1, 2 and 3 ranks of this machine (docs/scale-out.md): each rank all-reduces a million floats in
# rank order and checks the result bit for bit against the sequential sum; the job fails on any mismatch.
set -euo pipefail
cd "$(dirname "$0")/.."
quill=$(scripts/build-mpi.sh release | tail -1)
check=$(dirname "$quill")/quill-mpi-check
# CI runs as root, which mpirun refuses unless told; --oversubscribe lets 3 ranks share 2 cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
for ranks in 1 2 3; do
    line=$(mpirun -np "$ranks" --oversubscribe "$check" 2>&1 | tail -1)
    echo "test-mpi: $line"
    [[ $line == *'"identical_on_every_rank": true'* ]] || { echo "test-mpi: FAILED on $ranks ranks" >&2; exit 1; }
done
echo "test-mpi: passed"
