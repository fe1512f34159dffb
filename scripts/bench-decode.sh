#!/usr/bin/env bash
# Inference speed against PyTorch on the same machine, in the same run (the cores are shared: compare ratios, not
# absolute numbers from different runs): Quill's `quill-bench step` (float32 and int8) and `score` (float32,
# bfloat16, int8), then the peer's `pytorch_lstm.py --measures step,score`, for ptb-small and ptb-medium; prints
# every JSON line and a ratio table.
#
#   scripts/bench-decode.sh                 # 2 threads, as the peer's default
#   THREADS=1 scripts/bench-decode.sh
#   PYTHON=/tmp/venv/bin/python scripts/bench-decode.sh
#   QUILL_BENCH=/path/to/quill-bench scripts/bench-decode.sh   # another build (e.g. before a change), not rebuilt
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
PYTHON=${PYTHON:-/tmp/venv/bin/python}
PEER=${PEER:-../shared/bench/pytorch_lstm.py}
CONFIGS=${CONFIGS:-ptb-small ptb-medium}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

bench=${QUILL_BENCH:-.build/release/quill-bench}
[ -n "${QUILL_BENCH:-}" ] || swift build -c release --product quill-bench >&2
for config in $CONFIGS; do
    for precision in float32 int8; do
        "$bench" step --config "$config" --precision "$precision" --threads "$THREADS" | tee -a "$out"
    done
    for precision in float32 bfloat16 int8; do
        "$bench" score --config "$config" --precision "$precision" --threads "$THREADS" | tee -a "$out"
    done
done
"$PYTHON" "$PEER" --configs "$(echo $CONFIGS | tr ' ' ',')" --measures step,score --threads "$THREADS" | tee -a "$out"

python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
peer = {(r["config"], r["measure"]): r["value"] for r in rows if r.get("peer") == "pytorch"}
print()
print("| config | measure | Quill | PyTorch | ratio |")
print("|---|---|---|---|---|")
for r in rows:
    if r.get("bench") == "step":
        torch = peer.get((r["config"], "step_latency_us"))
        ratio = f"{torch / r['step_latency_us']:.1f}x faster" if torch else "-"
        print(f"| {r['config']} | step {r['precision']} median / p99 µs | {r['step_latency_us']} / {r['p99_us']} "
              f"| {torch} | {ratio} |")
    elif r.get("bench") == "score":
        torch = peer.get((r["config"], "score_tokens_per_s"))
        ratio = f"{r['tokens_per_s'] / torch:.2f}x" if torch else "-"
        print(f"| {r['config']} | score {r.get('precision', 'float32')} tokens/s | {r['tokens_per_s']:.0f} | {torch} "
              f"| {ratio} |")
PY
