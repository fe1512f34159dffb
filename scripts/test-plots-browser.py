#!/usr/bin/env python3
"""Opens the run charts in a real browser: trains two tiny models into a temporary store, writes the SVGs of
`quill runs compare --plot` and `quill runs plot` (by epoch and by time), screenshots each in headless Chromium, and
checks that Chromium reported no SVG error (no XML parser error in the page, no console error such as `<circle>
attribute cx: Expected length`) and that the picture is not blank: enough non-white pixels, and some in the series'
colours. The PNG is read with zlib from the standard library; no pip packages.

Chromium is installed with apt-get (Debian's `chromium`) when missing, as scripts/setup.sh installs what the build
needs (scripts/test-reliability.sh, part of the test command, runs it so); with --no-install a machine without it
skips the check, and says so, instead. About 15 s with a built quill.

    scripts/test-plots-browser.py                       # a release build of this checkout
    scripts/test-plots-browser.py --quill .build/debug/quill --keep /tmp/plots   # keep the SVGs and PNGs
"""
import argparse
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

from quill_build import ROOT, quill_binary

# The browser and a monospace font for the charts' text (the SVGs ask for `monospace`).
PACKAGES = ["chromium", "fonts-dejavu-core"]


def log(message):
    print(f"test-plots-browser: {message}", file=sys.stderr, flush=True)


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def install_chromium():
    """Installs the Debian packages, as scripts/setup.sh does (sudo unless root)."""
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    log(f"installing {' '.join(PACKAGES)}")
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq"] + PACKAGES, check=True, env=env,
                   stdout=subprocess.DEVNULL)


def run(quill, args, env, cwd):
    result = subprocess.run([quill] + args, env=env, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"test-plots-browser: quill {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def make_charts(quill, work):
    """Two runs (one with validation, 3 epochs, a name XML must escape; one without) and three charts."""
    env = dict(os.environ, QUILL_STORE=os.path.join(work, "runs.sqlite"))
    with open(os.path.join(ROOT, "corpora/default/train.txt"), encoding="utf-8") as f:
        train = f.read()[:30000]
    with open(os.path.join(ROOT, "corpora/default/valid.txt"), encoding="utf-8") as f:
        valid = f.read()[:4000]
    for name, text in (("train.txt", train), ("valid.txt", valid)):
        with open(os.path.join(work, name), "w", encoding="utf-8") as f:
            f.write(text)
    tiny = ["--hidden", "16", "--batch", "4", "--bptt", "10", "--seed", "1", "--checkpoint-every", "5"]
    run(quill, ["vocab", "build", "--corpus", "train.txt", "--name", "v"], env, work)
    run(quill, ["train", "--corpus", "train.txt", "--valid", "valid.txt", "--vocabulary", "v",
                "--name", "small <&\"'> lstm", "--epochs", "3"] + tiny, env, work)
    run(quill, ["train", "--corpus", "train.txt", "--valid", "valid.txt", "--vocabulary", "v", "--name", "gru",
                "--cell", "gru", "--epochs", "2"] + tiny, env, work)
    run(quill, ["train", "--corpus", "train.txt", "--vocabulary", "v", "--name", "no-valid", "--max-windows", "5"]
        + tiny, env, work)
    print(run(quill, ["runs", "compare"], env, work).stdout, file=sys.stderr)
    charts = {
        "compare.svg": ["runs", "compare", "--plot", "compare.svg"],
        "curves.svg": ["runs", "plot", "1", "--output", "curves.svg"],
        "curves-time.svg": ["runs", "plot", "2", "--x-axis", "time", "--output", "curves-time.svg"],
    }
    for args in charts.values():
        run(quill, args, env, work)
    return [os.path.join(work, name) for name in charts]


def size_of(svg_path):
    with open(svg_path, encoding="utf-8") as f:
        head = f.read(1000)
    match = re.search(r'<svg [^>]*width="(\d+)" height="(\d+)"', head)
    if not match:
        sys.exit(f"test-plots-browser: {svg_path}: no width and height on the <svg> element")
    return int(match.group(1)), int(match.group(2))


def chromium_args(chromium, profile):
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
            "--disable-dev-shm-usage", f"--user-data-dir={profile}"]


def screenshot(chromium, svg_path, png_path, profile):
    """Chromium's screenshot of the SVG at its own size, and the console errors it logged."""
    width, height = size_of(svg_path)
    result = subprocess.run(
        chromium_args(chromium, profile) + ["--enable-logging=stderr", "--v=0", f"--screenshot={png_path}",
                                            f"--window-size={width},{height}", "file://" + svg_path],
        capture_output=True, text=True, timeout=120)
    if result.returncode != 0 or not os.path.exists(png_path):
        sys.exit(f"test-plots-browser: chromium failed on {svg_path} ({result.returncode}):\n{result.stderr}")
    # Console messages: SVG attribute errors ("Error: <polyline> attribute points: …") are logged there.
    return [line for line in result.stderr.splitlines() if "CONSOLE" in line and "rror" in line]


def parser_errors(chromium, svg_path, profile):
    """Chromium's DOM of the file: a document that is not well-formed XML gets a <parsererror> element."""
    result = subprocess.run(chromium_args(chromium, profile) + ["--dump-dom", "file://" + svg_path],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        sys.exit(f"test-plots-browser: chromium --dump-dom failed on {svg_path}:\n{result.stderr}")
    if "<svg" not in result.stdout:
        return ["the page has no <svg> element"]
    return re.findall(r"<parsererror.{0,300}", result.stdout, re.S)


def read_png(path):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB or RGBA PNG, decoded with zlib."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace != 0:
        raise ValueError(f"{path}: bit depth {depth}, colour type {colour}, interlace {interlace} not handled")
    channels = 3 if colour == 2 else 4
    stride = width * channels
    raw = zlib.decompress(idat)
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            upper_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - upper_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else upper_left
                line[i] = (line[i] + predictor) & 0xFF
        rows.append([tuple(line[x * channels:x * channels + 3]) for x in range(width)])
        previous = line
    return width, height, rows


def check_picture(png_path):
    """Problems with the screenshot: blank, or without any pixel of a series' colour."""
    width, height, rows = read_png(png_path)
    pixels = [p for row in rows for p in row]
    ink = sum(1 for r, g, b in pixels if min(r, g, b) < 200)
    # Saturated pixels: the series' lines and markers (Tableau colours), not the black text or grey grid.
    coloured = sum(1 for r, g, b in pixels if max(r, g, b) - min(r, g, b) > 80)
    log(f"{os.path.basename(png_path)}: {width}×{height}, {ink} dark pixels ({100 * ink / len(pixels):.1f}%), "
        f"{coloured} coloured")
    problems = []
    if ink < len(pixels) * 0.01:
        problems.append(f"nearly blank: {ink} of {len(pixels)} pixels are not white")
    if coloured < 100:
        problems.append(f"only {coloured} pixels in a series' colour: no line drawn")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quill", help="the quill binary (default: a release build of this checkout)")
    parser.add_argument("--no-install", action="store_true",
                        help="skip the check, with a note, when Chromium is missing, rather than install it")
    parser.add_argument("--keep", metavar="DIR", help="copy the SVGs and screenshots here")
    args = parser.parse_args()

    chromium = find_chromium()
    if chromium is None:
        if args.no_install:
            log("skipped: Chromium is not installed (scripts/test-plots-browser.py installs it)")
            return 0
        install_chromium()
        chromium = find_chromium()
        if chromium is None:
            sys.exit("test-plots-browser: chromium is still not on PATH after installing it")
    quill = quill_binary(args.quill)

    failures = []
    with tempfile.TemporaryDirectory(prefix="quill-plots-") as work:
        profile = os.path.join(work, "chromium-profile")
        for svg in make_charts(quill, work):
            png = svg[:-4] + ".png"
            name = os.path.basename(svg)
            errors = screenshot(chromium, svg, png, profile) + parser_errors(chromium, svg, profile)
            failures += [f"{name}: chromium: {e}" for e in errors]
            failures += [f"{name}: {p}" for p in check_picture(png)]
            if args.keep:
                os.makedirs(args.keep, exist_ok=True)
                shutil.copy(svg, args.keep)
                shutil.copy(png, args.keep)
    for failure in failures:
        log(failure)
    if failures:
        log("FAILED")
        return 1
    log("3 charts rendered by Chromium without an error, none blank")
    return 0


if __name__ == "__main__":
    sys.exit(main())
