#!/usr/bin/env bash
# Data-parallel training on MPI against PyTorch DDP (gloo) on this machine: tokens/s at 1 and 2 ranks, one thread
# each, for the ptb-small and ptb-medium shapes, the 2-rank over 1-rank scaling, and the all-reduce's share of a
# window (docs/scale-out.md).
#
#   scripts/bench-mpi.sh                      # ptb-small and ptb-medium, one round
#   scripts/bench-mpi.sh --repeats 3 --configs ptb-small
#
# Quill: `quill train --preset C --dropout 0` on PTB train (../shared/corpora/ptb), one epoch cut to --windows
# windows, QUILL_THREADS=1, as one process and as `mpirun -np 2` (batch 20 = 10 streams per rank). Its tokens/s is
# the epoch's (every window, the first ones included), from the store's metrics; the all-reduce share is the seconds
# rank 0 spent in the gradient's float sums (QUILL_MPI_REPORT=1), waiting for the other rank included, over the
# epoch's seconds (the sums are of the parameters but the embedding, then of the embedding rows the ranks touched). The peer, scripts/peers/pytorch_ddp_lstm.py, runs the same shapes (random ids) and reports its
# median window. Each config's four runs go back to back. One JSON line per run, then a table.
set -euo pipefail
cd "$(dirname "$0")/.."

repeats=1 configs="ptb-small,ptb-medium" windows_small=150 windows_medium=40
while [ $# -gt 0 ]; do
    case "$1" in
        --repeats) repeats="$2"; shift 2 ;;
        --configs) configs="$2"; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
ptb=../shared/corpora/ptb/ptb.train.txt
[ -f "$ptb" ] || { echo "bench-mpi: $ptb not found (../shared beside the repository)" >&2; exit 1; }
peer_script=../shared/bench/pytorch_lstm.py
. scripts/peer-python.sh   # sets python and have_torch

quill=$(scripts/build-mpi.sh release | tail -1)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 QUILL_THREADS=1 QUILL_MPI_REPORT=1
work=$(mktemp -d)
results=$work/results.jsonl
trap 'rm -rf "$work"' EXIT

quill_run() {  # config ranks windows
    local config=$1 ranks=$2 windows=$3 store=$work/$1-$2.sqlite
    rm -f "$store"
    local command=("$quill" train --preset "$config" --corpus "$ptb" --dropout 0 --epochs 1 --max-windows "$windows"
                   --name bench --store "$store")
    if [ "$ranks" = 1 ]; then "${command[@]}" >/dev/null 2>"$work/err"; else
        mpirun --oversubscribe -np "$ranks" "${command[@]}" >/dev/null 2>"$work/err"; fi
    "$python" - "$store" "$config" "$ranks" "$windows" "$work/err" <<'EOF'
import json, sqlite3, sys
store, config, ranks, windows, err = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
tps, = db.execute("SELECT tokens_per_second FROM metrics WHERE split = 'train' AND tokens_per_second IS NOT NULL").fetchone()
reports = [json.loads(l) for l in open(err) if l.startswith('{"mpi_report"')]
rank0 = next((r for r in reports if r["rank"] == 0), None)
seconds = windows * {"ptb-small": 400, "ptb-medium": 700}[config] / tps
line = dict(system="quill-mpi", config=config, ranks=ranks, threads_per_rank=1, batch=20, windows=windows,
            tokens_per_s=round(tps, 1), window_ms=round(seconds / windows * 1e3, 2))
if rank0:
    # Per window: the gradient's float sums (the dense parameters, the embedding rows' union and its rows).
    line.update(all_reduce_share=round(rank0["all_reduce_seconds"] / seconds, 4),
                all_reduce_ms_per_window=round(rank0["all_reduce_seconds"] / windows * 1e3, 2),
                floats_per_window=rank0["floats"] // windows)
print(json.dumps(line))
EOF
}

for round in $(seq "$repeats"); do
    for config in ${configs//,/ }; do
        windows=$([ "$config" = ptb-small ] && echo $windows_small || echo $windows_medium)
        for ranks in 1 2; do quill_run "$config" "$ranks" "$windows" | tee -a "$results"; done
        if [ "$have_torch" = 1 ]; then
            "$python" scripts/peers/pytorch_ddp_lstm.py --configs "$config" --ranks 1,2 \
                --windows "$([ "$config" = ptb-small ] && echo 60 || echo 25)" | tee -a "$results"
        fi
    done
done

"$python" - "$results" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def tps(system, config, ranks):
    v = [r["tokens_per_s"] for r in rows if r.get("system", r.get("peer")) == system and r["config"] == config
         and r["ranks"] == ranks]
    return statistics.median(v) if v else None
def share(system, config):
    v = [r["all_reduce_share"] for r in rows if r.get("system", r.get("peer")) == system and r["config"] == config
         and r["ranks"] == 2 and "all_reduce_share" in r]
    return f"{statistics.median(v) * 100:.1f} %" if v else "–"
print("\n| config | Quill 1 rank | Quill 2 ranks | scaling | all-reduce share | DDP 1 rank | DDP 2 ranks | DDP scaling "
      "| DDP all-reduce share | Quill/DDP at 2 ranks |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for config in dict.fromkeys(r["config"] for r in rows):
    q1, q2 = tps("quill-mpi", config, 1), tps("quill-mpi", config, 2)
    p1, p2 = tps("pytorch-ddp-gloo", config, 1), tps("pytorch-ddp-gloo", config, 2)
    f = lambda x: f"{x:,.0f}" if x else "–"
    r = lambda a, b: f"{a / b:.2f}×" if a and b else "–"
    print(f"| {config} | {f(q1)} | {f(q2)} | {r(q2, q1)} | {share('quill-mpi', config)} | {f(p1)} | {f(p2)} "
          f"| {r(p2, p1)} | {share('pytorch-ddp-gloo', config)} | {r(q2, p2)} |")
EOF
