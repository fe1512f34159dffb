#!/usr/bin/env bash
# The main job on the embedded default corpus: set up, build (release), build the corpus's vocabulary into the store
# (quill.sqlite, or $QUILL_STORE), train a word-level LSTM language model on it (about half a minute on 2 cores),
# save it in the store, and show its completions of a few prompts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product quill
quill=.build/release/quill
$quill vocab build --corpus corpora/default/train.txt --name default --replace
$quill vocab show default --limit 10
$quill train --corpus corpora/default/train.txt --valid corpora/default/valid.txt --vocabulary default \
    --name default-lstm --layers 1 --hidden 256 --epochs 6 --optimizer adam --lr 0.003 --seed 1 --replace
echo
echo "Completions (greedy):"
for prompt in "Once upon a time" "The old fisherman" "In the morning the" "She opened the" \
              "The weather today" "To make bread you"; do
    $quill generate --model default-lstm --prompt "$prompt" --temperature 0 --max-tokens 16
done
echo
echo "Sampled (temperature 0.8):"
$quill generate --model default-lstm --prompt "Dear Lily," --temperature 0.8 --seed 3 --max-tokens 30
$quill store info
