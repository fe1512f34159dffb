#!/usr/bin/env bash
# Records what a build of Quill computes, so two builds can be compared bit for bit (a refactoring's proof):
#
#   scripts/same-results.sh BIN_DIR OUT_DIR     # BIN_DIR holds `quill`; needs ../shared/corpora/ptb
#   diff -r before/ after/                      # then compare two OUT_DIRs
#
# On PTB: 200 windows of the ptb-small recipe (LSTM, word level) and of a GRU and an Elman RNN of the same shape, each
# checkpointed every 20 windows (the metrics table keeps the running training loss at each, printed with 17 digits) and
# exported to safetensors (sha256 of the weights); `quill eval` of PTB valid in float32 and bfloat16; `quill predict
# --task score` of 500 lines of PTB valid; `quill predict --task complete` in float32 and int8, and `generate`;
# keystroke savings (eval-autocomplete) on the first 200 lines of PTB test. Slow-ish: a few minutes on 2 cores.
set -euo pipefail
bin=$(cd "$1" && pwd)/quill
out=$2
ptb=${PTB:-$(cd "$(dirname "$0")/../.." && pwd)/shared/corpora/ptb}
[ -f "$ptb/ptb.train.txt" ] || { echo "no PTB at $ptb (set PTB=DIR)" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
store=$work/s.sqlite
head -n 500 "$ptb/ptb.valid.txt" >"$work/valid500.txt"
head -n 200 "$ptb/ptb.test.txt" >"$work/test200.txt"
q() { "$bin" "$@" --store "$store"; }
# Drops the fields that measure time from one JSON object per line.
untimed() { python3 -c 'import json,sys
for l in sys.stdin:
    o = json.loads(l); print(json.dumps({k: v for k, v in o.items() if "second" not in k.lower()}, sort_keys=True))'; }

q vocab build --corpus "$ptb/ptb.train.txt" --name ptb --level whitespace >/dev/null 2>&1
for cell in lstm gru rnn; do
    q train --preset ptb-small --cell "$cell" --corpus "$ptb/ptb.train.txt" --name "$cell" --vocabulary ptb \
        --max-windows 200 --epochs 1 --checkpoint-every 20 >/dev/null 2>&1
    sqlite3 "$store" "select m.step, printf('%.17g', m.loss) from metrics m join runs r on r.id = m.run_id
                      where r.name = '$cell' and m.split = 'train' order by m.step" >"$out/train-$cell.txt"
    q models export "$cell" --safetensors "$work/$cell.safetensors" --force >/dev/null
    sha256sum <"$work/$cell.safetensors" | cut -d' ' -f1 >"$out/weights-$cell.sha256"
    for p in float32 bfloat16; do
        q eval --model "$cell" --text "$ptb/ptb.valid.txt" --precision "$p" --format json | untimed \
            >"$out/eval-$cell-$p.json"
    done
done
q predict --model lstm --task score --input "$work/valid500.txt" >"$out/predict-score.jsonl"
head -n 50 "$work/valid500.txt" >"$work/valid50.txt"
for p in float32 int8; do
    q predict --model lstm --task complete --precision "$p" --input "$work/valid50.txt" >"$out/predict-complete-$p.jsonl"
done
q generate --model lstm --prompt "the company said" --temperature 0.8 --seed 1 >"$out/generate.txt"
q eval-autocomplete --model lstm --text "$work/test200.txt" --suggestions 3 | grep -v '^time:' | sed "s#$work/##" \
    >"$out/ksr.txt"
echo "wrote $out" >&2
