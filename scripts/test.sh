#!/usr/bin/env bash
# The test command: set up and run every test (`swift test` also builds the `quill` binary the CLI tests run), then
# build and run the example package that depends on Quill, as another package would.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift test
(cd examples/library-usage && swift run library-usage)
