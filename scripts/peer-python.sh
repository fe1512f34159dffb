# Sourced by the benchmark scripts: finds a Python with PyTorch for the peer script "$peer_script" (set before
# sourcing), installing a CPU torch into /tmp/venv when none is importable. Sets `python` (PYTHON overrides the
# default /tmp/venv/bin/python) and `have_torch` (1 when the peer can run, with a message on stderr otherwise).
python=${PYTHON:-/tmp/venv/bin/python}
have_torch=0
if [ -f "$peer_script" ]; then
    if ! "$python" -c "import torch" 2>/dev/null; then
        echo "torch not found for $python: installing it into /tmp/venv (CPU wheel)..." >&2
        if { [ -x /tmp/venv/bin/python ] || python3 -m venv /tmp/venv; } &&
            { /tmp/venv/bin/pip install --quiet torch --index-url https://download.pytorch.org/whl/cpu ||
              /tmp/venv/bin/pip install --quiet torch; }; then
            python=/tmp/venv/bin/python
        fi
    fi
    "$python" -c "import torch" 2>/dev/null && have_torch=1
fi
[ "$have_torch" = 1 ] || echo "PyTorch peer skipped: torch is not importable (and could not be installed)." >&2
