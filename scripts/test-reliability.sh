#!/usr/bin/env bash
# The reliability checks that fit CI's time, on a release build (a debug build trains ~50× slower): kill -9 at random
# moments and inside write transactions (scripts/fault-injection.py, 6 kills per family here; the README's figures
# come from 50), concurrent readers and writers (scripts/concurrency.py), and a disk that fills mid-run
# (fault-injection.py --disk-full, which needs root to mount a small tmpfs: skipped, and said so, without it), and
# the run charts opened in headless Chromium (scripts/test-plots-browser.py, which installs Debian's chromium with
# apt-get when it is missing, as the test command installs everything it needs on a bare machine).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product quill >&2
quill="$(swift build -c release --show-bin-path)/quill"
scripts/fault-injection.py --kills 6 --quill "$quill"
scripts/concurrency.py --quill "$quill"
scripts/test-plots-browser.py --quill "$quill"
probe=$(mktemp -d)
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=1m tmpfs "$probe" 2>/dev/null; then
    umount "$probe"
    scripts/fault-injection.py --disk-full --quill "$quill"
else
    echo "test-reliability: the disk-full check needs root and tmpfs mounts; skipped here" >&2
fi
rmdir "$probe"
