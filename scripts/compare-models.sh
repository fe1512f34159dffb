#!/usr/bin/env bash
# The model comparison of issue 15 (opt-in, not part of the test command): on one corpus, under one time budget per
# model, the modified Kneser-Ney 5-gram, an Elman RNN, an LSTM, a GRU, a gated convolutional model, and the best of
# them on valid with the 5-gram mixed in (α tuned on the validation text). Every model uses the same whitespace
# vocabulary of the training split, is trained on train, chosen on valid (the best epoch is the one saved) and
# measured once on test. Prints one JSON object per model, then a Markdown table; the runs stay in the store (`quill runs compare` shows them, with the
# test perplexity recorded by `quill eval --record-test`), and `runs.svg` beside the store draws validation
# perplexity against training time.
#
#   scripts/compare-models.sh                                  # PTB, 10 minutes per neural model
#   scripts/compare-models.sh --corpus wikitext2 --models "kn5 gru mix" --budget 15
#   scripts/compare-models.sh --threads 1 --store /tmp/cmp.sqlite
#
# Options: --corpus ptb|wikitext2 (default ptb), --corpora DIR (default ../shared/corpora), --budget MINUTES per
# neural model (default 10; `quill train --time-budget`: the epoch in progress when it runs out is the last),
# --models "kn5 rnn lstm gru gcnn mix" (the default, in this order; mix needs kn5 and a neural model before it),
# --threads N (QUILL_THREADS; default the cores), --store FILE (default a new file in /tmp). QUILL names a quill
# binary (default: a release build). Each model's options are in `options()` below; all use Adam (lr 0.002), dropout 0.25, BPTT 35,
# batch 20 and a plateau schedule (halve the rate when validation stalls); the recurrent ones tie their embeddings.
#
# Perplexities: the neural models and the mixture are scored by `quill eval` over the test text's token stream (every
# token from the ones before it, line breaks included, batch 1); `KN5 (stream)` is the 5-gram on that same stream (as
# the mixture sees it), `KN5` the 5-gram under SRILM's sentence convention (`quill ngram eval`). On PTB, whose every
# line is a sentence, the two conventions count the same tokens; on WikiText-2, whose empty lines are tokens of the
# stream, they do not.
set -euo pipefail
cd "$(dirname "$0")/.."

corpora=../shared/corpora
corpus=ptb
budget=10
models="kn5 rnn lstm gru gcnn mix"
store=""
while [ $# -gt 0 ]; do
    case "$1" in
        --corpus) corpus="$2"; shift 2 ;;
        --corpora) corpora="$2"; shift 2 ;;
        --budget) budget="$2"; shift 2 ;;
        --models) models="$2"; shift 2 ;;
        --threads) export QUILL_THREADS="$2"; shift 2 ;;
        --store) store="$2"; shift 2 ;;
        -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$corpus" in
    ptb) train=$corpora/ptb/ptb.train.txt valid=$corpora/ptb/ptb.valid.txt test=$corpora/ptb/ptb.test.txt ;;
    wikitext2) train=$corpora/wikitext2/wiki.train.tokens valid=$corpora/wikitext2/wiki.valid.tokens
               test=$corpora/wikitext2/wiki.test.tokens ;;
    *) echo "--corpus must be ptb or wikitext2 (got $corpus)" >&2; exit 2 ;;
esac
[ -f "$train" ] || { echo "no $train: nothing to compare" >&2; exit 0; }
if [ -z "${QUILL:-}" ]; then
    swift build -c release --product quill >&2
    QUILL=.build/release/quill
fi
[ -n "$store" ] || store=$(mktemp -d)/compare-$corpus.sqlite
mkdir -p "$(dirname "$store")"
export QUILL_STORE=$store
echo "store: $store" >&2

# The options of each neural model (the budget, vocabulary and data options are added below).
options() {
    local common=(--optimizer adam --lr 0.002 --dropout 0.25 --bptt 35 --batch 20 --schedule plateau)
    case "$1" in
        rnn) echo --cell rnn --layers 1 --hidden 256 --tie "${common[@]}" ;;
        lstm) echo --cell lstm --layers 2 --hidden 256 --tie "${common[@]}" ;;
        gru) echo --cell gru --layers 2 --hidden 256 --tie "${common[@]}" ;;
        gcnn) echo --cell gcnn --layers 4 --hidden 256 --width 4 "${common[@]}" ;;
    esac
}

"$QUILL" vocab show words >/dev/null 2>&1 || "$QUILL" vocab build --corpus "$train" --level whitespace --name words >&2
results=$(mktemp)
trap 'rm -f "$results"' EXIT
label() { case "$1" in gcnn) echo "Gated CNN" ;; *) echo "$1" | tr a-z A-Z ;; esac; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
json_lines() { python3 -c "import json,sys; rows=[json.loads(l) for l in sys.stdin]; print($1)"; }

for model in $models; do
    case "$model" in
        kn5)
            start=$(date +%s.%N)
            "$QUILL" ngram train --corpus "$train" --vocabulary words --order 5 --name kn5 --replace >&2
            seconds=$(echo "$(date +%s.%N) - $start" | bc)
            valid_ppl=$("$QUILL" ngram eval --model kn5 --text "$valid" --format json | json 'd["perplexity"]')
            test_ppl=$("$QUILL" ngram eval --model kn5 --text "$test" --format json | json 'd["perplexity"]')
            printf '{"model":"KN5","settings":"modified Kneser-Ney, order 5","epochs":null,"seconds":%.1f,"valid":%s,"test":%s}\n' \
                "$seconds" "$valid_ppl" "$test_ppl" | tee -a "$results" ;;
        rnn|lstm|gru|gcnn)
            # shellcheck disable=SC2046
            "$QUILL" train --corpus "$train" --valid "$valid" --vocabulary words --name "$model" --replace \
                --epochs 1000 --time-budget "$budget" $(options "$model") >&2
            test_ppl=$("$QUILL" eval --model "$model" --text "$test" --record-test --format json | json 'd["perplexity"]')
            epochs=$("$QUILL" runs list --format jsonl | json_lines "[r['epochsDone'] for r in rows if r['model'] == '$model'][-1]")
            "$QUILL" runs compare --format jsonl | python3 -c "
import json, sys
rows = [json.loads(l) for l in sys.stdin if json.loads(l)['model'] == '$model']
r = rows[-1]
print(json.dumps({'model': '$(label "$model")', 'name': '$model', 'settings': '$(options "$model")',
                  'parameters': r['parameters'], 'epochs': $epochs, 'bestEpoch': r['bestValidEpoch'],
                  'seconds': round(r['trainingSeconds'], 1), 'tokensPerSecond': round(r['tokensPerSecond'] or 0),
                  'valid': r['bestValidPerplexity'], 'test': $test_ppl}))
" | tee -a "$results" ;;
        mix)
            # The best neural model so far (lowest validation perplexity) with the 5-gram mixed in.
            best=$(python3 -c "
import json, sys
rows = [json.loads(l) for l in open('$results')]
neural = [r for r in rows if r.get('parameters') and r.get('valid')]
print(min(neural, key=lambda r: r['valid'])['name'] if neural else '')
")
            [ -n "$best" ] || { echo "mix needs a neural model before it in --models" >&2; exit 2; }
            "$QUILL" eval --model "$best" --mix kn5 --tune-on "$valid" --text "$test" --format json | python3 -c "
import json, sys
d = json.load(sys.stdin)
print(json.dumps({'model': 'KN5 (stream)', 'settings': 'the 5-gram on the token stream the mixture scores', 'test': d['ngramPerplexity']}))
print(json.dumps({'model': '$(label "$best") + KN5', 'settings': 'linear, KN5 weight %.3f tuned on valid' % d['weight'],
                  'valid': d['tunedPerplexity'], 'test': d['perplexity']}))
" | tee -a "$results" ;;
        *) echo "unknown model $model (kn5 rnn lstm gru gcnn mix)" >&2; exit 2 ;;
    esac
done

"$QUILL" runs compare --plot "$(dirname "$store")/runs.svg" --force >&2 || true
python3 - "$results" "$corpus" "$budget" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def f(x, fmt="%.2f"):
    return "—" if x is None else fmt % x
print(f"\n{sys.argv[2]}, {sys.argv[3]} minutes per neural model, threads: see QUILL_THREADS\n")
print("| model | parameters | epochs (best) | training | tokens/s | valid ppl | test ppl | settings |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for r in rows:
    epochs = "—" if r.get('epochs') is None else f"{r['epochs']} ({r.get('bestEpoch')})"
    print(f"| {r['model']} | {f(r.get('parameters'), '%d')} | {epochs} | "
          f"{f(r.get('seconds'), '%.0f s')} | {f(r.get('tokensPerSecond'), '%d')} | {f(r.get('valid'))} | "
          f"**{f(r.get('test'))}** | {r['settings']} |")
EOF
