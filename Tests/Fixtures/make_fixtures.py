#!/usr/bin/env python3
"""Writes the PyTorch parity fixtures of this directory: weights, inputs, outputs and gradients as safetensors.

A copy of the PyTorch part of ../shared/bench/make_fixtures.py (the script that wrote the committed files, whose
provenance ../shared/fixtures/README.md records), writing into this directory; the sacreBLEU fixture it also writes
is not part of this repository. Each file holds PyTorch's own state_dict names (e.g. rnn.weight_ih_l0, gate order
i,f,g,o for LSTM and r,z,n for GRU), the inputs, the expected outputs, and every gradient under the prefix "grad."
(including grad.h0 / grad.c0). The file's metadata "config" is JSON describing the model and the loss.
Run: python3 Tests/Fixtures/make_fixtures.py   (needs torch and safetensors; regenerate rather than edit)
"""
import json, os

import torch
import torch.nn as nn
from safetensors.torch import save_file

OUT = os.path.dirname(os.path.abspath(__file__))  # this directory (the original: ../fixtures)


def rnn_lm(kind, V=37, H=16, L=2, T=7, B=3, seed=7):
    torch.manual_seed(seed)
    cls = dict(lstm=nn.LSTM, gru=nn.GRU, rnn_tanh=nn.RNN)[kind]
    embed = nn.Embedding(V, H)
    rnn = cls(H, H, num_layers=L)
    out = nn.Linear(H, V)
    for m in (embed, rnn, out):
        for p in m.parameters():
            nn.init.uniform_(p, -0.3, 0.3)
    x = torch.randint(0, V, (T, B))
    y = torch.randint(0, V, (T, B))
    h0 = (torch.rand(L, B, H) - 0.5).requires_grad_()
    c0 = (torch.rand(L, B, H) - 0.5).requires_grad_()
    state = (h0, c0) if kind == "lstm" else h0
    e = embed(x)
    ys, final = rnn(e, state)
    logits = out(ys)
    loss = nn.functional.cross_entropy(logits.view(-1, V), y.reshape(-1))  # mean over T*B
    loss.backward()
    t = {}
    for prefix, m in (("embed", embed), ("rnn", rnn), ("out", out)):
        for n, p in m.named_parameters():
            t[f"{prefix}.{n}"] = p.detach().clone()
            t[f"grad.{prefix}.{n}"] = p.grad.detach().clone()
    t["input"] = x
    t["target"] = y
    t["h0"] = h0.detach().clone()
    t["grad.h0"] = h0.grad.detach().clone()
    if kind == "lstm":
        t["c0"] = c0.detach().clone()
        t["grad.c0"] = c0.grad.detach().clone()
        t["hT"], t["cT"] = final[0].detach().clone(), final[1].detach().clone()
    else:
        t["hT"] = final.detach().clone()
    t["logits"] = logits.detach().clone()
    t["loss"] = loss.detach().reshape(1).clone()
    config = dict(model=f"embedding -> {kind} x{L} -> linear", kind=kind, vocab=V, hidden=H, layers=L, steps=T,
                  batch=B, layout="time-major [T, B, ...]", loss="mean softmax cross-entropy over T*B",
                  gate_order={"lstm": "i,f,g,o", "gru": "r,z,n", "rnn_tanh": "-"}[kind],
                  note="PyTorch formulas: https://pytorch.org/docs/stable/generated/torch.nn.%s.html" % cls.__name__,
                  torch=torch.__version__)
    save_file({k: v.contiguous() for k, v in t.items()}, os.path.join(OUT, f"pytorch-{kind}-lm.safetensors"),
              metadata={"config": json.dumps(config)})


def dense_mse(seed=11, B=5, D=4, H=6, O=3):
    """The seed's feed-forward network: Dense -> sigmoid -> Dense -> ReLU -> Dense, MSE loss."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(D, H), nn.Sigmoid(), nn.Linear(H, H), nn.ReLU(), nn.Linear(H, O))
    x = torch.randn(B, D)
    y = torch.randn(B, O)
    pred = net(x)
    loss = nn.functional.mse_loss(pred, y)
    loss.backward()
    t = {"input": x, "target": y, "output": pred.detach().clone(), "loss": loss.detach().reshape(1).clone()}
    for n, p in net.named_parameters():
        t[f"net.{n}"] = p.detach().clone()
        t[f"grad.net.{n}"] = p.grad.detach().clone()
    config = dict(model="linear(4,6) -> sigmoid -> linear(6,6) -> relu -> linear(6,3)", loss="mean squared error",
                  names="net.0 / net.2 / net.4 are the three linear layers; weight is [out, in]", torch=torch.__version__)
    save_file(t, os.path.join(OUT, "pytorch-dense-mse.safetensors"), metadata={"config": json.dumps(config)})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    for k in ("lstm", "gru", "rnn_tanh"):
        rnn_lm(k)
    dense_mse()
    print("written to", os.path.normpath(OUT))
