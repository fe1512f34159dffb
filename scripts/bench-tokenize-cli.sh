#!/usr/bin/env bash
# `quill tokenize` through the command line against the same work in the library, in one run: PTB train ×4 (20 MB)
# at the word level into escaped tokens and into ids, output to /dev/null, median of --repeats; the library figure
# is `quill-bench tokenize` (read + tokenize + look up every id) on the same file. Prints JSON lines and the ratios.
#
#   scripts/bench-tokenize-cli.sh [--repeats 5]
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=5
[ "${1:-}" = --repeats ] && repeats=$2
ptb=../shared/corpora/ptb/ptb.train.txt
[ -f "$ptb" ] || { echo "bench-tokenize-cli: $ptb not found (../shared beside the repository)" >&2; exit 1; }
swift build -c release --product quill >&2
swift build -c release --product quill-bench >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for _ in 1 2 3 4; do cat "$ptb"; done >"$work/ptb4.txt"
quill=.build/release/quill
"$quill" vocab build --corpus "$ptb" --name ptb --store "$work/s.sqlite" >/dev/null 2>&1
library=$(.build/release/quill-bench tokenize --file "$work/ptb4.txt" --level word --repeats "$repeats" | tail -1)
echo "$library"
median() {  # command…: the median wall seconds of $repeats runs, output to /dev/null
    for _ in $(seq "$repeats"); do
        start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N)
        echo "$end - $start" | bc -l
    done | sort -n | sed -n "$(( (repeats + 1) / 2 ))p"
}
tokens=$(median "$quill" tokenize "$work/ptb4.txt")
ids=$(median "$quill" tokenize --ids --vocabulary ptb --store "$work/s.sqlite" "$work/ptb4.txt")
python3 - "$work/ptb4.txt" "$tokens" "$ids" "$library" <<'PY'
import json, os, sys
size = os.path.getsize(sys.argv[1])
library = json.loads(sys.argv[4])["mb_per_s"]
for name, seconds in (("tokens", float(sys.argv[2])), ("ids", float(sys.argv[3]))):
    rate = size / 1e6 / seconds
    print(json.dumps({"bench": "tokenize-cli", "output": name, "bytes": size, "seconds_median": round(seconds, 3),
                      "mb_per_s": round(rate, 1), "library_mb_per_s": round(library, 1),
                      "ratio_to_library": round(rate / library, 3)}))
PY
