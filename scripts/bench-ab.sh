#!/usr/bin/env bash
# Two builds of Quill against each other, interleaved (A, B, A, B, …) so that the shared machine's drift falls on
# both alike: training tokens/s, step latency and scoring tokens/s from `quill-bench`, median of ROUNDS each, and the
# ratio B / A (above 1: B is faster). For a refactoring's "no slower"; the PyTorch ratios are bench-train.sh's and
# bench-decode.sh's.
#
#   scripts/bench-ab.sh OLD/quill-bench NEW/quill-bench            # 3 rounds, 2 threads
#   ROUNDS=5 THREADS=1 CONFIGS="ptb-small" scripts/bench-ab.sh A B
set -euo pipefail
a=$1 b=$2
rounds=${ROUNDS:-3} threads=${THREADS:-2} configs=${CONFIGS:-ptb-small ptb-medium char-512}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for round in $(seq "$rounds"); do
    for side in A B; do
        bin=$a; [ "$side" = B ] && bin=$b
        echo "round $round/$rounds: $side" >&2
        for config in $configs; do
            "$bin" train --config "$config" --threads "$threads" | sed "s/^/$side train /" >>"$out"
            if [ "$config" != char-512 ]; then
                "$bin" step --config "$config" --threads "$threads" | sed "s/^/$side step /" >>"$out"
                "$bin" score --config "$config" --threads "$threads" | sed "s/^/$side score /" >>"$out"
            fi
        done
    done
done
python3 - "$out" <<'PY'
import json, statistics, sys
values = {}
for line in open(sys.argv[1]):
    side, kind, rest = line.split(" ", 2)
    if not rest.startswith("{"):
        continue
    r = json.loads(rest)
    key = (kind, r.get("config"))
    for field, better in (("tokens_per_s", 1), ("step_latency_us", -1)):
        if field in r:
            values.setdefault((key, field, better), {}).setdefault(side, []).append(r[field])
print("| measure | config | A: median (range) | B: median (range) | B vs A |")
print("|---|---|---:|---:|---:|")
for ((kind, config), field, better), sides in sorted(values.items()):
    a, b = statistics.median(sides.get("A", [0])), statistics.median(sides.get("B", [0]))
    speed = (b / a if better > 0 else a / b) if a and b else float("nan")
    spread = lambda xs: f"{min(xs):,.0f}–{max(xs):,.0f}"
    print(f"| {kind} {field} | {config} | {a:,.1f} ({spread(sides['A'])}) | {b:,.1f} ({spread(sides['B'])}) "
          f"| {speed:.3f}× |")
PY
