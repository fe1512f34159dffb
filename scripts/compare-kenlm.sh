#!/usr/bin/env bash
# Quill's modified Kneser-Ney 5-gram beside KenLM's `lmplz` on PTB and WikiText-2 (opt-in, not part of the test
# command; a few minutes on a release build). For each corpus and each tool it measures, with `/usr/bin/time`, the
# wall-clock time and the peak resident set (median of RUNS runs, default 3):
#
#   Quill   quill vocab build + quill ngram train (count, build, store in SQLite), then quill ngram eval on the test text
#   KenLM   lmplz -o 5 (ARPA written to a file), build_binary (ARPA -> probing binary), and query -v summary on the
#           test text, once from the ARPA and once from the binary
#
# and prints a Markdown table with the test perplexities and the file sizes (the Quill store after training, the ARPA
# file, the binary). KenLM comes from the `kenlm` source distribution on PyPI (KENLM_VERSION, default 0.3.0), built with
# CMake into KENLM_DIR (default /tmp/kenlm) when its lmplz, query and build_binary are missing; the apt packages it
# needs (cmake, Boost program_options/system/thread/test, zlib, bzip2, xz) are installed when missing and running as
# root. Quill is built with `swift build -c release --product quill` unless QUILL names a binary.
#
# The same corpus for both: lmplz refuses `<unk>` in its input (it reserves it) and counts an empty line as a sentence
# `<s> </s>`, while Quill reads `<unk>` as an ordinary word and skips lines without a word. So KenLM gets a copy of each
# split with `<unk>` spelt UNKWORD (not in either corpus) and lines of spaces only dropped: the same sentences and
# tokens, and the same n-gram counts. No pruning, no --discount_fallback.
#
#   QUILL=/tmp/quill scripts/compare-kenlm.sh         # use that quill binary
#   scripts/compare-kenlm.sh --corpora DIR            # DIR holds ptb/ and wikitext2/ (default ../shared/corpora)
#   scripts/compare-kenlm.sh --runs 5                 # median of 5 (default 3); LMPLZ_MEMORY sets lmplz -S (default 4G)
set -euo pipefail
cd "$(dirname "$0")/.."

corpora=../shared/corpora
runs=${RUNS:-3}
kenlm=${KENLM_DIR:-/tmp/kenlm}
kenlm_version=${KENLM_VERSION:-0.3.0}
lmplz_memory=${LMPLZ_MEMORY:-4G}
while [ $# -gt 0 ]; do
    case "$1" in
        --corpora) corpora="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ -d "$corpora/ptb" ] || { echo "no $corpora/ptb: nothing to measure" >&2; exit 0; }

# --- tools ------------------------------------------------------------------------------------------------------
need_apt=()
[ -x /usr/bin/time ] || need_apt+=(time)
build_kenlm=false
for tool in lmplz query build_binary; do [ -x "$kenlm/build/bin/$tool" ] || build_kenlm=true; done
if $build_kenlm; then
    command -v cmake >/dev/null || need_apt+=(cmake)
    command -v g++ >/dev/null || need_apt+=(build-essential)
    [ -f /usr/include/boost/program_options.hpp ] || need_apt+=(libboost-program-options-dev)
    [ -f /usr/include/boost/system/error_code.hpp ] || need_apt+=(libboost-system-dev)
    [ -f /usr/include/boost/thread.hpp ] || need_apt+=(libboost-thread-dev)
    [ -f /usr/include/boost/test/unit_test.hpp ] || need_apt+=(libboost-test-dev)
    [ -f /usr/include/zlib.h ] || need_apt+=(zlib1g-dev)
    [ -f /usr/include/bzlib.h ] || need_apt+=(libbz2-dev)
    [ -f /usr/include/lzma.h ] || need_apt+=(liblzma-dev)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing ${need_apt[*]}" >&2
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >&2
    else
        echo "missing: ${need_apt[*]} (apt-get install them, or run as root)" >&2; exit 1
    fi
fi

if $build_kenlm; then
    if [ ! -f "$kenlm/lm/builder/lmplz_main.cc" ]; then
        # pip prepares the sdist's metadata before saving it; in a throwaway venv with setuptools and wheel, and
        # without build isolation, so that it does not build the `cmake` build dependency from source.
        venv="$kenlm-venv"
        [ -x "$venv/bin/pip" ] || python3 -m venv "$venv" >&2
        "$venv/bin/pip" install -q setuptools wheel >&2
        "$venv/bin/pip" download "kenlm==$kenlm_version" --no-binary :all: --no-deps --no-build-isolation \
            -d "$kenlm-src" >&2
        mkdir -p "$kenlm"
        tar xzf "$kenlm-src/kenlm-$kenlm_version.tar.gz" -C "$kenlm" --strip-components=1
        [ -f "$kenlm/lm/builder/lmplz_main.cc" ] || { echo "the kenlm $kenlm_version sdist has no lmplz source" >&2; exit 1; }
    fi
    echo "building KenLM $kenlm_version in $kenlm/build" >&2
    nice -n 5 cmake -S "$kenlm" -B "$kenlm/build" -DCMAKE_BUILD_TYPE=Release >&2
    nice -n 5 cmake --build "$kenlm/build" -j2 --target lmplz query build_binary >&2
fi
lmplz=$kenlm/build/bin/lmplz
query=$kenlm/build/bin/query
build_binary=$kenlm/build/bin/build_binary

if [ -z "${QUILL:-}" ]; then
    swift build -c release --product quill >&2
    QUILL=.build/release/quill
fi
quill=$QUILL

work=$(mktemp -d /tmp/compare-kenlm.XXXXXX)
trap 'rm -rf "$work"' EXIT

# --- measuring --------------------------------------------------------------------------------------------------
# timed LABEL CMD...: runs CMD (stdin/stdout as given) under /usr/bin/time at nice 5, appends "seconds kilobytes" to
# $work/LABEL.times; CMD's stderr goes to $work/LABEL.log.
timed() {
    local label=$1; shift
    local t="$work/$label.t"
    if ! /usr/bin/time -f '%e %M' -o "$t" nice -n 5 "$@" 2>>"$work/$label.log"; then
        echo "failed: $* (see below)" >&2; tail -20 "$work/$label.log" >&2; exit 1
    fi
    tail -1 "$t" >> "$work/$label.times"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
seconds() { cut -d' ' -f1 < "$work/$1.times" | median; }
mib() { cut -d' ' -f2 < "$work/$1.times" | median | awk '{ printf "%.0f", $1 / 1024 }'; }
size_mib() { du -cb "$@" | tail -1 | awk '{ printf "%.1f", $1 / 1048576 }'; }

rows=()
# name train test
measure() {
    local name=$1 train=$2 test=$3
    echo "== $name" >&2

    # KenLM's copies: <unk> as an ordinary word, no empty sentences (see the header).
    if grep -qw UNKWORD "$train" "$test"; then echo "UNKWORD occurs in $name; pick another spelling" >&2; exit 1; fi
    local ktrain="$work/$name.train.kenlm" ktest="$work/$name.test.kenlm"
    sed 's/<unk>/UNKWORD/g' "$train" | grep -v '^[[:space:]]*$' > "$ktrain"
    sed 's/<unk>/UNKWORD/g' "$test" | grep -v '^[[:space:]]*$' > "$ktest"

    local store="$work/$name.sqlite" arpa="$work/$name.arpa" binary="$work/$name.binary"
    local i
    for ((i = 1; i <= runs; i++)); do
        echo "  run $i/$runs" >&2
        rm -f "$store" "$store"-* "$arpa" "$binary"
        timed "$name-quill-vocab" "$quill" vocab build --corpus "$train" --level whitespace --name words \
            --store "$store" > /dev/null
        timed "$name-quill-train" "$quill" ngram train --corpus "$train" --vocabulary words --order 5 --name kn5 \
            --store "$store" > /dev/null
        timed "$name-quill-eval" "$quill" ngram eval --model kn5 --text "$test" --format json --store "$store" \
            > "$work/$name-quill-eval.json"
        timed "$name-lmplz" "$lmplz" -o 5 -S "$lmplz_memory" -T "$work" --text "$ktrain" --arpa "$arpa" < /dev/null
        timed "$name-build-binary" "$build_binary" "$arpa" "$binary" > /dev/null
        timed "$name-query-arpa" "$query" -v summary "$arpa" < "$ktest" > "$work/$name-query-arpa.out"
        timed "$name-query-binary" "$query" -v summary "$binary" < "$ktest" > "$work/$name-query-binary.out"
    done

    local qppl kin kex koov bin bex
    qppl=$(sed -E 's/.*"perplexity":([0-9.]+).*/\1/' "$work/$name-quill-eval.json")
    kin=$(awk -F'\t' '/^Perplexity including OOVs/ { print $2 }' "$work/$name-query-arpa.out")
    kex=$(awk -F'\t' '/^Perplexity excluding OOVs/ { print $2 }' "$work/$name-query-arpa.out")
    koov=$(awk -F'\t' '/^OOVs/ { print $2 }' "$work/$name-query-arpa.out")
    bin=$(awk -F'\t' '/^Perplexity including OOVs/ { print $2 }' "$work/$name-query-binary.out")
    bex=$(awk -F'\t' '/^Perplexity excluding OOVs/ { print $2 }' "$work/$name-query-binary.out")
    local quill_build
    quill_build=$(awk -v a="$(seconds "$name-quill-vocab")" -v b="$(seconds "$name-quill-train")" \
        'BEGIN { printf "%.2f", a + b }')

    rows+=("| $name | Quill \`vocab build\` + \`ngram train\` → store; \`ngram eval\` | $(seconds "$name-quill-vocab") + $(seconds "$name-quill-train") = $quill_build | $(mib "$name-quill-vocab") / $(mib "$name-quill-train") | $(size_mib "$store"*) (SQLite store) | $(printf '%.2f' "$qppl") | $(seconds "$name-quill-eval") | $(mib "$name-quill-eval") |")
    rows+=("| $name | KenLM \`lmplz -o 5 -S $lmplz_memory\` → ARPA; \`query\` on the ARPA | $(seconds "$name-lmplz") | $(mib "$name-lmplz") | $(size_mib "$arpa") (ARPA) | $(printf '%.2f / %.2f (OOVs %s)' "$kin" "$kex" "$koov") | $(seconds "$name-query-arpa") | $(mib "$name-query-arpa") |")
    rows+=("| $name | KenLM \`build_binary\` (probing) → binary; \`query\` on the binary | +$(seconds "$name-build-binary") | $(mib "$name-build-binary") | $(size_mib "$binary") (binary) | $(printf '%.2f / %.2f' "$bin" "$bex") | $(seconds "$name-query-binary") | $(mib "$name-query-binary") |")
}

measure ptb "$corpora/ptb/ptb.train.txt" "$corpora/ptb/ptb.test.txt"
if [ -d "$corpora/wikitext2" ]; then
    measure wikitext2 "$corpora/wikitext2/wiki.train.tokens" "$corpora/wikitext2/wiki.test.tokens"
fi

echo "Modified Kneser-Ney 5-gram, median of $runs runs (\`/usr/bin/time\`, nice 5), $(nproc) cores; KenLM $kenlm_version"
echo "(PyPI sdist, CMake Release, KENLM_MAX_ORDER 6), \`lmplz -o 5 -S $lmplz_memory -T $work\`, no pruning; quill $quill."
echo "Quill's build memory is vocab build / ngram train; KenLM's perplexity is including / excluding OOVs."
echo
echo "| corpus | tool | build (s) | build peak RSS (MiB) | model size (MiB) | test perplexity | eval (s) | eval peak RSS (MiB) |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
