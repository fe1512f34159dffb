#!/usr/bin/env bash
# The main job on the embedded default corpus: set up, build (release), build the corpus's vocabulary into the store
# (quill.sqlite, or $QUILL_STORE), and show it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product quill
quill=.build/release/quill
$quill vocab build --corpus corpora/default/train.txt --name default --min-count 1 --replace
$quill vocab show default --limit 15
$quill store info
