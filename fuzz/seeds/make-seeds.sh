#!/usr/bin/env bash
# Remakes the generated seeds of the store and vocabulary-file harnesses. They are small on purpose: libFuzzer's
# input length limit is the longest seed's, and every execution copies and reads the whole input. Seeded with the
# 200 KB test stores and the 37 KB default vocabulary, those harnesses ran about 650 and 1,100 executions/s.
#   store/schema-v2.sqlite, store/schema-v3.sqlite
#       Tests/Fixtures/store-schema-v{2,3}.sqlite without their tensors (never read by the harness), 512-byte pages:
#       opening them runs the migrations
#   store/schema-v4.sqlite
#       a current store with 512-byte pages: a word vocabulary, a BPE vocabulary (8 merges) and a 1×4 LSTM, made by
#       `quill` from the default corpus's first 600 bytes
#   vocabulary-file/word.vocab, vocabulary-file/bpe.vocab
#       those two vocabularies exported (`quill vocab export`), fingerprints included
# Needs sqlite3 and a release `quill` (swift build -c release --product quill). Run from anywhere.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
quill=$root/.build/release/quill
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
small() { sqlite3 "$1" "PRAGMA journal_mode = DELETE; PRAGMA page_size = 512; VACUUM;" >/dev/null; }
mkdir -p "$here/store" "$here/vocabulary-file"
for v in 2 3; do
    cp "$root/Tests/Fixtures/store-schema-v$v.sqlite" "$work/v$v.sqlite"
    sqlite3 "$work/v$v.sqlite" "DELETE FROM tensors;"
    small "$work/v$v.sqlite"
    cp "$work/v$v.sqlite" "$here/store/schema-v$v.sqlite"
done
head -c 600 "$root/corpora/default/train.txt" >"$work/corpus.txt"
store=$work/v4.sqlite
"$quill" train --corpus "$work/corpus.txt" --name tiny --hidden 4 --embedding 4 --epochs 1 --batch 2 --bptt 5 \
    --store "$store" >/dev/null 2>&1
"$quill" vocab build --corpus "$work/corpus.txt" --name sub --level bpe --merges 8 --store "$store" >/dev/null
"$quill" vocab export tiny --output "$here/vocabulary-file/word.vocab" --force --store "$store"
"$quill" vocab export sub --output "$here/vocabulary-file/bpe.vocab" --force --store "$store"
small "$store"
cp "$store" "$here/store/schema-v4.sqlite"
ls -l "$here"/store "$here"/vocabulary-file
