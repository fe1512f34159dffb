#!/usr/bin/env bash
# The test command: set up and run every test (`swift test` also builds the `quill` binary the CLI tests run), then
# the slow example runs kept out of `swift test` (scripts/test-examples.sh: examples/*.sh, and the example package
# that depends on Quill, built as another package would), and the reliability checks that fit CI's time
# (scripts/test-reliability.sh: kills, concurrent use, a full disk, on a release build; and the run charts in headless
# Chromium, installed with apt-get when missing); and the web page of `quill serve` in headless Chromium through
# Selenium (scripts/test-web.sh); and `quill` on MPI (scripts/test-mpi.sh, Open MPI installed when missing): the
# layer on 1–3 ranks, data-parallel training against one process, stops, a killed rank and resumes, sharded
# prediction, translation and search, and two hosts made of network namespaces; and installing quill
# (scripts/test-install.sh: install into a temporary prefix and use it from elsewhere, uninstall, the .deb).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift test
scripts/test-examples.sh
scripts/test-reliability.sh
scripts/test-web.sh
scripts/test-mpi.sh
scripts/test-install.sh
