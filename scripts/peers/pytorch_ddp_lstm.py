#!/usr/bin/env python3
"""Peer for scripts/bench-mpi.sh: PyTorch DistributedDataParallel (gloo backend, CPU) training an nn.LSTM language
model on 1 or 2 processes of this machine, one thread each, the shapes of ../shared/bench/pytorch_lstm.py.

The global batch B is split over the ranks (B/N streams each); each rank runs truncated-BPTT windows (forward, mean
cross-entropy, backward with DDP's bucketed all-reduce overlapped, clip 5, SGD) on random ids with the state carried.
Prints one JSON line per (config, ranks): training tokens/s of the whole job (T·B over the median window, rank 0's
clock, windows started together by a barrier), and the all-reduce's share of a window, measured as 1 − (median window
under `no_sync()`, i.e. without the all-reduce) / (median window with it).

  python pytorch_ddp_lstm.py --configs ptb-small,ptb-medium --ranks 1,2 --windows 40
"""
import argparse, contextlib, json, os, statistics, sys, time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "bench"))
from pytorch_lstm import CONFIGS, LM, detach  # noqa: E402  the peer's own model and shapes


def windows_timed(model, opt, data, state, windows, V, T, sync=True):
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for w in range(windows):
        x, y = data[w * T:(w + 1) * T], data[w * T + 1:(w + 1) * T + 1]
        dist.barrier()
        t0 = time.perf_counter()
        state = detach(state)
        with contextlib.nullcontext() if sync else model.no_sync():  # no_sync: backward without the all-reduce
            logits, state = model(x, state)
            loss = loss_fn(logits.view(-1, V), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times[max(2, windows // 5):]), state


def run(rank, size, name, windows, port, queue):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=size)
    cfg = CONFIGS[name]
    V, H, L, T, B = cfg["V"], cfg["H"], cfg["L"], cfg["T"], cfg["B"]
    b = B // size
    torch.manual_seed(0)
    model = nn.parallel.DistributedDataParallel(LM(V, H, L))
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    data = torch.randint(0, V, (T * windows + 1, b))
    state = (torch.zeros(L, b, H), torch.zeros(L, b, H))
    synced, state = windows_timed(model, opt, data, state, windows, V, T)
    alone, _ = windows_timed(model, opt, data, state, windows, V, T, sync=False) if size > 1 else (synced, state)
    if rank == 0:
        queue.put(dict(peer="pytorch-ddp-gloo", torch=torch.__version__, config=name, ranks=size, threads_per_rank=1,
                       batch=B, tokens_per_s=round(T * B / synced, 1), window_ms=round(synced * 1e3, 2),
                       all_reduce_share=round(max(0.0, 1 - alone / synced), 4)))
    dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default="ptb-small,ptb-medium")
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--windows", type=int, default=40)
    ap.add_argument("--port", type=int, default=29533)
    args = ap.parse_args()
    ctx = mp.get_context("spawn")
    for name in args.configs.split(","):
        for size in map(int, args.ranks.split(",")):
            queue = ctx.Queue()
            procs = [ctx.Process(target=run, args=(r, size, name, args.windows, args.port, queue)) for r in range(size)]
            for p in procs:
                p.start()
            result = queue.get()
            for p in procs:
                p.join()
            print(json.dumps(result), flush=True)
            args.port += 1


if __name__ == "__main__":
    main()
