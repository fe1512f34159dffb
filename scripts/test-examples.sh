#!/usr/bin/env bash
# The slow part of the test command, kept out of the default `swift test`: runs every example as documented, so the
# examples do not rot, and checks what each prints. scripts/test.sh (and so CI) runs it after `swift test`.
#   examples/*.sh           with the debug `quill` binary that `swift test` built (QUILL overrides it)
#   examples/library-usage  built and run as another package that depends on Quill would
set -euo pipefail
cd "$(dirname "$0")/.."
quill=${QUILL:-}
if [ -z "$quill" ]; then
    swift build --product quill >/dev/null
    quill="$(swift build --show-bin-path)/quill"
fi
export QUILL="$quill"

failed=0
# check NAME OUTPUT FRAGMENT...: every fragment must appear in OUTPUT.
check() {
    local name=$1 output=$2
    shift 2
    for fragment in "$@"; do
        if ! grep -qF -- "$fragment" <<<"$output"; then
            echo "test-examples: $name: the output lacks '$fragment'" >&2
            failed=1
        fi
    done
}

run() {  # run NAME COMMAND...: prints the output on failure
    local name=$1 output
    shift
    echo "test-examples: $name" >&2
    if ! output=$("$@" 2>&1); then
        echo "$output" >&2
        echo "test-examples: $name failed" >&2
        exit 1
    fi
    printf '%s' "$output"
}

out=$(run examples/tokenize-pipeline.sh bash examples/tokenize-pipeline.sh)
check tokenize-pipeline "$out" '\sthe' '{"line":2,"tokens":["the"," old"," fisherman"' '# quill-vocabulary 1'

# A tiny LSTM (HIDDEN, EPOCHS): the script's own sizes take minutes on a debug build.
out=$(HIDDEN=16 EPOCHS=1 run examples/autocomplete-pipeline.sh bash examples/autocomplete-pipeline.sh)
check autocomplete-pipeline "$out" "saved n-gram model '4gram': order 4" '{"continuation":' '"perplexity":' \
    'mixed with n-gram model 4gram (share 0.35)'

for script in examples/*.sh; do
    case $script in
        examples/tokenize-pipeline.sh|examples/autocomplete-pipeline.sh) ;;
        *) run "$script" bash "$script" >/dev/null ;;
    esac
done

(cd examples/library-usage && run examples/library-usage swift run library-usage) >/dev/null

[ "$failed" -eq 0 ] || { echo "test-examples: FAILED" >&2; exit 1; }
echo "test-examples: all examples ran" >&2
