#!/usr/bin/env bash
# Quill on MPI, on this machine's loopback (docs/scale-out.md); part of the test command.
#  1. The layer: 1, 2 and 3 ranks each all-reduce a million floats in rank order, bit for bit the sequential sum.
#  2. Training: `mpirun -np 2 quill train` at batch 8 against one process at batch 8 (dropout 0): the same model up
#     to the order of the additions (bound below); 3 ranks at batch 12 likewise.
#  3. Ctrl-C: SIGTERM (or SIGINT) to mpirun stops both ranks at one checkpoint; resumed on 2 ranks the run ends bit-identical to
#     one never stopped; resumed on 1 process it ends too (the checkpoint is the whole batch's).
#  4. A rank that dies (SIGKILL to rank 1): the job ends non-zero, the store checks clean with the last checkpoint,
#     and the run resumes on 2 ranks to the model of a run never stopped, bit for bit.
#  5. Sharded prediction: `mpirun -np 2 quill predict` prints what one process prints.
#  5c. Search: `mpirun -np 2 quill search` finds what `--jobs 2` finds.
#  6. Two hosts as network namespaces over TCP (scripts/test-mpi-hosts.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
quill=$(scripts/build-mpi.sh release | tail -1)
check=$(dirname "$quill")/quill-mpi-check
# CI runs as root, which mpirun refuses unless told; --oversubscribe lets 3 ranks share 2 cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun --oversubscribe -np)
fail() { echo "test-mpi: FAILED: $*" >&2; exit 1; }

for ranks in 1 2 3; do
    line=$("${mpi[@]}" "$ranks" "$check" 2>&1 | tail -1)
    echo "test-mpi: $line"
    [[ $line == *'"identical_on_every_rank": true'* ]] || fail "the all-reduce on $ranks ranks"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
corpus=corpora/default/train.txt valid=corpora/default/valid.txt
train=(train --corpus "$corpus" --valid "$valid" --hidden 64 --dropout 0 --bptt 20 --epochs 1)

# 2. Equivalence with one process at the whole batch.
QUILL_THREADS=1 "$quill" "${train[@]}" --batch 12 --max-windows 30 --name one --store "$work/one.sqlite" >/dev/null 2>&1
for ranks in 2 3; do
    "${mpi[@]}" "$ranks" "$quill" "${train[@]}" --batch 12 --max-windows 30 --name dp --store "$work/dp$ranks.sqlite" \
        >"$work/dp$ranks.out" 2>&1 || { cat "$work/dp$ranks.out"; fail "mpirun -np $ranks quill train"; }
    [[ $(grep -c "^model 'dp'" "$work/dp$ranks.out") == 1 ]] || fail "$ranks ranks: rank 0 alone should report"
    difference=$(scripts/mpi-compare.py "$work/one.sqlite" one "$work/dp$ranks.sqlite" dp)
    echo "test-mpi: $ranks ranks at batch 12 vs one process at batch 12, 30 Adam steps: largest difference $difference"
    python3 -c "import sys; sys.exit(0 if $difference < 3e-4 else 1)" || fail "$ranks ranks differ by $difference"
done

# The gated CNN: 2 ranks against one process; its checkpoints gather the context [B][C] (the batch axis first).
gcnn=(train --corpus "$corpus" --cell gcnn --hidden 32 --layers 2 --width 3 --dropout 0 --bptt 20 --batch 8
      --epochs 1 --max-windows 24 --checkpoint-every 5)
"${mpi[@]}" 2 "$quill" "${gcnn[@]}" --name g --store "$work/g.sqlite" >/dev/null 2>&1 || fail "gcnn on 2 ranks"
QUILL_THREADS=1 "$quill" "${gcnn[@]}" --name g --store "$work/g1.sqlite" >/dev/null 2>&1 || fail "gcnn alone"
difference=$(scripts/mpi-compare.py "$work/g1.sqlite" g "$work/g.sqlite" g)
echo "test-mpi: gated CNN on 2 ranks vs one process, 24 Adam steps: largest difference $difference"
python3 -c "import sys; sys.exit(0 if $difference < 3e-4 else 1)" || fail "the gated CNN on 2 ranks differs by $difference"

# 3 and 4 train long enough to be stopped midway: 3 epochs, a checkpoint every 10 windows.
long=(train --corpus "$corpus" --valid "$valid" --hidden 128 --dropout 0.2 --bptt 20 --batch 8 --epochs 3
      --checkpoint-every 10)
"${mpi[@]}" 2 "$quill" "${long[@]}" --name whole --store "$work/whole.sqlite" >/dev/null 2>&1 || fail "the run never stopped"
checkpoints() {
    python3 -c 'import sqlite3, sys; print(sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True).execute("SELECT count(*) FROM checkpoints").fetchone()[0])' "$1" 2>/dev/null || echo 0
}
wait_for_checkpoints() {  # store count: waits until the store has at least count checkpoints
    for _ in $(seq 600); do (( $(checkpoints "$1") >= $2 )) && return 0; sleep 0.1; done
    fail "no checkpoint in $1 after 60 s"
}

# 3. Ctrl-C. (A background job of a script ignores SIGINT, so SIGTERM: the same stop, and mpirun passes it on.)
"${mpi[@]}" 2 "$quill" "${long[@]}" --name stopped --store "$work/stopped.sqlite" >"$work/stopped.out" 2>&1 &
job=$!
wait_for_checkpoints "$work/stopped.sqlite" 2
kill -TERM $job
status=0; wait $job || status=$?
(( status != 0 )) || fail "an interrupted job should exit non-zero"
grep -q "training stopped; run #1 checkpointed" "$work/stopped.out" || { cat "$work/stopped.out"; fail "no stop message"; }
cp "$work/stopped.sqlite" "$work/alone.sqlite"
"${mpi[@]}" 2 "$quill" train --resume 1 --store "$work/stopped.sqlite" >/dev/null 2>&1 || fail "the resume on 2 ranks"
difference=$(scripts/mpi-compare.py "$work/whole.sqlite" whole "$work/stopped.sqlite" stopped)
echo "test-mpi: Ctrl-C, resumed on 2 ranks: largest difference from the run never stopped $difference"
[[ $difference == 0.0 ]] || fail "the resumed run differs from the one never stopped"
QUILL_THREADS=1 "$quill" train --resume 1 --store "$work/alone.sqlite" >/dev/null 2>&1 || fail "the resume on 1 process"
echo "test-mpi: Ctrl-C, resumed on 1 process: finished"

# 4. Rank 1 killed.
"${mpi[@]}" 2 "$quill" "${long[@]}" --name killed --store "$work/killed.sqlite" >"$work/killed.out" 2>&1 &
job=$!
wait_for_checkpoints "$work/killed.sqlite" 3
rank() {  # the pid of rank $1 of the job training 'killed'
    for pid in $(pgrep -f "name killed"); do
        tr '\0' '\n' </proc/$pid/environ 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1" && echo $pid
    done | head -1
}
rank0=$(rank 0) rank1=$(rank 1)
[[ -n $rank0 && -n $rank1 ]] || fail "the ranks' processes not found"
kill -KILL "$rank1"
status=0; wait $job || status=$?
# mpirun ends rank 0, which owns the run until it has gone.
for _ in $(seq 300); do kill -0 "$rank0" 2>/dev/null || break; sleep 0.1; done
kill -0 "$rank0" 2>/dev/null && fail "rank 0 still runs 30 s after rank 1 died"
(( status != 0 )) || fail "a job whose rank died should exit non-zero"
grep -qi "rank 1" "$work/killed.out" || { cat "$work/killed.out"; fail "mpirun should name the rank that died"; }
"$quill" store check --store "$work/killed.sqlite" >/dev/null || fail "the store does not check clean"
"${mpi[@]}" 2 "$quill" train --resume 1 --store "$work/killed.sqlite" >"$work/resumed.out" 2>&1 ||
    { cat "$work/resumed.out"; fail "the resume after a rank died"; }
difference=$(scripts/mpi-compare.py "$work/whole.sqlite" whole "$work/killed.sqlite" killed)
echo "test-mpi: rank 1 killed after $(checkpoints "$work/killed.sqlite") checkpoints, resumed on 2 ranks: largest difference from the run never stopped $difference"
[[ $difference == 0.0 ]] || fail "the run resumed after a rank died differs from the one never stopped"

# 5. Sharded prediction: the same JSON Lines as one process, in input order (odd line counts, an empty line).
head -n 157 "$valid" | sed '5s/.*//' >"$work/lines.txt"
"$quill" predict --model one --store "$work/one.sqlite" --task next --batch-lines 8 --input "$work/lines.txt" >"$work/one.jsonl"
for ranks in 2 3; do
    "${mpi[@]}" "$ranks" "$quill" predict --model one --store "$work/one.sqlite" --task next --batch-lines 8 \
        --input "$work/lines.txt" >"$work/dp.jsonl"
    cmp -s "$work/one.jsonl" "$work/dp.jsonl" || fail "predict on $ranks ranks differs from one process"
    echo "test-mpi: predict on $ranks ranks: $(wc -l <"$work/dp.jsonl") lines, identical to one process"
done
# 5b. Translation: trained on 2 ranks (each its share of every sentence batch) as on one process, up to rounding;
# `quill translate` on 2 and 3 ranks prints what one process prints.
head -n 400 "$corpus" >"$work/source.txt"
tr '[:lower:]' '[:upper:]' <"$work/source.txt" >"$work/target.txt"
translation=(translation train --source "$work/source.txt" --target "$work/target.txt" --preset tiny --embedding 16
             --hidden 16 --dropout 0 --epochs 1 --batch 16 --max-batches 12 --name tr)
QUILL_THREADS=1 "$quill" "${translation[@]}" --store "$work/tr1.sqlite" >/dev/null 2>&1 || fail "translation train"
"${mpi[@]}" 2 "$quill" "${translation[@]}" --store "$work/tr2.sqlite" >"$work/tr2.out" 2>&1 ||
    { cat "$work/tr2.out"; fail "translation train on 2 ranks"; }
difference=$(scripts/mpi-compare.py "$work/tr1.sqlite" tr "$work/tr2.sqlite" tr)
echo "test-mpi: translation on 2 ranks vs one process, 12 batches: largest difference $difference"
python3 -c "import sys; sys.exit(0 if $difference < 3e-4 else 1)" || fail "translation on 2 ranks differs by $difference"
head -n 45 "$work/source.txt" >"$work/sentences.txt"
"$quill" translate --model tr --store "$work/tr1.sqlite" --sentences 4 "$work/sentences.txt" >"$work/one.txt"
for ranks in 2 3; do
    "${mpi[@]}" "$ranks" "$quill" translate --model tr --store "$work/tr1.sqlite" --sentences 4 "$work/sentences.txt" \
        >"$work/dp.txt"
    cmp -s "$work/one.txt" "$work/dp.txt" || fail "translate on $ranks ranks differs from one process"
    echo "test-mpi: translate on $ranks ranks: $(wc -l <"$work/dp.txt") lines, identical to one process"
done

# 5c. Search: trials spread over 2 ranks (one in a child process of rank 0) find what --jobs 2 finds.
echo '{"cells": ["lstm", "gru"], "hidden": [16, 32], "layers": [1], "ngramOrders": [3], "trials": 4,
       "minEpochs": 1, "maxEpochs": 3, "reduction": 2, "bptt": [20]}' >"$work/space.json"
search=(search --corpus "$corpus" --valid "$valid" --space "$work/space.json" --budget 5 --name s --format jsonl)
QUILL_THREADS=2 "$quill" "${search[@]}" --jobs 2 --store "$work/s1.sqlite" >"$work/s1.jsonl" 2>/dev/null ||
    fail "search --jobs 2"
"${mpi[@]}" 2 "$quill" "${search[@]}" --store "$work/s2.sqlite" >"$work/s2.jsonl" 2>"$work/s2.err" ||
    { cat "$work/s2.err"; fail "search on 2 ranks"; }
trials() { python3 -c 'import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    print(t.get("model"), t.get("epochs"), t.get("validPerplexity"), t.get("best", {}).get("model") if "best" in t else "")' "$1"; }
diff <(trials "$work/s1.jsonl") <(trials "$work/s2.jsonl") || fail "the search on 2 ranks found other results"
echo "test-mpi: search on 2 ranks: $(grep -c '"model"' "$work/s2.jsonl") lines, the trials and best of --jobs 2"

# 6. Two hosts made of network namespaces, over TCP (needs root; says so and skips otherwise).
scripts/test-mpi-hosts.sh "$quill"
echo "test-mpi: passed"
