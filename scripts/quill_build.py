"""The quill binary for the reliability scripts: a release build of this checkout (or the one given)."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def quill_binary(given=None):
    """`given` made absolute, else a release build of this checkout (a debug build trains ~50× slower)."""
    if given:
        return os.path.abspath(given)
    subprocess.run(["swift", "build", "-c", "release", "--product", "quill"], cwd=ROOT, check=True,
                   stdout=sys.stderr)
    path = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()
    return os.path.join(path, "quill")
