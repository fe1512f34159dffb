#!/usr/bin/env bash
# Load test of `quill serve` with wrk (docs/serve.md). A model of the ptb-medium shape (2×650 LSTM, PTB's 10k-word
# vocabulary, trained only briefly: the load figures depend on the shape, not the quality) is served with int8
# weights, then:
#   1. typists: 1, 2, 4 … 256 concurrent sessions, each typing PTB valid text into POST /v1/suggest one character per
#      request (its whole text so far, its own session id) at KEYS_PER_SECOND (10) keystrokes a second; the knee,
#      where p99 passes 10 ms, from that ladder; then 16 typists typing flat out (no pause: the most it serves);
#   2. next-token: POST /v1/next at 64 connections, with --max-batch 64 and --max-batch 1, int8 and float32;
#   3. soak: 16 typists for --minutes-soak minutes, sampling the server's RSS every 10 s.
# Ends with a Markdown table (also DIR/report.md); every raw JSON line is in DIR/results.jsonl and DIR/rss.jsonl.
#
#   scripts/load-serve.sh                     # 20 s per run, 10-minute soak: about 16 minutes
#   scripts/load-serve.sh --quick             # 5 s per run, 1-minute soak: about 3 minutes
#   scripts/load-serve.sh --store load.sqlite --minutes-soak 0   # keep the model in (or take it from) load.sqlite
#   scripts/load-serve.sh --out /tmp/load --corpora DIR          # DIR holds ptb/ (default ../shared/corpora)
#
# Environment: TRAIN_MINUTES (training budget; 1, or 0.2 with --quick), LEVELS (typist counts, default
# "1 2 4 8 16 32 64 128 256"), KEYS_PER_SECOND (each typist's pace, default 10), DURATION (seconds per wrk run), QUILL (another quill binary; never built).
# Exit status: 0 every run answered without errors; 1 a run failed or had errors (the table says which); 2 it cannot
# run (no PTB, no wrk, bad options).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "load-serve: $2" >&2; exit "$1"; }
say() { echo "load-serve: $*" >&2; }

quick=0 store= soak_minutes= out= corpora=../shared/corpora
while [ $# -gt 0 ]; do
    case $1 in
        --quick) quick=1 ;;
        --store) store=${2:?--store needs a file}; shift ;;
        --minutes-soak) soak_minutes=${2:?--minutes-soak needs a number}; shift ;;
        --out) out=${2:?--out needs a directory}; shift ;;
        --corpora) corpora=${2:?--corpora needs a directory}; shift ;;
        -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) die 2 "unknown option $1 (see --help)" ;;
    esac
    shift
done
if [ "$quick" = 1 ]; then duration=${DURATION:-5} soak_minutes=${soak_minutes:-1} train_minutes=${TRAIN_MINUTES:-0.2}
else duration=${DURATION:-20} soak_minutes=${soak_minutes:-10} train_minutes=${TRAIN_MINUTES:-1}; fi
levels=${LEVELS:-1 2 4 8 16 32 64 128 256}
pace=${KEYS_PER_SECOND:-10}
[[ $soak_minutes =~ ^[0-9]+([.][0-9]+)?$ ]] || die 2 "--minutes-soak takes a number of minutes (got $soak_minutes)"

train=$corpora/ptb/ptb.train.txt valid=$corpora/ptb/ptb.valid.txt
[ -f "$train" ] && [ -f "$valid" ] || die 2 "PTB not found: need $train and $valid (--corpora DIR)"
command -v wrk >/dev/null || die 2 "wrk not found (apt-get install wrk)"
command -v python3 >/dev/null || die 2 "python3 not found (the report needs it)"
[ -z "${QUILL:-}" ] || [ -x "$QUILL" ] || die 2 "QUILL=$QUILL is not an executable"

quill=${QUILL:-.build/release/quill}
if [ ! -x "$quill" ]; then
    say "no $quill: building it"
    swift build -c release --product quill >&2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/load-serve-work.XXXXXX")
out=${out:-$(mktemp -d "${TMPDIR:-/tmp}/load-serve.XXXXXX")}
mkdir -p "$out"
results=$out/results.jsonl rss=$out/rss.jsonl
: >"$results"
: >"$rss"
server_pid= wrk_pid=

stop_server() {
    [ -n "$server_pid" ] || return 0
    kill -TERM "$server_pid" 2>/dev/null || true
    # It drains the requests in flight; do not wait for ever.
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
}
cleanup() {
    [ -z "$wrk_pid" ] || kill "$wrk_pid" 2>/dev/null || true
    stop_server
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the model ---------------------------------------------------------------------------------------------------
if [ -n "$store" ] && "$quill" models show ptb-medium --store "$store" >"$tmp/model.txt" 2>/dev/null; then
    grep -Eq '^layers: +2$' "$tmp/model.txt" && grep -Eq '^hidden: +650$' "$tmp/model.txt" \
        || die 2 "the model ptb-medium in $store is not 2×650: delete it (quill models delete) or use another store"
    say "using the model ptb-medium in $store"
else
    store=${store:-$tmp/load.sqlite}
    say "training ptb-medium (2×650 LSTM, PTB train's vocabulary) for $train_minutes min into $store"
    if ! "$quill" train --preset ptb-medium --cell lstm --layers 2 --hidden 650 --embedding 650 --epochs 1 \
        --time-budget "$train_minutes" --corpus "$train" --name ptb-medium --replace --store "$store" \
        >"$out/train.log" 2>&1; then
        tr '\r' '\n' <"$out/train.log" | tail -5 >&2
        die 1 "training failed (log: $out/train.log)"
    fi
    tr '\r' '\n' <"$out/train.log" | grep "^model 'ptb-medium'" >&2 || true
    "$quill" models show ptb-medium --store "$store" >"$tmp/model.txt"
fi
vocabulary=$(sed -nE 's/^vocabulary:.*\(([0-9]+) entries.*/\1/p' "$tmp/model.txt")
# --max-batch is newer than some builds: without it, the next-token part runs once, unbatched comparison skipped.
max_batch=false
[[ $("$quill" serve --help 2>&1) == *--max-batch* ]] && max_batch=true
{
    printf '{"phase": "meta", "date": "%s", "cores": %d, ' "$(date -u +%FT%TZ)" "$(nproc)"
    printf '"model": "ptb-medium", "shape": "lstm 2×650", "precision": "int8", '
    printf '"vocabulary": %s, ' "${vocabulary:-null}"
    printf '"seconds_per_run": %s, "soak_minutes": %s, "train_minutes": %s, "max_batch_supported": %s}\n' \
        "$duration" "$soak_minutes" "$train_minutes" "$max_batch"
} >>"$results"

# --- the server --------------------------------------------------------------------------------------------------
# start_server NAME [SERVE OPTION…]: a fresh server (its log is DIR/server-NAME.log); sets server_pid and url.
start_server() {
    local name=$1 log=$out/server-$1.log
    shift
    stop_server
    : >"$log" # before the server starts writing it, so the wait below finds it
    "$quill" serve --model ptb-medium --precision int8 --port 0 --store "$store" "$@" 2>"$log" &
    server_pid=$!
    local tries=0
    until grep -q 'listening on http://' "$log"; do
        kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; server_pid=; die 1 "quill serve ($name) exited"; }
        [ $((tries += 1)) -le 600 ] || die 1 "quill serve ($name) not listening after 60 s (log: $log)"
        sleep 0.1
    done
    url=$(grep -om1 'http://[^/ ]*' "$log")
    # Touch the weights once, so the first run does not pay for page faults.
    for text in the "the company" "the company said"; do
        curl -sf -o /dev/null "$url/v1/suggest" -d "{\"text\": \"$text\", \"k\": 3}" || say "warm-up request failed"
    done
    say "server $name: $url (pid $server_pid)${*:+, with $*}"
}

server_cpu() { # the server's user + system CPU seconds so far
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$server_pid/stat"
}

# Sample the server's VmRSS every 10 s while wrk runs, and once at the end.
sample_rss() {
    local start=$SECONDS next=0
    rss_line() { printf '{"t_s": %d, "rss_kib": %d}\n' $((SECONDS - start)) "$(awk '/^VmRSS:/ {print $2}' "$1")"; }
    while kill -0 "$wrk_pid" 2>/dev/null; do
        if [ $((SECONDS - start)) -ge $next ]; then
            rss_line "/proc/$server_pid/status" >>"$rss"
            next=$((next + 10))
        fi
        sleep 1
    done
    rss_line "/proc/$server_pid/status" >>"$rss"
}

# run_wrk LABEL PHASE SCRIPT CONNECTIONS THREADS SECONDS [, "FIELD": VALUE…] [KEYS_PER_SECOND]: one wrk run. Its JSON line, with the
# label, the connections, the server's CPU seconds and the extra fields, goes to results.jsonl; a summary to stderr.
# The label is also the session-id prefix, so every run's typists start with fresh sessions.
run_wrk() {
    local label=$1 phase=$2 script=$3 connections=$4 threads=$5 seconds=$6 extra=${7:-} cpu0 result
    say "$label: wrk -t $threads -c $connections -d ${seconds}s…"
    cpu0=$(server_cpu)
    wrk -t "$threads" -c "$connections" -d "${seconds}s" --timeout 10s --latency -s "scripts/load/$script.lua" \
        "$url" -- "$valid" "$label" "${8:-$pace}" >"$out/$label.wrk.txt" 2>&1 &
    wrk_pid=$!
    [ "$phase" != soak ] || sample_rss
    wait "$wrk_pid" || say "wrk exited with status $? (output: $out/$label.wrk.txt)"
    wrk_pid=
    result=$(grep -m1 '^{"script"' "$out/$label.wrk.txt" \
        || echo '{"requests": 0, "failed_reason": "wrk printed no result"}')
    printf '{"label": "%s", "phase": "%s", "connections": %d, "server_cpu_s": %.2f%s, %s\n' "$label" "$phase" \
        "$connections" "$(awk -v a="$cpu0" -v b="$(server_cpu)" 'BEGIN { print b - a }')" "$extra" "${result#\{}" \
        >>"$results"
    tail -1 "$results" | python3 scripts/load/report.py line | sed 's/^/load-serve: /' >&2
}

# --- 1. typists, and the knee ------------------------------------------------------------------------------------
start_server typists
for c in $levels; do
    # One connection per thread: each wrk thread's Lua state is one typist.
    run_wrk "typists-$c" typists typist "$c" "$c" "$duration" ", \"keys_per_second\": $pace"
done
run_wrk "flat-out-16" stress typist 16 16 "$duration" ', "keys_per_second": 0' 0

# --- 2. next-token throughput, batched across clients or not -----------------------------------------------------
if [ "$max_batch" = true ]; then
    # int8 (the served precision) and float32: whether batching pays depends on what bounds one stream's step.
    for precision in int8 float32; do
        for mb in 64 1; do
            label=next-$precision-max-batch-$mb
            start_server "$label" --max-batch "$mb" --precision "$precision"
            run_wrk "$label" next next 64 4 "$duration" ", \"max_batch\": $mb, \"precision\": \"$precision\""
        done
    done
else
    say "this quill serve has no --max-batch yet: /v1/next measured once, without the batching comparison"
    run_wrk next-default next next 64 4 "$duration" ', "max_batch": null'
fi

# --- 3. soak -----------------------------------------------------------------------------------------------------
soak_seconds=$(awk -v m="$soak_minutes" 'BEGIN { printf "%d", m * 60 }')
if [ "$soak_seconds" -gt 0 ]; then
    start_server soak
    run_wrk soak-16 soak typist 16 16 "$soak_seconds" ", \"keys_per_second\": $pace"
fi
stop_server

status=0
python3 scripts/load/report.py table "$results" "$rss" | tee "$out/report.md" || status=$?
say "raw JSON lines: $results and $rss; wrk output, server and training logs: $out/"
[ "$status" = 0 ] || say "some runs failed or had errors: see the verdict column"
exit "$status"
