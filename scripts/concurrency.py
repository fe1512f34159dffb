#!/usr/bin/env python3
"""Concurrent use of one store: readers while a run checkpoints, and writers at once.

1. Readers: while a training run checkpoints after every window (a write transaction every few milliseconds), four
   readers loop over the same store — `quill complete`, `quill predict --task score`, `quill eval`, `quill runs
   list` — until the run ends. Every read must succeed: no "database is locked", no torn read (each reader checks its
   output is complete).
2. Two writers: two training runs of different names on the same store at once, both checkpointing after every
   window: both must finish, each with its own model.
3. The same name twice: a second run under the name of a live run is refused with a message naming that run, and the
   first is unaffected.

Prints one JSON object with the counts; exits 1 if any check failed.

  scripts/concurrency.py                  # builds a release quill
  scripts/concurrency.py --quill .build/release/quill
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

from quill_build import quill_binary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quill", help="the quill binary (default: build a release one)")
    options = parser.parse_args()
    quill = quill_binary(options.quill)
    failures = []
    env = dict(os.environ, QUILL_THREADS="1")

    with tempfile.TemporaryDirectory(prefix="quill-concurrency-") as work:
        store = os.path.join(work, "store.sqlite")
        rng = random.Random(3)
        vocab = ["".join(rng.choice("abcdefghij") for _ in range(rng.randint(2, 5))) for _ in range(500)]
        corpus = os.path.join(work, "corpus.txt")
        with open(corpus, "w") as f:
            for _ in range(6000):
                f.write(" ".join(rng.choice(vocab) for _ in range(rng.randint(3, 12))) + "\n")
        sample = os.path.join(work, "sample.txt")
        with open(sample, "w") as f:
            f.write(" ".join(vocab[:30]) + "\n" + " ".join(vocab[30:50]) + "\n")

        def quill_run(*args, stdin=None):
            return subprocess.run([quill, *args, "--store", store], cwd=work, env=env, input=stdin,
                                  capture_output=True, text=True)

        def train(name, *extra):
            return subprocess.Popen([quill, "train", "--corpus", corpus, "--name", name, "--hidden", "32",
                                     "--epochs", "2", "--checkpoint-every", "1", "--store", store, *extra],
                                    cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        base = quill_run("train", "--corpus", corpus, "--name", "base", "--hidden", "32", "--epochs", "1")
        if base.returncode != 0:
            sys.exit("training the model the readers read failed:\n" + base.stderr)

        # 1. Readers against a run that checkpoints after every window.
        writer = train("writer")
        counts = {"complete": 0, "predict": 0, "eval": 0, "runs list": 0}
        lock = threading.Lock()

        def reader(kind):
            while writer.poll() is None:
                if kind == "complete":
                    r = quill_run("complete", "--model", "base", "--max-tokens", "3", stdin=vocab[0] + " " + vocab[1])
                    ok = r.returncode == 0 and r.stdout.strip() != ""
                elif kind == "predict":
                    r = quill_run("predict", "--model", "base", "--task", "score", "--input", sample)
                    lines = r.stdout.strip().split("\n")
                    ok = r.returncode == 0 and len(lines) == 2 and all(json.loads(line) for line in lines)
                elif kind == "eval":
                    r = quill_run("eval", "--model", "base", "--text", sample, "--format", "json")
                    ok = r.returncode == 0 and "perplexity" in json.loads(r.stdout)
                else:
                    r = quill_run("runs", "list", "--format", "jsonl")
                    # The writer's run appears once its vocabulary and data are ready; every line is whole.
                    ok = r.returncode == 0 and all(json.loads(line).get("name")
                                                   for line in r.stdout.strip().split("\n"))
                with lock:
                    counts[kind] += 1
                    if not ok or "locked" in r.stderr:
                        failures.append({"check": "reader", "kind": kind, "exit": r.returncode,
                                         "stderr": r.stderr[-300:]})

        threads = [threading.Thread(target=reader, args=(k,)) for k in counts]
        for t in threads:
            t.start()
        _, err = writer.communicate()
        for t in threads:
            t.join()
        if writer.returncode != 0:
            failures.append({"check": "writer under readers", "stderr": err[-300:]})
        checkpoints = int(subprocess.run(
            ["python3", "-c", f"import sqlite3; print(sqlite3.connect({store!r}).execute("
                              "\"SELECT max(step) FROM checkpoints c JOIN runs r ON c.run_id = r.id "
                              "WHERE r.name = 'writer'\").fetchone()[0])"],
            capture_output=True, text=True).stdout.strip() or 0)

        # 2. Two writers at once, then 3. a second run under a live run's name.
        first, second = train("first", "--seed", "1"), train("second", "--seed", "2")
        time.sleep(1.0)
        duplicate = quill_run("train", "--corpus", corpus, "--name", "first", "--hidden", "32", "--replace")
        if duplicate.returncode == 0 or "first" not in duplicate.stderr or "run" not in duplicate.stderr:
            failures.append({"check": "same name refused", "exit": duplicate.returncode,
                             "stderr": duplicate.stderr[-300:]})
        for name, process in (("first", first), ("second", second)):
            _, err = process.communicate()
            if process.returncode != 0:
                failures.append({"check": "two writers", "name": name, "stderr": err[-300:]})
        models = quill_run("models", "list")
        for name in ("base", "writer", "first", "second"):
            if f"{name} " not in models.stdout and f" {name}" not in models.stdout:
                failures.append({"check": "models after", "missing": name})
        check = subprocess.run(["python3", "-c", f"import sqlite3; print(sqlite3.connect({store!r})"
                                                 ".execute('PRAGMA integrity_check').fetchone()[0])"],
                               capture_output=True, text=True).stdout.strip()
        if check != "ok":
            failures.append({"check": "integrity", "result": check})

    print(json.dumps({"reads": counts, "writer_checkpoints": checkpoints, "two_writers_finished":
                      not any(f["check"] == "two writers" for f in failures),
                      "same_name_refused": not any(f["check"] == "same name refused" for f in failures),
                      "integrity": check, "failures": len(failures)}))
    for f in failures:
        print("FAILED: " + json.dumps(f), file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
