#!/usr/bin/env bash
# Installs quill like any command-line tool: a release binary, its shell completions (bash, zsh, fish) and its manual
# pages, under PREFIX (default /usr/local):
#
#   scripts/install.sh                 # /usr/local (with sudo when not root)
#   scripts/install.sh "$HOME/.local"  # no root needed; put $HOME/.local/bin on PATH
#   DESTDIR=/tmp/stage scripts/install.sh /usr   # stage a tree (scripts/package-deb.sh does this)
#
#   PREFIX/bin/quill
#   PREFIX/share/bash-completion/completions/quill
#   PREFIX/share/zsh/site-functions/_quill
#   PREFIX/share/fish/vendor_completions.d/quill.fish
#   PREFIX/share/man/man1/quill.1, quill-train.1, … (one page per command, from the command definitions: `man quill`,
#                                                    `man quill-train`, `man quill-models-list`)
#   PREFIX/share/quill/installed-files   (this list: scripts/uninstall.sh removes exactly these)
#
# Builds a release binary with the Swift runtime linked in (--static-swift-stdlib), so it runs without the toolchain
# and needs only ICU, SQLite and the C/C++ runtimes (scripts/setup.sh installs the system libraries first). The
# manual pages come from swift-argument-parser's generate-manual tool, which reads the command definitions; the
# completions from `quill --generate-completion-script`.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-/usr/local}
case "$prefix" in /*) ;; *) prefix="$PWD/$prefix" ;; esac
root="${DESTDIR:-}$prefix"

scripts/setup.sh
build=(swift build -c release --static-swift-stdlib)
"${build[@]}" --product quill >&2
"${build[@]}" --product generate-manual >&2
bin=$("${build[@]}" --show-bin-path)
binary="$bin/quill"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/share/bash-completion/completions" "$stage/share/zsh/site-functions" \
    "$stage/share/fish/vendor_completions.d" "$stage/share/man/man1" "$stage/share/quill"
cp "$binary" "$stage/bin/quill"
strip "$stage/bin/quill" 2>/dev/null || true
"$binary" --generate-completion-script bash >"$stage/share/bash-completion/completions/quill"
"$binary" --generate-completion-script zsh >"$stage/share/zsh/site-functions/_quill"
"$binary" --generate-completion-script fish >"$stage/share/fish/vendor_completions.d/quill.fish"
# One page per command. The generator names them quill.train.1; installed as quill-train.1 (as git-commit(1)), with
# their titles and cross-references to match.
pages=$(mktemp -d)
"$bin/generate-manual" "$binary" --multi-page --authors "The Quill authors" --output-directory "$pages" >&2
for page in "$pages"/quill*.1; do
    name=$(basename "$page" .1)
    sed -e 's/^$/.Pp/' -e '/^\.Dt /{s/\./-/g; s/^-Dt/.Dt/}' -e '/^\.Xr /{s/\./-/g; s/^-Xr/.Xr/}' "$page" \
        >"$stage/share/man/man1/${name//./-}.1"
done
rm -rf "$pages"
[ -f "$stage/share/man/man1/quill.1" ] || { echo "install: the manual generator wrote no quill.1" >&2; exit 1; }
(cd "$stage" && find . -type f ! -path ./share/quill/installed-files | sed 's|^\./||' | sort) \
    >"$stage/share/quill/installed-files"
echo "share/quill/installed-files" >>"$stage/share/quill/installed-files"

sudo=""
if ! mkdir -p "$root" 2>/dev/null || [ ! -w "$root" ]; then
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
fi
$sudo mkdir -p "$root"
# The staged entries only, never the staging directory itself: its mode (700) must not land on PREFIX.
(cd "$stage" && tar cf - bin share) | $sudo tar xf - -C "$root" --no-same-owner
echo "installed quill $("$binary" --version) into $root ($(wc -l <"$stage/share/quill/installed-files") files;" \
    "scripts/uninstall.sh $prefix${DESTDIR:+ with DESTDIR=$DESTDIR} removes them)" >&2
