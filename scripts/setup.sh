#!/usr/bin/env bash
# Installs the system libraries Quill builds against, when missing (Debian/Ubuntu): ICU4C and SQLite headers,
# and pkg-config, which SwiftPM uses to find them; and python3, which runs the reliability scripts. Sourced by the
# other scripts; safe to run again.
set -euo pipefail
needed=()
for pkg in libicu-dev libsqlite3-dev pkg-config python3; do
    dpkg -s "$pkg" >/dev/null 2>&1 || needed+=("$pkg")
done
if [ ${#needed[@]} -gt 0 ]; then
    echo "quill setup: installing ${needed[*]}" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${needed[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "quill setup: swift is not on PATH (install Swift 6 from swift.org)" >&2; exit 1; }
