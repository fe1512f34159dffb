#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/, a package of their own, with --sanitize=fuzzer and --sanitize=address) and
# runs each for N executions; prints executions, executions per second and the result per harness. A crashing
# input is kept in fuzz/crashes/<harness>/ (libFuzzer stops at the first); make it a regression test in Tests/.
# Installs nothing beyond scripts/setup.sh's system libraries. See docs/reliability.md.
#
#   scripts/fuzz.sh                         # every harness, 10,000,000 executions each
#   scripts/fuzz.sh --runs 100000 keys utf8
#   scripts/fuzz.sh --max-time 600 store    # also stop after 600 s (libFuzzer's -max_total_time)
#
# The corpus each harness grows is kept in fuzz/.build/corpus/<harness> (seeded from the repository's fixtures and
# fuzz/seeds), so a second run starts where the first stopped; logs go to fuzz/.build/logs/<harness>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
all=(utf8 tokenizer safetensors vocabulary-file store keys)
runs=10000000 max_time=0 harnesses=()
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=$2; shift 2 ;;
        --max-time) max_time=$2; shift 2 ;;
        -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
        *) harnesses+=("$1"); shift ;;
    esac
done
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${all[@]}")
for h in "${harnesses[@]}"; do
    [[ " ${all[*]} " == *" $h "* ]] || { echo "fuzz.sh: no harness '$h' (harnesses: ${all[*]})" >&2; exit 2; }
done

scripts/setup.sh
# `--sanitize=fuzzer` makes SwiftPM link libFuzzer's `main`; but it hands swiftc `-sanitize=fuzzer -sanitize=address`
# as two flags, of which the last wins, so nothing would be instrumented for coverage: the one flag
# `-sanitize=fuzzer,address` comes last.
build=(swift build -c release --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address)
(cd fuzz && "${build[@]}")
bin=$(cd fuzz && "${build[@]}" --show-bin-path)

# Seeds from the repository into directory $2: its fixtures where they exist, and fuzz/seeds/<harness>. Seeds are
# small (the corpus's first 4 KB, the safetensors fixtures under 10 KB, the stores and vocabularies that
# fuzz/seeds/make-seeds.sh makes): libFuzzer's input length limit is the longest seed's, and a longer input slows every
# execution without reaching more code.
seed() {
    case "$1" in
        utf8 | tokenizer) head -c 4096 corpora/default/valid.txt >"$2/valid-head.txt" ;;
        safetensors) find Tests/Fixtures -name '*.safetensors' -size -10k -exec cp {} "$2" \; ;;
    esac
    if [ -d "fuzz/seeds/$1" ]; then cp fuzz/seeds/"$1"/* "$2"; fi
}

# Inputs longer than this are not tried (libFuzzer's -max_len). The tokenizer's and the key decoder's cost grows with
# the input while their code paths do not: 1 KB doubles the tokenizer's executions per second, and 256 bytes hold any
# key sequence and the start and end of a bracketed paste (left alone, libFuzzer grows the key decoder's inputs to
# kilobytes and its speed falls from about 14,000 to 1,700 executions per second).
max_len() {
    case "$1" in
        tokenizer) echo 1024 ;;
        keys) echo 256 ;;
        *) echo 0 ;;  # the longest seed's length
    esac
}

# Swift's own crash backtracer would run inside ASan's report (and trip it); libFuzzer prints the stack itself.
export SWIFT_BACKTRACE=enable=no
# AddressSanitizer without what only a report needs: no allocation stacks (a crash's own stack is still printed; replay
# the kept input for the rest), no filling of new blocks, a 16 MB quarantine for use-after-free. SQLite and ICU allocate
# much; these settings make the store harness about 1.4 times faster. A caller's ASAN_OPTIONS wins.
export ASAN_OPTIONS=${ASAN_OPTIONS:-malloc_context_size=0:max_malloc_fill_size=0:quarantine_size_mb=16}
failed=0
printf '%-16s %12s %10s  %s\n' harness executions 'exec/s' result
for h in "${harnesses[@]}"; do
    corpus=fuzz/.build/corpus/$h crashes=fuzz/crashes/$h log=fuzz/.build/logs/$h.log
    mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
    seed_dir=$(mktemp -d)
    seed "$h" "$seed_dir"
    # -timeout: an input that runs 30 s is a hang, kept like a crash.
    "$bin/fuzz-$h" -runs="$runs" -max_total_time="$max_time" -max_len="$(max_len "$h")" -timeout=30 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$corpus" "$seed_dir" >"$log" 2>&1 &
    pid=$!
    status=0
    wait "$pid" || status=$?
    # A harness's scratch files (FuzzSupport.ScratchFile) outlive a crash or a hang; they carry its process id.
    rm -rf "$seed_dir" /dev/shm/quill-fuzz-"$pid"-* /tmp/quill-fuzz-"$pid"-*
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [ "$status" -eq 0 ]; then
        result=ok
    elif [ "$status" -eq 72 ] && grep -q 'libFuzzer: run interrupted' "$log"; then
        failed=1  # stopped by hand (SIGINT: libFuzzer's exit code 72): no crash, but not the run asked for
        result="interrupted, no crash"
    else
        failed=1
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        result="FAILED (exit $status) ${artifact:-see $log}"
    fi
    printf '%-16s %12s %10s  %s\n' "$h" "${executions:-?}" "${speed:-?}" "$result"
done
exit "$failed"
