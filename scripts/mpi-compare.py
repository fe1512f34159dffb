#!/usr/bin/env python3
"""Largest absolute difference between the tensors of two stored models (scripts/test-mpi.sh).

    mpi-compare.py STORE_A MODEL_A STORE_B MODEL_B   # prints the difference; exit 1 if the tensors' names differ
"""
import sqlite3, struct, sys


def tensors(store, model):
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    (model_id,) = db.execute("SELECT id FROM models WHERE name = ?", (model,)).fetchone()
    rows = db.execute("SELECT name, data FROM tensors WHERE model_id = ? ORDER BY name", (model_id,))
    return {name: struct.unpack(f"<{len(data) // 4}f", data) for name, data in rows}


a, b = tensors(sys.argv[1], sys.argv[2]), tensors(sys.argv[3], sys.argv[4])
if a.keys() != b.keys():
    sys.exit(f"mpi-compare: the models hold different tensors: {sorted(a)} vs {sorted(b)}")
print(max(max(abs(x - y) for x, y in zip(a[k], b[k])) for k in a))
