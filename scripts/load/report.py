#!/usr/bin/env python3
"""Summaries of scripts/load-serve.sh's raw JSON lines (stdlib only).

  report.py line < ONE_JSON_LINE          one line for the terminal: a run's rate, latency and errors
  report.py table RESULTS.jsonl RSS.jsonl the Markdown table and the knee, next-token and soak figures;
                                          exits 1 if any run failed or had errors
"""
import json
import sys

P99_LIMIT_MS = 10.0


def errors(run):
    """Non-2xx responses plus socket errors (wrk's errors.status is a subset of the non-2xx)."""
    e = run.get("errors", {})
    return run.get("non2xx", 0) + sum(e.get(k, 0) for k in ("connect", "read", "write", "timeout"))


def verdict(run):
    """'ok', 'ERRORS' (some requests failed: the latencies mix in the failures) or 'FAILED' (no 2xx at all)."""
    if run.get("requests", 0) - run.get("non2xx", 0) <= 0:
        return "FAILED"
    return "ERRORS" if errors(run) else "ok"


def why(run):
    if "failed_reason" in run:
        return run["failed_reason"]
    statuses = ", ".join(f"{count} × HTTP {status}" for status, count in sorted(run.get("statuses", {}).items()))
    sockets = ", ".join(f"{count} {kind}" for kind, count in sorted(run.get("errors", {}).items())
                        if kind != "status" and count)
    return "; ".join(part for part in (statuses, sockets and f"socket errors: {sockets}") if part)


def line(run):
    v, lat = verdict(run), run.get("latency_ms", {})
    head = f"{run.get('label', '?')}: "
    if v == "FAILED":
        return head + f"FAILED, no 2xx response in {run.get('requests', 0)} requests ({why(run) or 'nothing answered'})"
    text = (head + f"{run['ok_per_s']:.1f} req/s, p50 {lat['p50']:.2f} ms, p99 {lat['p99']:.2f} ms, "
            f"max {lat['max']:.1f} ms; wrk {cpu_share(run, 'wrk_cpu_s')}, server {cpu_share(run, 'server_cpu_s')}")
    return text + (f"; {errors(run)} ERRORS ({why(run)})" if v == "ERRORS" else "")


def cpu_share(run, key):
    """CPU seconds over the run's wall time, as a share of one core."""
    if key not in run or not run.get("duration_s"):
        return "-"
    return f"{100 * run[key] / run['duration_s']:.0f}%"


def knee(typists):
    """The closed-loop knee: the last level with p99 within the limit and the first above it."""
    usable = [r for r in typists if verdict(r) != "FAILED"]
    if not usable:
        return "no typist level answered: no knee"
    above = next((i for i, r in enumerate(usable) if r["latency_ms"]["p99"] > P99_LIMIT_MS), None)
    describe = lambda r: (f"{r['connections']} typist{'s' if r['connections'] > 1 else ''} at "
                          f"{r['ok_per_s']:.0f} req/s (p99 {r['latency_ms']['p99']:.2f} ms)")
    if above is None:
        return f"not reached: p99 ≤ {P99_LIMIT_MS:g} ms up to {describe(usable[-1])}, the top of the ladder"
    if above == 0:
        return f"below the ladder: p99 > {P99_LIMIT_MS:g} ms already at {describe(usable[0])}"
    return (f"≈ {usable[above - 1]['ok_per_s']:.0f} req/s: the last level within {P99_LIMIT_MS:g} ms is "
            f"{describe(usable[above - 1])}, the first above is {describe(usable[above])}")


def table(results_path, rss_path):
    rows = [json.loads(l) for l in open(results_path) if l.startswith("{")]
    meta = next((r for r in rows if r.get("phase") == "meta"), {})
    runs = [r for r in rows if r.get("phase") != "meta"]
    out = []
    out.append(f"## quill serve under load: {meta.get('model', '?')} ({meta.get('shape', '?')}, vocabulary "
               f"{meta.get('vocabulary', '?')}, {meta.get('precision', '?')}), {meta.get('cores', '?')} cores, "
               f"{meta.get('seconds_per_run', '?')} s per run")
    out.append("")
    out.append("| run | connections | requests | req/s (2xx) | p50 ms | p90 ms | p99 ms | max ms | errors "
               "| wrk CPU | server CPU | verdict |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in runs:
        v = verdict(r)
        # A failed run's latencies are those of its errors: not figures to quote.
        lat = r.get("latency_ms", {}) if v != "FAILED" else {}
        ms = lambda key: f"{lat[key]:.2f}" if key in lat else "-"
        out.append(f"| {r['label']} | {r.get('connections', '-')} | {r.get('requests', 0)} "
                   f"| {r.get('ok_per_s', 0):.1f} | {ms('p50')} | {ms('p90')} | {ms('p99')} | {ms('max')} "
                   f"| {errors(r)} | {cpu_share(r, 'wrk_cpu_s')} | {cpu_share(r, 'server_cpu_s')} "
                   f"| {v if v == 'ok' else f'**{v}**: {why(r)}'} |")
    out.append("")
    out.append("CPU is a share of one core over the run (100% = one core busy). Latencies of runs with errors "
               "include the failed requests.")
    out.append("")

    typists = sorted((r for r in runs if r.get("phase") == "typists"), key=lambda r: r["connections"])
    if typists:
        pace = typists[0].get("keys_per_second", "?")
        out.append(f"- **Knee** (p99 passes {P99_LIMIT_MS:g} ms) with typists at {pace} keystrokes a second: "
                   f"{knee(typists)}. A typist sends its next keystroke after the answer and its pause, so this "
                   "is close to but not an open-loop (constant-rate) load: when answers slow, the offered rate "
                   "drops a little; the true knee is at or below these rates.")
    for r in runs:
        if r.get("phase") == "stress" and verdict(r) != "FAILED":
            out.append(f"- **Flat out**: {r['connections']} typists without pauses get {r['ok_per_s']:.0f} "
                       f"keystrokes/s answered (p50 {r['latency_ms']['p50']:.2f} ms, p99 "
                       f"{r['latency_ms']['p99']:.2f} ms): the most the server answers, not a latency target.")

    nxt = {(r.get("precision", "int8"), r.get("max_batch")): r for r in runs if r.get("phase") == "next"}
    if nxt:
        def rate(r):
            return f"{r['ok_per_s']:.1f} req/s" if verdict(r) != "FAILED" else f"FAILED ({why(r)})"
        for precision in ("int8", "float32"):
            if (precision, 64) in nxt and (precision, 1) in nxt:
                a, b = nxt[(precision, 64)], nxt[(precision, 1)]
                ratio = (f"{a['ok_per_s'] / b['ok_per_s']:.2f}×" if verdict(a) != "FAILED" and verdict(b) != "FAILED"
                         else "n/a (a run failed)")
                out.append(f"- **Next-token**, {precision}, 64 connections: --max-batch 64 {rate(a)}, --max-batch 1 "
                           f"{rate(b)}; batching gives {ratio}.")
        if (None, None) in nxt or all(k[1] is None for k in nxt):
            r = next(iter(nxt.values()))
            out.append(f"- **Next-token** at 64 connections: {rate(r)} with the server's default; this quill "
                       "serve has no --max-batch, so no batching ratio.")

    samples = [json.loads(l) for l in open(rss_path) if l.startswith("{")] if rss_path else []
    if samples:
        mib = lambda s: s["rss_kib"] / 1024
        first, last = samples[0], samples[-1]
        # Growth after the first minute, when the sessions and caches have filled: a leak keeps growing.
        minute = [s for s in samples if s["t_s"] <= 60][-1] if last["t_s"] >= 120 else first
        growth = mib(last) - mib(minute)
        out.append(f"- **Soak** ({meta.get('soak_minutes', '?')} min, 16 typists, {len(samples)} RSS samples): "
                   f"first {mib(first):.1f} MiB, max {max(map(mib, samples)):.1f} MiB, last {mib(last):.1f} MiB; "
                   f"growth from {minute['t_s']} s to the end ({last['t_s']} s): {growth:+.1f} MiB "
                   f"({100 * growth / mib(minute):+.1f}%)"
                   + (" (a soak under 2 minutes: growth from the start)." if minute is first else "."))
    print("\n".join(out))
    return 1 if any(verdict(r) != "ok" for r in runs) else 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "line":
        print(line(json.loads(sys.stdin.read())))
        return 0
    if len(argv) in (3, 4) and argv[1] == "table":
        return table(argv[2], argv[3] if len(argv) == 4 else None)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
