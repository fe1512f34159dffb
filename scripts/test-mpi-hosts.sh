#!/usr/bin/env bash
# Two hosts on one machine: network namespaces joined by a veth pair, each with its own address and network stack,
# and an MPI job across them over Open MPI's TCP transport (shared memory turned off), so the ranks talk through a real
# network stack (docs/scale-out.md). Needs root (ip netns); part of scripts/test-mpi.sh when run as root.
#
#   scripts/test-mpi-hosts.sh QUILL     # QUILL: the MPI build of quill (scripts/build-mpi.sh prints it)
#
# mpirun runs in namespace quill-a (10.77.0.1) and starts the remote rank in quill-b (10.77.0.2) through an rsh
# agent that enters the namespace instead of ssh. Checks: quill-mpi-check across the hosts, and `quill train` on the
# two hosts against the same job on one host (shared memory): the same model, bit for bit (the reduction order is
# fixed, whatever the transport).
set -euo pipefail
cd "$(dirname "$0")/.."
quill=$(realpath "$1")
check=$(dirname "$quill")/quill-mpi-check
fail() { echo "test-mpi-hosts: FAILED: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "test-mpi-hosts: skipped (needs root for ip netns)"; exit 0; }
if ! command -v ip >/dev/null; then
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >&2
fi

work=$(mktemp -d)
cleanup() { ip netns del quill-a 2>/dev/null || true; ip netns del quill-b 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cleanup; work=$(mktemp -d)
if ! ip netns add quill-a 2>"$work/netns.err"; then  # a container without CAP_SYS_ADMIN
    echo "test-mpi-hosts: skipped: cannot make a network namespace here ($(cat "$work/netns.err"))"
    exit 0
fi
ip netns add quill-b
ip link add quill-veth-a type veth peer name quill-veth-b
ip link set quill-veth-a netns quill-a
ip link set quill-veth-b netns quill-b
ip -n quill-a addr add 10.77.0.1/24 dev quill-veth-a
ip -n quill-b addr add 10.77.0.2/24 dev quill-veth-b
for ns in quill-a quill-b; do
    ip -n $ns link set lo up
    ip -n $ns link set quill-veth-${ns#quill-} up
done
ip -n quill-a route get 10.77.0.2 >/dev/null || fail "no route between the namespaces"

# The rsh agent: `agent HOST COMMAND…` runs COMMAND in HOST's namespace (mpirun passes the command as words of a
# shell line, as to ssh).
cat >"$work/agent" <<'EOF'
#!/bin/sh
host=$1; shift
case $host in 10.77.0.1) ns=quill-a ;; 10.77.0.2) ns=quill-b ;; *) echo "agent: unknown host $host" >&2; exit 1 ;; esac
exec ip netns exec "$ns" /bin/sh -c "$*"
EOF
chmod +x "$work/agent"
printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n' >"$work/hosts"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
hosts=(ip netns exec quill-a mpirun -np 2 --hostfile "$work/hosts" --mca plm_rsh_agent "$work/agent"
       --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24
       -x OMPI_ALLOW_RUN_AS_ROOT -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM -x QUILL_THREADS=1 -x QUILL_MPI_REPORT=1)

line=$("${hosts[@]}" "$check" 2>&1 | tail -1)
echo "test-mpi-hosts: $line"
[[ $line == *'"identical_on_every_rank": true'* ]] || fail "the all-reduce across the two hosts"

train=(train --corpus "$PWD/corpora/default/train.txt" --hidden 64 --dropout 0.1 --bptt 20 --batch 8 --epochs 1
       --max-windows 40 --name across)
"${hosts[@]}" "$quill" "${train[@]}" --store "$work/hosts.sqlite" >"$work/hosts.out" 2>&1 ||
    { cat "$work/hosts.out"; fail "quill train across the hosts"; }
grep -q '"rank": 1' "$work/hosts.out" || fail "no report from rank 1"
ranks=$(grep -o '"all_reduces": [0-9]*' "$work/hosts.out" | head -1)
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 QUILL_THREADS=1 mpirun --oversubscribe -np 2 "$quill" \
    "${train[@]}" --store "$work/one-host.sqlite" >/dev/null 2>&1 || fail "quill train on one host"
difference=$(scripts/mpi-compare.py "$work/hosts.sqlite" across "$work/one-host.sqlite" across)
echo "test-mpi-hosts: quill train on 2 hosts over TCP ($ranks gradient sums) vs 2 ranks on one host: largest difference $difference"
[[ $difference == 0.0 ]] || fail "the job across hosts differs from the job on one host"
echo "test-mpi-hosts: passed"
