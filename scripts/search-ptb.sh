#!/usr/bin/env bash
# Issue 15's search (opt-in, not part of the test command): `quill search` on PTB for a budget (default 60 minutes)
# with two trials at a time, the space in examples/ptb-search-space.json; then the best trial, chosen on valid, is
# measured once on test (recorded in its run with `quill eval --record-test`) and with the search's 5-gram mixed in
# (its weight tuned on valid). Prints the search's table, then one JSON object with the result. Target: test
# perplexity ≤ 105 within 60 minutes on 2 cores.
#
#   scripts/search-ptb.sh                         # 60 minutes, --jobs 2, a new store in /tmp
#   scripts/search-ptb.sh --budget 30 --store /tmp/s.sqlite --resume
#
# QUILL names a quill binary (default: a release build); --corpora DIR holds ptb/ (default ../shared/corpora).
set -euo pipefail
cd "$(dirname "$0")/.."

corpora=../shared/corpora budget=60 jobs=2 store="" space=examples/ptb-search-space.json resume=()
while [ $# -gt 0 ]; do
    case "$1" in
        --corpora) corpora="$2"; shift 2 ;;
        --budget) budget="$2"; shift 2 ;;
        --jobs) jobs="$2"; shift 2 ;;
        --space) space="$2"; shift 2 ;;
        --store) store="$2"; shift 2 ;;
        --resume) resume=(--resume); shift ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
ptb=$corpora/ptb
[ -f "$ptb/ptb.train.txt" ] || { echo "no $ptb: nothing to search" >&2; exit 0; }
if [ -z "${QUILL:-}" ]; then
    swift build -c release --product quill >&2
    QUILL=.build/release/quill
fi
[ -n "$store" ] || store=$(mktemp -d)/search-ptb.sqlite
mkdir -p "$(dirname "$store")"
export QUILL_STORE=$store
echo "store: $store" >&2

# Word-level PTB: the tokens are exactly the space-separated words (and the line break).
"$QUILL" vocab show ptb-words >/dev/null 2>&1 \
    || "$QUILL" vocab build --corpus "$ptb/ptb.train.txt" --level whitespace --name ptb-words >&2
start=$(date +%s)
"$QUILL" search --corpus "$ptb/ptb.train.txt" --valid "$ptb/ptb.valid.txt" --vocabulary ptb-words --space "$space" \
    --budget "$budget" --jobs "$jobs" --name ptb-best "${resume[@]}" --format jsonl > "$store.search.jsonl"
minutes=$(( ($(date +%s) - start) / 60 ))
python3 - "$store.search.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("| trial | family | epochs | valid ppl | seconds | settings |\n| --- | --- | ---: | ---: | ---: | --- |")
for t in sorted(rows[:-1], key=lambda t: t.get("validPerplexity") or 1e9):
    print(f"| {t['model']} | {t['family']} | {t['epochs']} | {t.get('validPerplexity') or float('nan'):.2f} | "
          f"{t['seconds']:.0f} | {t['settings']} |")
PY
best=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readlines()[-1])['best']['model'])" \
    "$store.search.jsonl")
family=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readlines()[-1])['best']['family'])" \
    "$store.search.jsonl")
if [ "$family" = ngram ]; then
    test_ppl=$("$QUILL" ngram eval --model "$best" --text "$ptb/ptb.test.txt" --format json \
        | python3 -c "import json,sys; print(json.load(sys.stdin)['perplexity'])")
    mixed=null
else
    test_ppl=$("$QUILL" eval --model "$best" --text "$ptb/ptb.test.txt" --record-test --format json \
        | python3 -c "import json,sys; print(json.load(sys.stdin)['perplexity'])")
    mixed=$("$QUILL" eval --model "$best" --mix ptb-best.kn5 --tune-on "$ptb/ptb.valid.txt" \
        --text "$ptb/ptb.test.txt" --format json | python3 -c "import json,sys; print(json.load(sys.stdin)['perplexity'])")
fi
printf '{"best":"%s","family":"%s","search_minutes":%d,"budget":%s,"jobs":%s,"test_perplexity":%s,"with_kn5":%s,"target":105}\n' \
    "$best" "$family" "$minutes" "$budget" "$jobs" "$test_ppl" "$mixed"
