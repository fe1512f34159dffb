#!/usr/bin/env bash
# Quill's CLI in Unix pipelines: the most frequent words of the embedded corpus, a vocabulary in a throwaway store,
# and ids for a sentence. Run from the repository root after `swift build -c release --product quill`.
set -eu  # no pipefail: `head` closing a pipe early is expected here
quill=${QUILL:-.build/release/quill}
export QUILL_STORE=$(mktemp -d)/example.sqlite

echo "== the 10 most frequent word tokens (case-folded), straight from a pipe"
$quill tokenize --case-fold corpora/default/train.txt | sort | uniq -c | sort -rn | head -10

echo "== JSON Lines, one record per input line"
printf 'Once upon a time,\nthe old fisherman smiled.\n' | $quill tokenize --format jsonl

echo "== a vocabulary, then ids"
$quill vocab build --corpus corpora/default/train.txt --name example --min-count 2
echo "The old fisherman opened the door." | $quill tokenize --ids --vocabulary example | tr '\n' ' '; echo

echo "== the vocabulary as text (first lines)"
$quill vocab export example | head -12
