#!/usr/bin/env bash
# The test command: set up, build the CLI the tests run, and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --product quill
swift test
