#!/usr/bin/env python3
"""The PyTorch peer of Quill's gated convolutional language model: training and scoring tokens/s on the shapes of
`quill-bench gcnn`, measured the way ../shared/bench/pytorch_lstm.py measures its LSTM (same window procedure, same
warm-up, median window), printing one JSON object per measure.

The model is the one Tests/Fixtures/make_fixtures.py (gcnn-lm) checks Quill against: embedding -> L blocks of
nn.Conv1d(D, 2C, k) on the input with the previous window's last k-1 steps in front (zeros at the start), F.glu over
channels, plus the block input -> linear. Training: zero the gradients, forward, mean cross-entropy, backward, clip the
global norm to 5, SGD (lr 1). Scoring: forward and the loss under torch.inference_mode(), B=64, T=35.

    python3 scripts/peers/pytorch_gcnn.py --threads 2 --configs ptb-small --measures train,score
"""
import argparse, json, statistics, time

import torch
import torch.nn as nn

# Shapes: vocabulary, channels (= embedding), blocks, kernel width, window, batch. A block of width 4 has 8·C² weights,
# as an LSTM layer of C has, so ptb-small and ptb-medium match pytorch_lstm.py's LSTMs in size.
CONFIGS = {
    "ptb-small": dict(V=10000, C=200, L=2, k=4, T=20, B=20),
    "ptb-medium": dict(V=10000, C=650, L=2, k=4, T=35, B=20),
}


class GatedConvLM(nn.Module):
    def __init__(self, V, C, L, k):
        super().__init__()
        self.k = k
        self.embed = nn.Embedding(V, C)
        self.convs = nn.ModuleList([nn.Conv1d(C, 2 * C, k) for _ in range(L)])
        self.out = nn.Linear(C, V)
        for p in self.parameters():
            nn.init.uniform_(p, -0.1, 0.1)

    def forward(self, x, context):
        """x [T, B] ids; context: per block [k-1, B, C] (the previous window's last inputs). Returns the logits and
        the next window's context."""
        h = self.embed(x)
        T = h.shape[0]
        following = []
        for conv, past in zip(self.convs, context):
            padded = torch.cat([past, h], dim=0)
            following.append(padded[T:])
            g = nn.functional.glu(conv(padded.permute(1, 2, 0)), dim=1).permute(2, 0, 1)
            h = h + g
        return self.out(h), following


def zeros_context(cfg, B):
    return [torch.zeros(cfg["k"] - 1, B, cfg["C"]) for _ in range(cfg["L"])]


def measure_train(cfg, windows):
    V, T, B = cfg["V"], cfg["T"], cfg["B"]
    model = GatedConvLM(V, cfg["C"], cfg["L"], cfg["k"])
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    loss_fn = nn.CrossEntropyLoss()
    data = torch.randint(0, V, (T * windows + 1, B))
    context = zeros_context(cfg, B)
    times = []
    for w in range(windows):
        x, y = data[w * T:(w + 1) * T], data[w * T + 1:(w + 1) * T + 1]
        t0 = time.perf_counter()
        context = [c.detach() for c in context]
        logits, context = model(x, context)
        loss = loss_fn(logits.reshape(-1, V), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        times.append(time.perf_counter() - t0)
    times = times[max(2, windows // 5):]
    return T * B / statistics.median(times)


def measure_score(cfg, windows, B=64, T=35):
    V = cfg["V"]
    model = GatedConvLM(V, cfg["C"], cfg["L"], cfg["k"]).eval()
    data = torch.randint(0, V, (T * windows + 1, B))
    context = zeros_context(cfg, B)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    with torch.inference_mode():
        for w in range(windows):
            x, y = data[w * T:(w + 1) * T], data[w * T + 1:(w + 1) * T + 1]
            t0 = time.perf_counter()
            logits, context = model(x, context)
            loss_fn(logits.reshape(-1, V), y.reshape(-1)).item()
            times.append(time.perf_counter() - t0)
    times = times[max(2, windows // 5):]
    return T * B / statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--configs", default="ptb-small,ptb-medium")
    ap.add_argument("--measures", default="train,score")
    ap.add_argument("--windows", type=int, default=30)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    for name in args.configs.split(","):
        cfg = CONFIGS[name]
        base = dict(peer="pytorch", model="gcnn", version=torch.__version__, config=name, threads=args.threads, **cfg)
        for m in args.measures.split(","):
            if m == "train":
                value = measure_train(cfg, args.windows)
                print(json.dumps(dict(base, measure="train_tokens_per_s", value=round(value, 1))), flush=True)
            elif m == "score":
                value = measure_score(cfg, 20)
                print(json.dumps(dict(base, measure="score_tokens_per_s", value=round(value, 1))), flush=True)


if __name__ == "__main__":
    main()
