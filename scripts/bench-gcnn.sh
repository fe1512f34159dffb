#!/usr/bin/env bash
# The gated convolutional LM's speed, the case the literature makes for it: training and scoring tokens/s of Quill's
# gcnn beside Quill's LSTM of the same size, and beside the same gcnn in PyTorch (nn.Conv1d + F.glu,
# scripts/peers/pytorch_gcnn.py) and PyTorch's LSTM (../shared/bench/pytorch_lstm.py), same shapes and threads.
#
#   scripts/bench-gcnn.sh                    # ptb-small and ptb-medium shapes, 2 threads, one round
#   scripts/bench-gcnn.sh --repeats 3        # median of 3 rounds
#   scripts/bench-gcnn.sh --threads 1 --configs ptb-small
#
# Shapes: V 10,000; C = E = 200 (ptb-small) or 650 (ptb-medium), 2 blocks of width 4 (8·C² weights each, as an LSTM
# layer of C), windows of 20 × 20 (small) and 35 × 20 (medium) for training, 35 × 64 for scoring. Quill's LSTM
# scores through its float32 Scorer; PyTorch's under inference_mode. Quill and the peers run back to back per round.
set -euo pipefail
cd "$(dirname "$0")/.."

repeats=1 configs="ptb-small,ptb-medium" threads=2
while [ $# -gt 0 ]; do
    case "$1" in
        --repeats) repeats="$2"; shift 2 ;;
        --configs) configs="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

peer_script=scripts/peers/pytorch_gcnn.py
. scripts/peer-python.sh   # sets python and have_torch

bench=${QUILL_BENCH:-.build/release/quill-bench}
[ -n "${QUILL_BENCH:-}" ] || swift build -c release --product quill-bench >&2

results=$(mktemp)
trap 'rm -f "$results"' EXIT
trap 'exit 130' INT TERM
config_args=()
for c in ${configs//,/ }; do config_args+=(--config "$c"); done
for round in $(seq "$repeats"); do
    echo "round $round/$repeats: Quill..." >&2
    "$bench" gcnn "${config_args[@]}" --threads "$threads" | sed 's/^/quill /' >>"$results"
    if [ "$have_torch" = 1 ]; then
        echo "round $round/$repeats: PyTorch gcnn..." >&2
        "$python" "$peer_script" --threads "$threads" --configs "$configs" | sed 's/^/torch-gcnn /' >>"$results"
        if [ -f ../shared/bench/pytorch_lstm.py ]; then
            echo "round $round/$repeats: PyTorch LSTM..." >&2
            "$python" ../shared/bench/pytorch_lstm.py --threads "$threads" --configs "$configs" \
                --measures train,score | sed 's/^/torch-lstm /' >>"$results"
        fi
    fi
done

python3 - "$results" "$configs" <<'PY'
import json, statistics, sys
path, configs = sys.argv[1], sys.argv[2].split(",")
values = {}
for line in open(path):
    who, _, text = line.partition(" ")
    try:
        row = json.loads(text)
    except json.JSONDecodeError:
        continue
    if who == "quill":
        key = (row["model"], row["config"], row["measure"])
    else:
        key = (who, row["config"], row["measure"])
    values.setdefault(key, []).append(row["value"])
med = {k: statistics.median(v) for k, v in values.items()}
def cell(key):
    return f"{med[key]:,.0f}" if key in med else "—"
def ratio(a, b):
    return f"{med[a] / med[b]:.2f}×" if a in med and b in med else "—"
print("| config | measure | Quill gcnn | Quill LSTM | PyTorch gcnn | PyTorch LSTM | gcnn / LSTM (Quill) | Quill / PyTorch (gcnn) |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for c in configs:
    for m in ("train_tokens_per_s", "score_tokens_per_s"):
        g, l, tg, tl = ("gcnn", c, m), ("lstm", c, m), ("torch-gcnn", c, m), ("torch-lstm", c, m)
        print(f"| {c} | {m.replace('_tokens_per_s', '')} tokens/s | {cell(g)} | {cell(l)} | {cell(tg)} | {cell(tl)} | "
              f"{ratio(g, l)} | {ratio(g, tg)} |")
PY
