#!/usr/bin/env bash
# Translation quality on the shared corpora (opt-in: hours of CPU). For each direction asked: train with
# `quill translation train --preset multi30k --time-budget MINUTES`, then translate the test set greedy and with
# beam 5 and score it as sacreBLEU does (cased, detokenized, 13a). Prints one JSON line per direction and search.
#
#   scripts/quality-translation.sh                                   # de-en and en-de on Multi30k, 90 minutes each
#   scripts/quality-translation.sh --directions de-en --minutes 60
#   scripts/quality-translation.sh --directions en-fr,fr-en --minutes 60   # Tatoeba English–French
#   scripts/quality-translation.sh --autoencoder --minutes 20        # the autoencoder's AUC on Multi30k English
#   scripts/quality-translation.sh --directions en-fr --train-options "--layers 1"   # more options for training
#
# Everything goes to --store (default /tmp/quill-quality.sqlite); the models are named after their direction.
set -euo pipefail
cd "$(dirname "$0")/.."

directions="de-en,en-de"
minutes=90
store=/tmp/quill-quality.sqlite
autoencoder=0
train_options=""
while [ $# -gt 0 ]; do
    case "$1" in
        --directions) directions="$2"; shift 2 ;;
        --minutes) minutes="$2"; shift 2 ;;
        --store) store="$2"; shift 2 ;;
        --autoencoder) autoencoder=1; shift ;;
        --train-options) train_options="$2"; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

swift build -c release --product quill >&2   # one --product per build: SwiftPM keeps only the last
swift build -c release --product quill-bench >&2
quill=.build/release/quill
multi30k=../shared/corpora/multi30k
tatoeba=../shared/corpora/tatoeba-eng-fra
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A direction's data: the training options that name its training and validation pairs (Multi30k: aligned files;
# Tatoeba: its TSV files, columns English then French), and its test source and reference files.
data() {
    local from=$1 to=$2
    case "$from-$to" in
        de-en|en-de)
            echo "--source $multi30k/train.$from --target $multi30k/train.$to --valid-source $multi30k/val.$from" \
                 "--valid-target $multi30k/val.$to|$multi30k/test2016.$from|$multi30k/test2016.$to" ;;
        en-fr|fr-en)
            cut -f1 "$tatoeba/test.tsv" > "$work/test.en"
            cut -f2 "$tatoeba/test.tsv" > "$work/test.fr"
            local columns=source-target
            [ "$from" = fr ] && columns=target-source
            echo "--tsv $tatoeba/train.tsv --valid-tsv $tatoeba/valid.tsv --tsv-columns $columns" \
                 "|$work/test.$from|$work/test.$to" ;;
        *) echo "unknown direction $from-$to" >&2; exit 2 ;;
    esac
}

for direction in ${directions//,/ }; do
    from=${direction%-*}; to=${direction#*-}
    IFS='|' read -r pairs test_src test_tgt <<<"$(data "$from" "$to")"
    start=$(date +%s)
    # shellcheck disable=SC2086  # the options are words
    "$quill" translation train --store "$store" $pairs --name "$direction" --preset multi30k \
        --epochs 100 --time-budget "$minutes" --replace $train_options >&2
    trained=$(( $(date +%s) - start ))
    for beam in 1 5; do
        "$quill" translation eval --store "$store" --model "$direction" --source "$test_src" \
            --reference "$test_tgt" --beam "$beam" |
            python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps({'direction': '$direction', \
'beam': d['beam'], 'bleu': round(d['bleu'], 2), 'chrf': round(d['chrf'], 2), 'chrfpp': round(d['chrfpp'], 2), \
'signature': d['signature']['bleu'], 'training_seconds': $trained, 'test_sentences': d['sentences'], \
'translate_seconds': round(d['seconds'], 1)}))"
    done
done

if [ "$autoencoder" = 1 ]; then
    "$quill" autoencoder train --store "$store" --corpus "$multi30k/train.en" --valid "$multi30k/val.en" \
        --name ae-en --epochs 100 --time-budget "$minutes" --replace >&2
    .build/release/quill-bench autoencoder-auc --store "$store" --model ae-en --text "$multi30k/test2016.en" \
        --other "$multi30k/test2016.de" --fraction 0.1
fi
