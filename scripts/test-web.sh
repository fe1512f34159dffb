#!/usr/bin/env bash
# The web page of `quill serve` in a real browser (part of the test command): starts the server on a free loopback
# port with a small language model trained on the embedded corpus and a toy translation model, then
# scripts/web/page_test.py drives headless Chromium through Selenium (Debian's chromium and chromium-driver, Selenium
# from PyPI; installed when missing) and saves the screenshot it checks as web-page.png in a temporary directory.
#   scripts/test-web.sh            # QUILL names a quill binary (default: a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromedriver >/dev/null || ! command -v chromium >/dev/null; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi
python=python3
if ! $python -c "import selenium" 2>/dev/null; then
    $python -m pip install -q selenium 2>/dev/null || {
        $python -m venv /tmp/quill-web-venv && /tmp/quill-web-venv/bin/pip install -q selenium
        python=/tmp/quill-web-venv/bin/python
    }
fi
if [ -z "${QUILL:-}" ]; then
    swift build -c release --product quill >&2
    QUILL=.build/release/quill
fi
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
export QUILL_STORE=$work/web.sqlite QUILL_THREADS=2
"$QUILL" vocab build --corpus corpora/default/train.txt --name default >/dev/null 2>&1
"$QUILL" train --corpus corpora/default/train.txt --vocabulary default --name default-lstm --layers 1 --hidden 128 \
    --epochs 2 --optimizer adam --lr 0.003 --seed 1 >/dev/null 2>&1
python3 - "$work" <<'PY'
import sys
german = "ein hund rennt die katze schläft im garten".split()
english = "a dog runs the cat sleeps in garden".split()
with open(f"{sys.argv[1]}/train.de", "w") as de, open(f"{sys.argv[1]}/train.en", "w") as en:
    for i in range(200):
        picks = [(j * 5 + i * 3) % len(german) for j in range(2 + i % 4)]
        de.write(" ".join(german[p] for p in picks) + "\n")
        en.write(" ".join(english[p] for p in picks) + "\n")
PY
"$QUILL" translation train --source "$work/train.de" --target "$work/train.en" --name de-en --preset tiny \
    --epochs 3 >/dev/null 2>&1
"$QUILL" serve --model default-lstm --model de-en --port 0 2> "$work/serve.log" &
server=$!
for _ in $(seq 100); do grep -q "listening on" "$work/serve.log" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*/' "$work/serve.log" | head -1)
[ -n "$url" ] || { echo "test-web: the server did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }
echo "test-web: $url" >&2
$python scripts/web/page_test.py "$url" "${QUILL_WEB_SCREENSHOT:-$work/web-page.png}"
