#!/usr/bin/env bash
# The whole test suite under a sanitizer: AddressSanitizer (out-of-bounds access, use after free, leaks) or
# ThreadSanitizer (data races: the thread pool, the training loop, shared inference weights, concurrent stores).
# Each sanitizer builds in its own scratch path (.build/sanitize-<name>), so the normal `.build/debug` is never
# disturbed; the first run builds everything once. See docs/reliability.md.
#
#   scripts/sanitize.sh address                 # swift test --sanitize=address
#   scripts/sanitize.sh thread --filter Store   # extra arguments go to `swift test`
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizer=${1:-}
case "$sanitizer" in
    address | thread) shift ;;
    *) echo "usage: scripts/sanitize.sh address|thread [swift test options…]" >&2; exit 2 ;;
esac
scripts/setup.sh
# Leaks inside the toolchain's libraries are not Quill's to fix (scripts/lsan-suppressions.txt names them).
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan-suppressions.txt${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
swift test --sanitize="$sanitizer" --scratch-path ".build/sanitize-$sanitizer" "$@"
