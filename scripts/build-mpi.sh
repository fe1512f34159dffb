#!/usr/bin/env bash
# Builds Quill's MPI layer (docs/scale-out.md): installs Open MPI from Debian when missing (libopenmpi-dev,
# openmpi-bin), then builds with QUILL_MPI=1 into .build-mpi (its own scratch path: the default build stays free of
# MPI). The last line printed is the path of the built `quill`, which runs as one process or, under
# `mpirun -np N`, as N ranks; quill-mpi-check, the layer's own check, is built beside it.
#
#   scripts/build-mpi.sh            # release build
#   scripts/build-mpi.sh debug
set -euo pipefail
cd "$(dirname "$0")/.."
configuration=${1:-release}
case $configuration in release|debug) ;; *) echo "build-mpi: release or debug, not '$configuration'" >&2; exit 2 ;; esac
if ! command -v mpirun >/dev/null || ! pkg-config --exists ompi-c 2>/dev/null; then
    echo "build-mpi: installing Open MPI (libopenmpi-dev, openmpi-bin) and pkg-config" >&2
    sudo=$([ "$(id -u)" = 0 ] || echo sudo)
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libopenmpi-dev openmpi-bin pkg-config >&2
fi
QUILL_MPI=1 swift build -c "$configuration" --scratch-path .build-mpi --product quill-mpi-check >&2
QUILL_MPI=1 swift build -c "$configuration" --scratch-path .build-mpi --product quill >&2
echo "$PWD/.build-mpi/$configuration/quill"
