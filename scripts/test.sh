#!/usr/bin/env bash
# The test command: set up and run every test (`swift test` also builds the `quill` binary the CLI tests run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift test
