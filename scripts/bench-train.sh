#!/usr/bin/env bash
# Training throughput of Quill's LSTM language model against PyTorch's on this machine, same shapes and threads.
#
#   scripts/bench-train.sh                 # ptb-small, ptb-medium, char-512 at 1 and 2 threads, one round
#   scripts/bench-train.sh --repeats 3     # median of 3 rounds (a shared VM: single runs wander by ±20 %)
#   scripts/bench-train.sh --precisions "float32 bfloat16" --configs ptb-small,ptb-medium   # mixed precision too
#   PYTHON=/path/to/python scripts/bench-train.sh
#   QUILL_BENCH=/path/to/quill-bench scripts/bench-train.sh   # another build (e.g. before a change), not rebuilt
#
# Builds quill-bench in release, then per round and thread count runs `quill-bench train` and the peer
# ../shared/bench/pytorch_lstm.py (--measures train) back to back, so each ratio compares runs minutes apart. Both
# time truncated-BPTT windows (forward, mean cross-entropy, backward, clip 5, SGD) on random ids with the state
# carried, median window. Prints tokens/s, Quill/PyTorch and Quill's 2-thread/1-thread speed-up. With bfloat16 among
# the precisions, PyTorch also runs under bfloat16 autocast (scripts/peers/pytorch_lstm_autocast.py, its best CPU
# mode), and Quill's bfloat16 rows are compared with both PyTorch float32 and PyTorch autocast.
# Without torch (and no way to pip-install it into /tmp/venv) the peer columns are left empty, with a message.
set -euo pipefail
cd "$(dirname "$0")/.."

repeats=1
configs="ptb-small,ptb-medium,char-512"
threads="1 2"
precisions="float32"
while [ $# -gt 0 ]; do
    case "$1" in
        --repeats) repeats="$2"; shift 2 ;;
        --configs) configs="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --precisions) precisions="$2"; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

peer_script=../shared/bench/pytorch_lstm.py
. scripts/peer-python.sh   # sets python and have_torch

bench=${QUILL_BENCH:-.build/release/quill-bench}
[ -n "${QUILL_BENCH:-}" ] || swift build -c release --product quill-bench >&2

results=$(mktemp)
trap 'rm -f "$results"' EXIT
trap 'exit 130' INT TERM
config_args=()
for c in ${configs//,/ }; do config_args+=(--config "$c"); done
for p in $precisions; do config_args+=(--precision "$p"); done
for round in $(seq "$repeats"); do
    for t in $threads; do
        echo "round $round/$repeats, $t thread(s): Quill..." >&2
        "$bench" train "${config_args[@]}" --threads "$t" | sed 's/^/quill /' >>"$results"
        if [ "$have_torch" = 1 ]; then
            echo "round $round/$repeats, $t thread(s): PyTorch..." >&2
            "$python" "$peer_script" --measures train --threads "$t" --configs "$configs" | sed 's/^/torch /' >>"$results"
            if [[ " $precisions " == *" bfloat16 "* ]]; then
                echo "round $round/$repeats, $t thread(s): PyTorch bfloat16 autocast..." >&2
                "$python" scripts/peers/pytorch_lstm_autocast.py --threads "$t" --configs "$configs" |
                    sed 's/^/autocast /' >>"$results"
            fi
        fi
    done
done

python3 - "$results" "$configs" "$threads" "$precisions" <<'EOF'
import json, statistics, sys
path, configs, threads = sys.argv[1], sys.argv[2].split(","), [int(t) for t in sys.argv[3].split()]
precisions = sys.argv[4].split()
runs = {}
for line in open(path):
    who, _, text = line.partition(" ")
    try:
        row = json.loads(text)
    except json.JSONDecodeError:
        continue
    value = row.get("tokens_per_s", row.get("value"))
    if value is None or row.get("measure", "train_tokens_per_s") != "train_tokens_per_s":
        continue
    precision = row.get("precision", "float32") if who == "quill" else "float32"
    runs.setdefault((who, precision, row["config"], int(row["threads"])), []).append(float(value))
median = {key: statistics.median(values) for key, values in runs.items()}
count = max((len(v) for v in runs.values()), default=0)
print(f"\nTraining tokens/s (median of {count} run(s) each)\n")
print("| config | threads | precision | Quill | PyTorch float32 | Quill / PyTorch float32 | PyTorch bf16 autocast "
      "| Quill / autocast | Quill speed-up 1→2 threads |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|")
fmt = lambda x: f"{x:,.0f}" if x else "—"
for c in configs:
    for precision in precisions:
        for t in threads:
            q, p = median.get(("quill", precision, c, t)), median.get(("torch", "float32", c, t))
            a = median.get(("autocast", "float32", c, t)) if precision == "bfloat16" else None
            ratio = f"**{q / p:.2f}×**" if q and p else "—"
            autocast = f"**{q / a:.2f}×**" if q and a else "—"
            one, two = median.get(("quill", precision, c, 1)), median.get(("quill", precision, c, 2))
            speedup = f"{two / one:.2f}×" if t == 2 and one and two else ""
            print(f"| {c} | {t} | {precision} | {fmt(q)} | {fmt(p)} | {ratio} | {fmt(a)} | {autocast} | {speedup} |")
EOF
