#!/usr/bin/env bash
# Autocomplete quality against Presage (opt-in, not part of the tests): keystroke savings with K suggestions for
# Quill's models and for Presage's interpolated trigram built from PTB train (../shared/bench/presage_ksr.sh, which
# installs presage with apt), on the same texts in the same run. Each Quill model is measured three ways: as quill
# complete suggests by default, with an n-gram model mixed in (--mix), and plain (--repeat-suggestions
# --no-document-cache: the model's top K for each prefix).
#
#   scripts/ksr-vs-presage.sh [K=3]
#       Quill's ptb-small (the preset) and ptb-small-reg (the same size with dropout and tied embeddings), with a
#       Kneser-Ney 4-gram of PTB train; trains them first when the store ($QUILL_STORE, else ksr.sqlite) has none
#       (about 25 + 20 minutes on 2 cores; QUILL_KSR_EPOCHS=N trains the preset for fewer epochs).
#   scripts/ksr-vs-presage.sh --model NAME --mix NGRAM [--mix-weight W] [--suggestions K] [--texts "…"]
#       a stored word-level model of PTB (e.g. the one scripts/search-ptb.sh promotes) with a stored n-gram model of
#       its vocabulary (e.g. the search's 5-gram).
#
# --texts picks from: ptb-3k (the first 3,000 characters of PTB test), ptb-test (the whole file), wiki-test (text
# from outside PTB's domain: the first 60,000 characters of WikiText-2 test made to look like PTB's text, lowercased,
# WikiText's @-@ joins undone, characters other than letters, digits, apostrophes and spaces dropped, headings and
# empty lines left out). Default: all three. Presage's simulator takes about 20 minutes on the whole PTB test file.
set -euo pipefail
cd "$(dirname "$0")/.."
k=3 models=() mix="" weight="" texts="ptb-3k ptb-test wiki-test"
[ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]] && { k=$1; shift; }
while [ $# -gt 0 ]; do
    case "$1" in
        --suggestions) k="$2"; shift 2 ;;
        --model) models+=("$2"); shift 2 ;;
        --mix) mix="$2"; shift 2 ;;
        --mix-weight) weight="$2"; shift 2 ;;
        --texts) texts="$2"; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
ptb=../shared/corpora/ptb
wiki=../shared/corpora/wikitext2
[ -f $ptb/ptb.train.txt ] || { echo "ksr-vs-presage: $ptb not found (../shared beside the clone)" >&2; exit 1; }
scripts/setup.sh
if [ -z "${QUILL:-}" ]; then
    swift build -c release --product quill >&2
    QUILL=.build/release/quill
fi
quill=$QUILL
export QUILL_STORE=${QUILL_STORE:-ksr.sqlite}
if [ ${#models[@]} -eq 0 ]; then
    [ -z "$mix" ] || { echo "--mix goes with --model" >&2; exit 2; }
    models=(ptb-small ptb-small-reg) mix=ptb-4gram
    if ! $quill models list --format jsonl 2>/dev/null | grep -q '"name":"ptb-small"'; then
        $quill train --preset ptb-small --corpus $ptb/ptb.train.txt --valid $ptb/ptb.valid.txt --name ptb-small \
            ${QUILL_KSR_EPOCHS:+--epochs $QUILL_KSR_EPOCHS} --replace >&2
    fi
    # The same 2×200 size regularized: dropout 0.25, tied embeddings, 12 epochs (about 20 minutes on 2 cores).
    if ! $quill models list --format jsonl 2>/dev/null | grep -q '"name":"ptb-small-reg"'; then
        $quill train --preset ptb-small --corpus $ptb/ptb.train.txt --valid $ptb/ptb.valid.txt --vocabulary ptb-small \
            --name ptb-small-reg --dropout 0.25 --tie --epochs 12 --schedule step --decay-after 6 --decay 0.8 >&2
    fi
    if ! $quill models list --format jsonl 2>/dev/null | grep -q '"name":"ptb-4gram"'; then
        $quill ngram train --corpus $ptb/ptb.train.txt --vocabulary ptb-small --order 4 --name ptb-4gram >&2
    fi
elif [ -z "$mix" ]; then
    echo "--model needs --mix NGRAM (a stored n-gram model of its vocabulary)" >&2; exit 2
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
files=()
for t in $texts; do
    case "$t" in
        ptb-3k) head -c 3000 $ptb/ptb.test.txt > "$work/ptb-test-3k.txt"; files+=("$work/ptb-test-3k.txt") ;;
        ptb-test) files+=("$ptb/ptb.test.txt") ;;
        wiki-test)
            [ -f $wiki/wiki.test.tokens ] || { echo "no $wiki: wiki-test left out" >&2; continue; }
            head -c 60000 $wiki/wiki.test.tokens | tr 'A-Z' 'a-z' | sed -e 's/ @\(.\)@ /\1/g' -e 's/<unk>/unk/g' \
                | grep -v '^ *=.*= *$' | sed -e "s/[^a-z0-9' ]/ /g" -e 's/  */ /g' -e 's/^ *//' -e 's/ *$//' \
                | grep -v '^$' | sed 's/^/ /; s/$/ /' > "$work/wiki-test-60k.txt"
            files+=("$work/wiki-test-60k.txt") ;;
        *) echo "unknown text $t (ptb-3k, ptb-test, wiki-test)" >&2; exit 2 ;;
    esac
done
for text in "${files[@]}"; do
    for model in "${models[@]}"; do
        for options in "" "--mix $mix ${weight:+--mix-weight $weight}" "--repeat-suggestions --no-document-cache"; do
            # shellcheck disable=SC2086
            $quill eval-autocomplete --model "$model" --text "$text" --suggestions "$k" --unknown-as unk --format json \
                $options
        done
    done
    bash ../shared/bench/presage_ksr.sh $ptb/ptb.train.txt "$text" "$k"
done
