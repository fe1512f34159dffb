#!/usr/bin/env bash
# Builds a Debian package of quill from the installed tree: scripts/install.sh /usr into a staging root (DESTDIR),
# then DEBIAN/control, whose Depends are the packages of the shared libraries the binary links (dpkg-shlibdeps, or
# `dpkg -S` on each library when dpkg-dev is missing) with the versions this machine has as minimums.
#
#   scripts/package-deb.sh [OUTPUT-DIRECTORY]     # default dist/; prints the .deb's path
#   sudo apt install ./dist/quill_0.19.0_amd64.deb
#   QUILL_MAINTAINER="Name <email>" scripts/package-deb.sh   # the Maintainer field (a placeholder by default)
#
# The package holds /usr/bin/quill, its completions and manual pages; `apt remove quill` removes them.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
DESTDIR="$root" scripts/install.sh /usr
# dpkg owns the files: the list for scripts/uninstall.sh has no place in the package.
rm -rf "$root/usr/share/quill"
version=$("$root/usr/bin/quill" --version)
arch=$(dpkg --print-architecture)

libraries=$(ldd "$root/usr/bin/quill" | awk '/=> \// { print $3 }')
depends=""
for library in $libraries; do
    owner=$(dpkg -S "$library" 2>/dev/null || dpkg -S "$(readlink -f "$library")" 2>/dev/null || true)
    [ -n "$owner" ] || { echo "package-deb: no Debian package owns $library" >&2; exit 1; }
    package=${owner%%:*}
    installed=$(dpkg-query -W -f='${Version}' "$package")
    depends+="$package (>= ${installed%%-*}), "
done
depends=$(echo "${depends%, }" | tr ',' '\n' | sed 's/^ //' | sort -u | paste -sd, - | sed 's/,/, /g')

mkdir -p "$root/DEBIAN" "$root/usr/share/doc/quill"
cp LICENSE "$root/usr/share/doc/quill/copyright" 2>/dev/null ||
    echo "Quill: see the project's repository for its licence." >"$root/usr/share/doc/quill/copyright"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: quill
Version: $version
Architecture: $arch
Maintainer: ${QUILL_MAINTAINER:-The Quill authors <quill@invalid>}
Installed-Size: $size
Depends: $depends
Section: science
Priority: optional
Description: model text as sequences: tokenize, train and run recurrent language models
 Quill tokenizes text with ICU, builds vocabularies, trains RNN, LSTM and GRU language
 models and translation models, and keeps them in one SQLite store, behind the quill
 command-line tool (with shell completions and manual pages).
CONTROL
deb="$out/quill_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$deb" >&2
echo "$deb"
