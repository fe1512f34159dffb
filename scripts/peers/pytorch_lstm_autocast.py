#!/usr/bin/env python3
"""Peer for scripts/bench-train.sh --precision bfloat16: PyTorch's best CPU mode for the nn.LSTM language model of
../shared/bench/pytorch_lstm.py, i.e. its training loop under `torch.autocast("cpu", dtype=torch.bfloat16)` (float32
master weights and optimizer, bfloat16 operands where autocast's CPU policy casts them: the LSTM and the Linear).

Same shapes, data and window as the shared script's `measure_train`: random ids, state carried, per timed window
forward, mean cross-entropy, backward, clip 5, SGD (lr 1); median window after the warm-up. Prints the shared
script's JSON with `"precision": "bfloat16-autocast"`, or `{"error": ...}` when autocast fails on this build.

  python pytorch_lstm_autocast.py --threads 2 --configs ptb-small,ptb-medium
"""
import argparse, json, os, statistics, sys, time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "bench"))
from pytorch_lstm import CONFIGS, LM, detach, flops_per_token  # noqa: E402  the peer's own model and shapes


def measure_train(cfg, windows):
    V, H, L, T, B = cfg["V"], cfg["H"], cfg["L"], cfg["T"], cfg["B"]
    model = LM(V, H, L)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    loss_fn = nn.CrossEntropyLoss()
    data = torch.randint(0, V, (T * windows + 1, B))
    state = (torch.zeros(L, B, H), torch.zeros(L, B, H))
    times = []
    for w in range(windows):
        x, y = data[w * T:(w + 1) * T], data[w * T + 1:(w + 1) * T + 1]
        t0 = time.perf_counter()
        state = detach(state)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits, state = model(x, state)
            loss = loss_fn(logits.view(-1, V).float(), y.reshape(-1))
        state = tuple(s.float() for s in state)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        times.append(time.perf_counter() - t0)
    times = times[max(2, windows // 5):]
    return T * B / statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--configs", default="ptb-small,ptb-medium")
    ap.add_argument("--windows", type=int, default=30)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    for name in args.configs.split(","):
        cfg = CONFIGS[name]
        base = dict(peer="pytorch", version=torch.__version__, config=name, threads=args.threads, **cfg,
                    precision="bfloat16-autocast", flops_per_token=flops_per_token(**cfg))
        windows = args.windows if cfg["H"] < 1000 else max(8, args.windows // 3)
        try:
            v = measure_train(cfg, windows)
        except Exception as error:  # an autocast path this build lacks: say so, do not invent a figure
            print(json.dumps(dict(base, error=f"{type(error).__name__}: {error}")), flush=True)
            continue
        print(json.dumps(dict(base, measure="train_tokens_per_s", value=round(v, 1),
                              gflops=round(v * 3 * base["flops_per_token"] / 1e9, 1))), flush=True)


if __name__ == "__main__":
    main()
