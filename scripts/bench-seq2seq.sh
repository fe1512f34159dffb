#!/usr/bin/env bash
# Translation throughput of Quill's encoder-decoder against PyTorch's (../shared/bench/pytorch_seq2seq.py), same
# shapes, workload and threads: training target tokens/s, greedy and beam-5 sentences/s; and Quill's latency of one
# 13-id sentence with beam 5 (the REPL's case).
#
#   scripts/bench-seq2seq.sh                          # tiny and multi30k, 2 threads, one round
#   scripts/bench-seq2seq.sh --configs multi30k --threads "1 2" --repeats 3
#   QUILL_BENCH=/path/to/quill-bench scripts/bench-seq2seq.sh   # another build, not rebuilt
#
# Per round, configuration and thread count it runs `quill-bench seq2seq` for each measure and the peer right after,
# so each ratio compares runs minutes apart; a busy machine shows in load1. Without torch (and no way to install it
# into /tmp/venv) only Quill's figures are printed.
set -euo pipefail
cd "$(dirname "$0")/.."

repeats=1
configs="tiny,multi30k"
threads="2"
while [ $# -gt 0 ]; do
    case "$1" in
        --repeats) repeats="$2"; shift 2 ;;
        --configs) configs="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

peer_script=../shared/bench/pytorch_seq2seq.py
. scripts/peer-python.sh   # sets python and have_torch

bench=${QUILL_BENCH:-.build/release/quill-bench}
[ -n "${QUILL_BENCH:-}" ] || swift build -c release --product quill-bench >&2

results=$(mktemp)
trap 'rm -f "$results"' EXIT
trap 'exit 130' INT TERM
for round in $(seq "$repeats"); do
    for c in ${configs//,/ }; do
        for t in $threads; do
            echo "round $round/$repeats, $c, $t thread(s)..." >&2
            for m in train greedy beam latency; do
                "$bench" seq2seq --config "$c" --measure "$m" --threads "$t" | sed 's/^/quill /' >>"$results"
            done
            if [ "$have_torch" = 1 ]; then
                "$python" "$peer_script" --configs "$c" --threads "$t" | sed 's/^/torch /' >>"$results"
            fi
        done
    done
done

python3 - "$results" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    who, _, text = line.partition(" ")
    d = json.loads(text)
    rows.setdefault((d["config"], d["threads"], d["measure"]), {}).setdefault(who, []).append(d)
print(f"{'config':<9} {'thr':>3} {'measure':<26} {'quill':>10} {'pytorch':>10} {'ratio':>6} {'load1':>6}")
for (config, threads, measure), by in sorted(rows.items()):
    q = statistics.median(d["value"] for d in by.get("quill", [])) if "quill" in by else None
    p = statistics.median(d["value"] for d in by.get("torch", [])) if "torch" in by else None
    load = max(d.get("load1", 0) for ds in by.values() for d in ds)
    ratio = f"{q / p:.2f}" if q and p else ""
    print(f"{config:<9} {threads:>3} {measure:<26} {q if q is not None else '':>10} {p if p is not None else '':>10} "
          f"{ratio:>6} {load:>6}")
PY
