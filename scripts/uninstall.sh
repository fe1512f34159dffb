#!/usr/bin/env bash
# Removes what scripts/install.sh installed under PREFIX (default /usr/local): exactly the files listed in
# PREFIX/share/quill/installed-files, then the directories they leave empty (never one that holds anything else).
#
#   scripts/uninstall.sh [PREFIX]
set -euo pipefail
prefix=${1:-/usr/local}
root="${DESTDIR:-}$prefix"
list="$root/share/quill/installed-files"
[ -f "$list" ] || { echo "uninstall: $list not found: quill is not installed under $prefix" >&2; exit 1; }
sudo=""
[ -w "$root/share/quill" ] || { [ "$(id -u)" -eq 0 ] || sudo="sudo"; }
files=()
while IFS= read -r file; do
    case "$file" in ""|/*|*..*) echo "uninstall: refusing the listed path '$file'" >&2; exit 1 ;; esac
    files+=("$file")
done <"$list"
for file in "${files[@]}"; do $sudo rm -f "$root/$file"; done
# The directories the files were in, deepest first, while empty.
for file in "${files[@]}"; do dirname "$file"; done | sort -u | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2- |
    while IFS= read -r dir; do
        while [ "$dir" != "." ] && [ -d "$root/$dir" ] && [ -z "$(ls -A "$root/$dir")" ]; do
            $sudo rmdir "$root/$dir"
            dir=$(dirname "$dir")
        done
    done
echo "removed quill (${#files[@]} files) from $root" >&2
