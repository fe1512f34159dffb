#!/usr/bin/env bash
# Tests installing quill like any command-line tool (called by scripts/test.sh):
#   1. scripts/install.sh into a temporary PREFIX;
#   2. from another directory: PREFIX/bin/quill --version is the repository's version (Sources/QuillStore/
#      QuillVersion.swift), a short train → complete round on the embedded corpus, `man quill` and
#      `man quill-train` (with every option `quill train --help` lists), bash completion of subcommands and of a
#      stored model's name, and the zsh and fish scripts installed;
#   3. scripts/uninstall.sh removes exactly what was installed;
#   4. scripts/package-deb.sh, then `dpkg -i` of the package, quill from /usr/bin, and `dpkg -r` (as root only; a
#      machine with quill already installed from elsewhere skips this step, saying so).
set -euo pipefail
# Outputs are captured before they are searched: `producer | grep -q` under pipefail fails when grep exits at its
# first match and the producer, still writing, dies of SIGPIPE (the CI run on 2aadd64 failed that way).
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d)
deb_installed=0
cleanup() {
    [ "$deb_installed" = 0 ] || dpkg -r quill >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "test-install: FAILED: $*" >&2; exit 1; }

prefix="$work/prefix"
scripts/install.sh "$prefix"
expected=$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/QuillStore/QuillVersion.swift)
quill="$prefix/bin/quill"

cd "$work"
[ "$("$quill" --version)" = "$expected" ] || fail "quill --version says $("$quill" --version), expected $expected"
export QUILL_STORE="$work/quill.sqlite"
"$quill" train --corpus "$repo/corpora/default/train.txt" --name tiny --hidden 32 --epochs 1 --seed 1 >/dev/null 2>&1 ||
    fail "train from $work"
completion=$("$quill" generate --model tiny --prompt "The old fisherman" --temperature 0 --max-tokens 5)
[[ "$completion" == "The old fisherman"* ]] || fail "generate printed '$completion'"
info=$("$quill" store info)
grep -q "made by quill: *$expected" <<<"$info" || fail "store info does not name quill $expected"

export MANPATH="$prefix/share/man"
main_page=$(man -P cat quill 2>/dev/null)
grep -q "quill" <<<"$main_page" || fail "man quill"
train_page=$(man -P cat quill-train 2>/dev/null)
[ -n "$train_page" ] || fail "man quill-train"
help=$("$quill" train --help)
for option in $(grep -o -- '--[a-z][a-z0-9-]*' <<<"$help" | sort -u); do
    [ "$option" = "--help" ] && continue
    grep -q -- "$option" <<<"$train_page" || fail "man quill-train lacks $option, which quill train --help lists"
done

bash_script="$prefix/share/bash-completion/completions/quill"
complete_words() {  # the words bash completion offers after "$@" (the last word is the one being completed)
    PATH="$prefix/bin:$PATH" bash -c '
        source "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        _quill "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"  # as bash calls it
        printf "%s\n" "${COMPREPLY[@]}"' _ "$bash_script" "$@"
}
offered=$(complete_words quill tra)
grep -qx "train" <<<"$offered" || fail "bash completion of 'quill tra' offered: $offered"
offered=$(complete_words quill generate --model "")
grep -qx "tiny" <<<"$offered" || fail "bash completion of a stored model's name offered: $offered"
[ -s "$prefix/share/zsh/site-functions/_quill" ] || fail "zsh completion not installed"
[ -s "$prefix/share/fish/vendor_completions.d/quill.fish" ] || fail "fish completion not installed"
echo "test-install: installed tree works from $work (quill $expected)" >&2

cd "$repo"
unset MANPATH QUILL_STORE
scripts/uninstall.sh "$prefix"
left=$(find "$prefix" -mindepth 1 | head -5)
[ -z "$left" ] || fail "uninstall left: $left"

if [ "$(id -u)" -ne 0 ]; then
    echo "test-install: not root: the .deb is built but not installed" >&2
    scripts/package-deb.sh "$work/dist" >/dev/null
    exit 0
fi
if dpkg -s quill >/dev/null 2>&1 || [ -e /usr/bin/quill ]; then
    echo "test-install: /usr/bin/quill already exists: the .deb's install and removal are not tested here" >&2
    exit 0
fi
deb=$(scripts/package-deb.sh "$work/dist")
dpkg -i "$deb" >/dev/null
deb_installed=1
(cd / && [ "$(quill --version)" = "$expected" ]) || fail "quill from the .deb"
man -w quill-train >/dev/null 2>&1 || fail "the .deb's manual page"
dpkg -r quill >/dev/null
deb_installed=0
[ ! -e /usr/bin/quill ] || fail "dpkg -r left /usr/bin/quill"
echo "test-install: $(basename "$deb") installed, ran and was removed" >&2
