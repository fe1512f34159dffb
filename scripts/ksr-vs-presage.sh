#!/usr/bin/env bash
# Autocomplete quality against Presage (opt-in, not part of the tests): keystroke savings with K suggestions on the
# first 3,000 characters of PTB test and on the whole file, for Quill's ptb-small model and for Presage's
# interpolated trigram built from PTB train (../shared/bench/presage_ksr.sh, which installs presage with apt).
# Quill runs two models of the ptb-small size (the preset, and the same size with dropout and tied embeddings), each
# three ways: as quill complete suggests by default, mixed with a Kneser-Ney 4-gram of PTB train (--mix), and plain
# (--repeat-suggestions --no-document-cache: the model's top K for each prefix).
# Presage's simulator takes about 20 minutes on the whole file.
#   scripts/ksr-vs-presage.sh [K=3]
# Trains the model first when the store ($QUILL_STORE, else ksr.sqlite) has no model named ptb-small (about 25 min
# on 2 cores: the preset's 13 epochs; QUILL_KSR_EPOCHS=N trains fewer, and the report says so).
set -euo pipefail
cd "$(dirname "$0")/.."
k=${1:-3}
ptb=../shared/corpora/ptb
[ -f $ptb/ptb.train.txt ] || { echo "ksr-vs-presage: $ptb not found (../shared beside the clone)" >&2; exit 1; }
scripts/setup.sh
swift build -c release --product quill >&2
quill=.build/release/quill
export QUILL_STORE=${QUILL_STORE:-ksr.sqlite}
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
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
head -c 3000 $ptb/ptb.test.txt > "$work/ptb-test-3k.txt"
for text in "$work/ptb-test-3k.txt" $ptb/ptb.test.txt; do
    for model in ptb-small ptb-small-reg; do
        for options in "" "--mix ptb-4gram" "--repeat-suggestions --no-document-cache"; do
            # shellcheck disable=SC2086
            $quill eval-autocomplete --model $model --text "$text" --suggestions "$k" --unknown-as unk --format json \
                $options
        done
    done
    bash ../shared/bench/presage_ksr.sh $ptb/ptb.train.txt "$text" "$k"
done
