#!/usr/bin/env python3
"""Fault injection: kill -9 a training run at random moments and prove nothing is lost.

For each family (a language model, a translation model) this trains one reference run without interruption, then
repeats the same run KILLS times, each killed with SIGKILL once:

* half of the kills at a random wall-clock moment of the run (uniform over the reference run's duration, so they fall
  in vocabulary building, corpus encoding, training windows, validation and checkpoint writes in proportion to the
  time each takes);
* half at a named moment an outside kill rarely hits, chosen at random: inside the transaction that writes the Nth
  checkpoint (half its tensors written), inside the one that saves the final model, inside the one that stores the
  vocabulary (the process kills itself there: `QUILL_CRASH_AT`, see Sources/QuillStore/CrashPoint.swift).

After every kill it checks, with Python's own sqlite3 (not Quill):
  1. `PRAGMA integrity_check` is ok and `PRAGMA foreign_key_check` finds nothing;
  2. at most about one checkpoint interval of training is lost: the time from the newest surviving checkpoint (or
     the run's start) to the kill, in units of the gap between the two newest checkpoints of the same store (the
     cadence at that moment) or of the reference run's, whichever is longer, is reported, and over 2 fails;
  3. the run then resumes (`--resume RUN`, or starts again when the kill came before the run was recorded) and ends
     with a model whose every tensor is bit-identical to the reference's.

With --disk-full (needs root, to mount a tmpfs of limited size) it instead runs each family's training with the store
on a small filesystem, fills the filesystem once the run has written a checkpoint, and checks that the run stops
with a clear error naming the store and the disk, that the store passes `PRAGMA integrity_check` and keeps its last
checkpoint, and that once space is freed the run resumes and ends bit-identical to the reference.

Prints one JSON object per family (kills per phase, failures, the largest loss against the interval); exits 1 if any
check failed.

  scripts/fault-injection.py                       # 50 kills per family
  scripts/fault-injection.py --kills 10 --family lm --quill .build/release/quill
  scripts/fault-injection.py --disk-full
"""
import argparse
import errno
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

from quill_build import quill_binary


def words(rng, count):
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(2, 7))) for _ in range(count)]


def make_data(work, rng):
    """A language-model corpus (about half a megabyte) and a translation task (each word mapped to another, order reversed)."""
    vocab = words(rng, 3000)
    with open(os.path.join(work, "corpus.txt"), "w") as f:
        for _ in range(12000):
            f.write(" ".join(rng.choice(vocab) for _ in range(rng.randint(3, 12))) + "\n")
    small = vocab[:400]
    mapping = dict(zip(small, words(rng, len(small))))
    for split, n in (("train", 3000), ("valid", 100)):
        with open(os.path.join(work, split + ".src"), "w") as s, open(os.path.join(work, split + ".tgt"), "w") as t:
            for _ in range(n):
                line = [rng.choice(small) for _ in range(rng.randint(2, 8))]
                s.write(" ".join(line) + "\n")
                t.write(" ".join(mapping[w] for w in reversed(line)) + "\n")


FAMILIES = {
    # (the command that starts the run, the command that resumes one)
    "lm": (["train", "--corpus", "corpus.txt", "--name", "m", "--hidden", "48", "--epochs", "2", "--bptt", "20",
            "--batch", "16", "--checkpoint-every", "15"], ["train"]),
    "translation": (["translation", "train", "--source", "train.src", "--target", "train.tgt", "--valid-source",
                     "valid.src", "--valid-target", "valid.tgt", "--name", "m", "--preset", "tiny", "--epochs", "2",
                     "--batch", "32", "--checkpoint-every", "20"], ["translation", "train"]),
}


def utc(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def inspect(store):
    """What the store holds after a kill: integrity, the run, its newest checkpoint's time."""
    if not os.path.exists(store):
        return {"integrity": "ok", "run": None, "status": None, "last_saved": None, "vocabulary": False}
    db = sqlite3.connect(store)
    try:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        if db.execute("PRAGMA foreign_key_check").fetchall():
            integrity = "foreign keys broken"
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "runs" not in tables:
            return {"integrity": integrity, "run": None, "status": None, "last_saved": None, "vocabulary": False}
        vocabulary = db.execute("SELECT count(*) FROM vocabularies").fetchone()[0] > 0
        run = db.execute("SELECT id, status, started_at FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        if run is None:
            return {"integrity": integrity, "run": None, "status": None, "last_saved": None,
                    "vocabulary": vocabulary}
        saved = [utc(r[0]) for r in db.execute(
            "SELECT created_at FROM checkpoints WHERE run_id = ? ORDER BY created_at DESC LIMIT 2", (run[0],))]
        return {"integrity": integrity, "run": run[0], "status": run[1], "vocabulary": vocabulary,
                "last_saved": saved[0] if saved else utc(run[2]), "has_checkpoint": bool(saved),
                # The interval between the two newest checkpoints: the cadence at the moment of the kill.
                "last_gap": saved[0] - saved[1] if len(saved) == 2 else None}
    finally:
        db.close()


def model_digest(store):
    """SHA-256 over the final model's tensors (name, shape, bytes), in name order."""
    db = sqlite3.connect(store)
    try:
        rows = db.execute("""SELECT t.name, t.shape_json, t.data FROM tensors t JOIN models m ON t.model_id = m.id
                             WHERE m.name = 'm' ORDER BY t.name""").fetchall()
    finally:
        db.close()
    digest = hashlib.sha256()
    for name, shape, data in rows:
        digest.update(name.encode() + b"\0" + shape.encode() + b"\0" + data)
    return digest.hexdigest() if rows else None


def checkpoint_interval(store):
    """The longest gap between consecutive checkpoints the reference run kept (it keeps its newest three), in
    seconds: one checkpoint interval."""
    db = sqlite3.connect(store)
    try:
        times = [utc(r[0]) for r in db.execute("SELECT created_at FROM checkpoints ORDER BY created_at")]
    finally:
        db.close()
    if len(times) < 2:
        sys.exit("the reference run kept fewer than two checkpoints: make its checkpoints more frequent")
    return max(b - a for a, b in zip(times, times[1:]))


def run_quill(quill, work, args, store, env=None):
    return subprocess.run([quill] + args + ["--store", store], cwd=work, env=env, capture_output=True, text=True)


def trial(quill, work, family, store, fault, reference_digest, interval):
    start_args, resume_args = FAMILIES[family]
    env = dict(os.environ, QUILL_THREADS="1")
    if fault[0] == "point":
        env["QUILL_CRASH_AT"] = fault[1]
    process = subprocess.Popen([quill] + start_args + ["--store", store], cwd=work, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if fault[0] == "time":
        try:
            process.wait(timeout=fault[1])
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = time.time()
    killed = process.returncode == -signal.SIGKILL
    state = inspect(store)
    result = {"fault": fault[1] if fault[0] == "point" else "time", "killed": killed,
              "integrity": state["integrity"]}
    if not killed:
        result["phase"] = "finished before the kill" if process.returncode == 0 else "failed"
        if process.returncode != 0:
            result["error"] = process.stderr[-400:]
    elif state["run"] is None:
        result["phase"] = "before the run (vocabulary, encoding)"
    elif not state.get("has_checkpoint"):
        result["phase"] = "first interval"
    elif state["status"] == "running":
        result["phase"] = "training"
    else:
        result["phase"] = "after training"
    if killed and state["last_saved"] is not None and state["status"] == "running":
        result["lost_seconds"] = round(killed_at - state["last_saved"], 3)
        gap = max(state["last_gap"] or 0, interval)  # an epoch's last checkpoint can follow another closely
        result["lost_intervals"] = round((killed_at - state["last_saved"]) / gap, 2)
    # Recover: resume the run, or start again when the kill came before it was recorded.
    if state["run"] is None:
        recovery = run_quill(quill, work, start_args, store, dict(os.environ, QUILL_THREADS="1"))
    elif state["status"] != "finished":
        recovery = run_quill(quill, work, resume_args + ["--resume", str(state["run"])], store,
                             dict(os.environ, QUILL_THREADS="1"))
    else:
        recovery = None
    if recovery is not None and recovery.returncode != 0:
        result["recovery_error"] = recovery.stderr[-400:]
    after = inspect(store)
    result["integrity_after"] = after["integrity"]
    result["identical"] = model_digest(store) == reference_digest
    return result


def run_family(quill, family, kills, rng, work):
    start_args, _ = FAMILIES[family]
    # Two uninterrupted runs: they must agree bit for bit, and the faster one times the kills.
    timings = []
    for attempt in range(2):
        reference = os.path.join(work, f"{family}-reference-{attempt}.sqlite")
        began = time.time()
        done = run_quill(quill, work, start_args, reference, dict(os.environ, QUILL_THREADS="1"))
        if done.returncode != 0:
            sys.exit("the reference run failed:\n" + done.stderr)
        db = sqlite3.connect(reference)
        run_started = utc(db.execute("SELECT started_at FROM runs").fetchone()[0])
        db.close()
        timings.append((time.time() - began, run_started - began, model_digest(reference)))
    if timings[0][2] != timings[1][2]:
        sys.exit("two uninterrupted runs ended with different models: nothing to compare resumed runs with")
    duration, before_run, digest = min(timings)
    interval = checkpoint_interval(reference)
    every = int(start_args[start_args.index("--checkpoint-every") + 1])
    db = sqlite3.connect(reference)
    checkpoints = max(1, db.execute("SELECT max(step) FROM checkpoints").fetchone()[0] // every)  # at least written
    db.close()
    points = [f"checkpoint-tensors:{rng.randint(1, checkpoints)}" for _ in range(3)] \
        + ["model-tensors:1", "vocabulary-tokens:1"]
    results = []
    for k in range(kills):
        store = os.path.join(work, f"{family}-{k}.sqlite")
        if k % 2 == 1:
            fault = ("point", rng.choice(points))
        elif k % 6 == 0:  # a third of the timed kills before the run is recorded: vocabulary building, encoding
            fault = ("time", rng.uniform(0.02, 1.0) * before_run)
        else:
            fault = ("time", before_run + rng.uniform(0.0, 0.95) * (duration - before_run))
        r = trial(quill, work, family, store, fault, digest, interval)
        results.append(r)
        print(json.dumps({"family": family, "trial": k + 1, **r}), file=sys.stderr, flush=True)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(store + suffix):
                os.remove(store + suffix)
    # One interval, plus the time to write a checkpoint and to notice the process died (timer granularity).
    failures = [r for r in results
                if r["integrity"] != "ok" or r["integrity_after"] != "ok" or not r["identical"]
                or "recovery_error" in r or "error" in r or r.get("lost_intervals", 0) > 2.0]
    phases = {}
    for r in results:
        key = "inside " + r["fault"].split(":")[0] if r["fault"] != "time" and r["killed"] else r["phase"]
        phases[key] = phases.get(key, 0) + 1
    lost = [r["lost_seconds"] for r in results if "lost_seconds" in r]
    return {"family": family, "kills": kills, "killed": sum(r["killed"] for r in results),
            "phases": phases, "integrity_ok": sum(r["integrity"] == "ok" and r["integrity_after"] == "ok"
                                                  for r in results),
            "resumed_identical": sum(r["identical"] for r in results),
            "reference_seconds": round(duration, 2), "seconds_before_the_run": round(before_run, 2),
            "checkpoint_interval_seconds": round(interval, 3),
            "max_lost_seconds": max(lost) if lost else None,
            "max_lost_intervals": max((r["lost_intervals"] for r in results if "lost_intervals" in r), default=None),
            "failures": len(failures)}, failures


def disk_full(quill, family, work):
    """Fills the store's filesystem mid-run; the run must fail cleanly and resume once space is freed."""
    start_args, resume_args = FAMILIES[family]
    env = dict(os.environ, QUILL_THREADS="1")
    reference = os.path.join(work, family + "-reference.sqlite")
    if run_quill(quill, work, start_args, reference, env).returncode != 0:
        sys.exit("the reference run failed")
    digest = model_digest(reference)
    mount = os.path.join(work, family + "-small")
    os.mkdir(mount)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mount], check=True)
    result = {"family": family}
    try:
        store = os.path.join(mount, "store.sqlite")
        process = subprocess.Popen([quill] + start_args + ["--store", store], cwd=work, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        while process.poll() is None and not (inspect(store).get("has_checkpoint")):
            time.sleep(0.05)
        # Leave at most 64 KiB: the next checkpoint cannot fit. Filled a MiB at a time, as the run writes too: a
        # write sized from one statvfs can meet ENOSPC when the run's WAL grew meanwhile (a full disk is the aim).
        filler = os.path.join(mount, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    free = os.statvfs(mount)
                    left = free.f_bavail * free.f_frsize - 65536
                    if left <= 0:
                        break
                    f.write(b"\0" * min(left, 1 << 20))
                    f.flush()
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
        _, err = process.communicate()
        state = inspect(store)
        result.update({"exit": process.returncode, "error": " ".join(err.split())[-400:],
                       "integrity": state["integrity"], "kept_checkpoint": bool(state.get("has_checkpoint"))})
        os.remove(filler)
        resumed = run_quill(quill, work, resume_args + ["--resume", str(state["run"])], store, env)
        result["resumed"] = resumed.returncode == 0
        result["identical"] = model_digest(store) == digest
        result["integrity_after"] = inspect(store)["integrity"]
    finally:
        subprocess.run(["umount", mount], check=False)
    ok = (result["exit"] not in (0, None) and "disk is full" in result["error"] and result["integrity"] == "ok"
          and result["kept_checkpoint"] and result["resumed"] and result["identical"]
          and result["integrity_after"] == "ok")
    return result, ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=50, help="kills per family (default 50)")
    parser.add_argument("--family", choices=["lm", "translation", "both"], default="both")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quill", help="the quill binary (default: build a release one)")
    parser.add_argument("--disk-full", action="store_true",
                        help="fill the store's filesystem mid-run instead of killing (needs root: mounts a tmpfs)")
    options = parser.parse_args()
    quill = quill_binary(options.quill)
    rng = random.Random(options.seed)
    failed = False
    with tempfile.TemporaryDirectory(prefix="quill-faults-") as work:
        make_data(work, random.Random(7))
        families = ["lm", "translation"] if options.family == "both" else [options.family]
        if options.disk_full:
            for family in families:
                result, ok = disk_full(quill, family, work)
                print(json.dumps({**result, "ok": ok}), flush=True)
                failed = failed or not ok
            sys.exit(1 if failed else 0)
        for family in families:
            summary, failures = run_family(quill, family, options.kills, rng, work)
            print(json.dumps(summary), flush=True)
            for f in failures:
                print("FAILED: " + json.dumps(f), file=sys.stderr)
            failed = failed or bool(failures)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
