#!/usr/bin/env python3
"""Writes the PyTorch parity fixtures of this directory: weights, inputs, outputs and gradients as safetensors.

A copy of the PyTorch part of ../shared/bench/make_fixtures.py (the script that wrote the committed files, whose
provenance ../shared/fixtures/README.md records), writing into this directory; the sacreBLEU fixture it also writes
is not part of this repository. bidirectional() (pytorch-bilstm / pytorch-bigru) was added here and is not in that
script. Each file holds PyTorch's own state_dict names (e.g. rnn.weight_ih_l0, gate order
i,f,g,o for LSTM and r,z,n for GRU), the inputs, the expected outputs, and every gradient under the prefix "grad."
(including grad.h0 / grad.c0). The file's metadata "config" is JSON describing the model and the loss.
Run: python3 Tests/Fixtures/make_fixtures.py [name ...]   (needs torch and safetensors; regenerate rather than edit)
Names: lstm-lm gru-lm rnn_tanh-lm dense-mse bilstm bigru (pytorch-<name>.safetensors); none writes them all.
"""
import json, os, sys

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


def bidirectional(kind, D=5, H=4, T=6, B=3, lengths=(4, 6, 2), seed=23):
    """One bidirectional nn.LSTM / nn.GRU layer on a padded batch, packed with per-row lengths.

    The rows' lengths are unsorted (pack_padded_sequence(..., enforce_sorted=False) sorts them and restores the
    order of h0 / hT). The padding of `input` holds random values, which must neither reach the outputs nor get a
    gradient. loss = sum(loss.output * output) + sum(loss.hT * hT) (+ sum(loss.cT * cT)): a fixed random weighting
    of the padded outputs (zero past each length) and of the final states, so every gradient path is exercised.
    Parameters are stored as rnn.weight_ih_l0, rnn.weight_ih_l0_reverse, ... (the state_dict of a module holding
    this layer as `rnn`, as the language-model fixtures name theirs), gradients under grad. as there.
    """
    torch.manual_seed(seed)
    cls = dict(lstm=nn.LSTM, gru=nn.GRU)[kind]
    rnn = cls(D, H, num_layers=1, bidirectional=True)
    for p in rnn.parameters():
        nn.init.uniform_(p, -0.5, 0.5)
    x = torch.randn(T, B, D).requires_grad_()
    h0 = (torch.rand(2, B, H) - 0.5).requires_grad_()
    c0 = (torch.rand(2, B, H) - 0.5).requires_grad_()
    w_out = torch.randn(T, B, 2 * H)
    w_h = torch.randn(2, B, H)
    w_c = torch.randn(2, B, H)
    lengths_t = torch.tensor(lengths, dtype=torch.int64)
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths_t, enforce_sorted=False)
    state = (h0, c0) if kind == "lstm" else h0
    ys, final = rnn(packed, state)
    out, out_lengths = nn.utils.rnn.pad_packed_sequence(ys, total_length=T)
    assert out_lengths.tolist() == list(lengths)
    hT, cT = final if kind == "lstm" else (final, None)
    loss = (w_out * out).sum() + (w_h * hT).sum()
    if kind == "lstm":
        loss = loss + (w_c * cT).sum()
    loss.backward()
    t = {}
    for n, p in rnn.named_parameters():  # as the state_dict of a module whose submodule `rnn` is this layer
        t[f"rnn.{n}"] = p.detach().clone()
        t[f"grad.rnn.{n}"] = p.grad.detach().clone()
    t["input"] = x.detach().clone()
    t["grad.input"] = x.grad.detach().clone()
    t["lengths"] = lengths_t
    t["h0"] = h0.detach().clone()
    t["grad.h0"] = h0.grad.detach().clone()
    t["output"] = out.detach().clone()
    t["hT"] = hT.detach().clone()
    t["loss.output"] = w_out
    t["loss.hT"] = w_h
    if kind == "lstm":
        t["c0"] = c0.detach().clone()
        t["grad.c0"] = c0.grad.detach().clone()
        t["cT"] = cT.detach().clone()
        t["loss.cT"] = w_c
    t["loss"] = loss.detach().reshape(1).clone()
    config = dict(model=f"one bidirectional {cls.__name__} layer over a packed padded batch", kind=kind, input=D,
                  hidden=H, steps=T, batch=B, lengths=list(lengths), layout="time-major [T, B, ...]",
                  packing="pack_padded_sequence(input, lengths, enforce_sorted=False) -> rnn -> "
                          "pad_packed_sequence(total_length=T)",
                  output="[T, B, 2H], forward half first, zero past each row's length",
                  states="h0/c0/hT/cT [2, B, H], forward then reverse; the reverse direction starts from h0[1] at "
                         "each row's last step and ends at its step 0",
                  loss="sum(loss.output * output) + sum(loss.hT * hT)" + (" + sum(loss.cT * cT)" if kind == "lstm"
                                                                           else ""),
                  gate_order={"lstm": "i,f,g,o", "gru": "r,z,n"}[kind],
                  note="PyTorch formulas: https://pytorch.org/docs/stable/generated/torch.nn.%s.html" % cls.__name__,
                  torch=torch.__version__)
    save_file({k: v.contiguous() for k, v in t.items()}, os.path.join(OUT, f"pytorch-bi{kind}.safetensors"),
              metadata={"config": json.dumps(config)})


# Each writer seeds itself, so any subset writes the same files as the whole run.
WRITERS = {"lstm-lm": lambda: rnn_lm("lstm"), "gru-lm": lambda: rnn_lm("gru"),
           "rnn_tanh-lm": lambda: rnn_lm("rnn_tanh"), "dense-mse": dense_mse,
           "bilstm": lambda: bidirectional("lstm"), "bigru": lambda: bidirectional("gru")}

if __name__ == "__main__":
    # python3 make_fixtures.py [name ...]: only pytorch-<name>.safetensors (e.g. bilstm bigru); none: all of them.
    # The same script on another CPU may round the last bit differently: regenerate only the files you mean to.
    names = sys.argv[1:] or list(WRITERS)
    unknown = [n for n in names if n not in WRITERS]
    if unknown:
        sys.exit(f"unknown fixture(s) {unknown}; choose from {list(WRITERS)}")
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    for name in names:
        WRITERS[name]()
        print("wrote", os.path.normpath(os.path.join(OUT, f"pytorch-{name}.safetensors")))
