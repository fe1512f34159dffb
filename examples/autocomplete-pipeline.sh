#!/usr/bin/env bash
# Autocompletion from the command line: a small word model and a Kneser-Ney 4-gram of the embedded corpus, the
# suggestions for lines from a pipe (with and without the n-gram model mixed in), batch prediction as JSON Lines, and
# the keystrokes the suggestions save on the validation text. Run from the repository root after
# `swift build -c release --product quill`; it takes a few seconds (HIDDEN and EPOCHS size the LSTM).
set -eu
quill=${QUILL:-.build/release/quill}
export QUILL_STORE=$(mktemp -d)/example.sqlite

echo "== a vocabulary, a small LSTM and a 4-gram of the same corpus"
$quill vocab build --corpus corpora/default/train.txt --name default
$quill train --corpus corpora/default/train.txt --vocabulary default --name lstm \
    --hidden ${HIDDEN:-128} --epochs ${EPOCHS:-4} --seed 1 2>/dev/null
$quill ngram train --corpus corpora/default/train.txt --vocabulary default --order 4 --name 4gram
$quill ngram eval --model 4gram --text corpora/default/valid.txt

echo "== suggestions for each line of a pipe (JSON Lines), then with the 4-gram mixed in"
printf 'The old fisherman \nTo make bread you\n' | $quill complete --model lstm --k 3
printf 'The old fisherman \nTo make bread you\n' | $quill complete --model lstm --k 3 --mix 4gram

echo "== batch prediction: the next words and each line's perplexity"
printf 'The old fisherman\nShe opened the do\n' | $quill predict --model lstm --task complete --top-k 3
printf 'The old fisherman went down to the harbour.\n' | $quill predict --model lstm --task score

echo "== keystrokes saved with 3 suggestions on the validation text"
$quill eval-autocomplete --model lstm --text corpora/default/valid.txt --suggestions 3 --mix 4gram
