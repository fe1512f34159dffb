#!/usr/bin/env python3
"""Writes the PyTorch parity fixtures of this directory: weights, inputs, outputs and gradients as safetensors.

A copy of the PyTorch part of ../shared/bench/make_fixtures.py (the script that wrote the committed files, whose
provenance ../shared/fixtures/README.md records), writing into this directory; the sacreBLEU fixture it also writes
is not part of this repository. bidirectional() (pytorch-bilstm / pytorch-bigru) and seq2seq() (pytorch-seq2seq /
pytorch-seq2seq-ls) were added here and are not in that script. seq2seq() does not define its model: it imports
Encoder / Decoder / Seq2Seq from ../shared/bench/pytorch_seq2seq.py (the peer the translation benchmarks measure,
found beside the repository) so the fixture cannot drift from it, and stops with a message if that file is absent. Each file holds PyTorch's own state_dict names (e.g. rnn.weight_ih_l0, gate order
i,f,g,o for LSTM and r,z,n for GRU), the inputs, the expected outputs, and every gradient under the prefix "grad."
(including grad.h0 / grad.c0). The file's metadata "config" is JSON describing the model and the loss.
Run: python3 Tests/Fixtures/make_fixtures.py [name ...]   (needs torch and safetensors; regenerate rather than edit)
Names: lstm-lm gru-lm rnn_tanh-lm dense-mse bilstm bigru seq2seq seq2seq-ls gcnn-lm (pytorch-<name>.safetensors); none writes
them all (seq2seq and seq2seq-ls also need ../shared/bench/pytorch_seq2seq.py).
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


def load_peer_seq2seq():
    """The peer's model module, ../shared/bench/pytorch_seq2seq.py beside the repository; exits if it is absent.

    Imported rather than copied so the fixture is exactly the model the benchmarks compare against.
    """
    repo = os.path.dirname(os.path.dirname(OUT))  # Tests/Fixtures -> repository
    bench = os.path.normpath(os.path.join(repo, "..", "shared", "bench"))
    if not os.path.isfile(os.path.join(bench, "pytorch_seq2seq.py")):
        sys.exit(f"seq2seq fixtures need the peer model {os.path.join(bench, 'pytorch_seq2seq.py')} "
                 "(classes Encoder, Decoder, Seq2Seq); it is not there")
    sys.path.insert(0, bench)
    import pytorch_seq2seq
    return pytorch_seq2seq


def seq2seq(name, L, seed, label_smoothing=0.0, E=5, H=6, V_src=13, V_tgt=11, src_lengths=(4, 6, 2),
            tgt_lengths=(3, 5, 1)):
    """The peer's translation model (pytorch_seq2seq.Seq2Seq) on one teacher-forced batch: outputs, loss, gradients.

    OpenNMT-py's brnn encoder (H/2 per direction, final states concatenated, no bridge) and input-feeding LSTM
    decoder with Luong 'general' attention, dropout 0. Shapes are small and awkward (E != H, H/2 = 3, unsorted
    source lengths, a one-word target) so a transposed or mis-split tensor cannot pass by symmetry. Parameters are
    re-drawn from U(-0.3, 0.3) after the peer's own U(-0.1, 0.1) (larger values make errors visible); the PAD rows
    of both embeddings keep their drawn (non-zero) values, as the peer leaves them, and get zero gradient through
    padding_idx. The loss is the peer's training step: cross_entropy(logits, tgt_out, ignore_index=PAD,
    reduction='sum', label_smoothing=ε) / number of non-PAD targets. The attention weights are not an output of the
    module, so they are recomputed step by step with the same calls as Decoder.step, and the recomputation must
    reproduce the module's attentional outputs bit for bit.
    """
    peer = load_peer_seq2seq()
    PAD, BOS, EOS = peer.PAD, peer.BOS, peer.EOS
    B = len(src_lengths)
    assert len(tgt_lengths) == B
    torch.manual_seed(seed)
    model = peer.Seq2Seq(E=E, H=H, L=L, V_src=V_src, V_tgt=V_tgt, dropout=0.0)
    for p in model.parameters():
        nn.init.uniform_(p, -0.3, 0.3)
    model.train()  # dropout is 0, so train and eval compute the same
    S, T = max(src_lengths), max(tgt_lengths) + 1
    src_len = torch.tensor(src_lengths, dtype=torch.int64)
    tgt_len = torch.tensor(tgt_lengths, dtype=torch.int64)
    # Words are drawn from 4..V-1 as the peer's random_batch draws them (0..3 are PAD, BOS, EOS, UNK).
    src = torch.randint(4, V_src, (S, B))
    src[torch.arange(S).unsqueeze(1) >= src_len] = PAD
    words = torch.randint(4, V_tgt, (T, B))
    pos = torch.arange(T).unsqueeze(1)
    tgt_out = torch.where(pos < tgt_len, words, torch.where(pos == tgt_len, torch.tensor(EOS), torch.tensor(PAD)))
    tgt_in = torch.cat([torch.full((1, B), BOS), torch.where(tgt_out == EOS, PAD, tgt_out)[:-1]])
    assert (tgt_in != PAD).sum() == (tgt_out != PAD).sum()

    logits = model(src, src_len, tgt_in)
    ntok = int((tgt_out != PAD).sum())
    loss = nn.functional.cross_entropy(logits.view(-1, V_tgt), tgt_out.view(-1), ignore_index=PAD, reduction="sum",
                                       label_smoothing=label_smoothing) / ntok
    loss.backward()

    with torch.no_grad():  # Decoder.step's own calls, keeping the alignment it discards
        dec = model.decoder
        memory, mask, state = model.encode(src, src_len)
        emb = dec.embed(tgt_in)
        feed = memory.new_zeros(B, H)
        feeds, aligns = [], []
        for t in range(T):
            x = torch.cat([emb[t], feed], 1)
            new = []
            for l, cell in enumerate(dec.cells):
                h, c = cell(x, state[l])
                new.append((h, c))
                x = dec.drop(h) if l + 1 < len(dec.cells) else h
            scores = torch.bmm(memory, dec.attn_in(h).unsqueeze(2)).squeeze(2)
            align = torch.softmax(scores.masked_fill(mask, float("-inf")), 1)
            ctx = torch.bmm(align.unsqueeze(1), memory).squeeze(1)
            feed, state = dec.drop(torch.tanh(dec.attn_out(torch.cat([ctx, h], 1)))), new
            feeds.append(feed)
            aligns.append(align)
        assert torch.equal(model.generator(torch.stack(feeds)), logits.detach()), "attention recomputation drifted"
        attention = torch.stack(aligns)  # [T, B, S]
        assert torch.all(attention[:, torch.arange(S).unsqueeze(1).t() >= src_len.unsqueeze(1)] == 0)

    t = {}
    for n, p in model.named_parameters():
        t[n] = p.detach().clone()
        t[f"grad.{n}"] = p.grad.detach().clone()
    t["src"] = src
    t["src_len"] = src_len
    t["tgt_in"] = tgt_in
    t["tgt_out"] = tgt_out
    t["memory"] = memory.detach().clone()
    t["logits"] = logits.detach().clone()
    t["attention"] = attention
    t["loss"] = loss.detach().reshape(1).clone()
    config = dict(
        model="pytorch_seq2seq.Seq2Seq (../shared/bench): OpenNMT-py brnn encoder (bidirectional nn.LSTM, H/2 units "
              "per direction, final (h, c) of each layer concatenated forward|backward as the decoder's initial "
              "state, no bridge) + input-feeding decoder of L nn.LSTMCell (layer 0 input [embedding; previous "
              "attentional output], feed starts at zero) + Luong 'general' attention: scores = memory . W_a h_t, "
              "PAD masked, softmax over S, context = align . memory, attentional output = tanh(W_c [context; h_t]) "
              "-> generator linear H -> V_tgt",
        embedding=E, hidden=H, encoder_hidden_per_direction=H // 2, layers=L, src_vocab=V_src, tgt_vocab=V_tgt,
        batch=B, src_steps=S, tgt_steps=T, src_lengths=list(src_lengths), tgt_lengths=list(tgt_lengths),
        pad=PAD, bos=BOS, eos=EOS, unk=3, dropout=0.0, seed=seed,
        init="U(-0.3, 0.3) on every parameter, PAD rows of both embeddings included (not re-zeroed); "
             "padding_idx=PAD gives them zero gradient",
        inputs="src [S, B] int64 (words 4..V_src-1, PAD past src_len); src_len [B] int64 (unsorted; "
               "pack_padded_sequence enforce_sorted=False); tgt_in [T, B] = BOS + target words, PAD-padded; "
               "tgt_out [T, B] = target words + EOS, PAD-padded; T = max target length + 1",
        outputs="memory [B, S, H] batch-major encoder outputs, forward half then backward half, zero past src_len; "
                "logits [T, B, V_tgt]; attention [T, B, S] softmax alignment of each decoder step (zero at source "
                "padding, rows sum to 1), recomputed with Decoder.step's calls; loss [1]. Every row runs all T steps "
                "(as the peer's forward does), so logits and attention past a target's end are real values that "
                "the loss ignores",
        loss="cross_entropy(logits.view(-1, V_tgt), tgt_out.view(-1), ignore_index=PAD, reduction='sum', "
             "label_smoothing=%g) / number of non-PAD tgt_out entries (%d)" % (label_smoothing, ntok),
        label_smoothing=label_smoothing,
        label_smoothing_definition="PyTorch: per target y, (1 - eps) * (-log p_y) + eps * mean over all V_tgt "
                                   "classes of (-log p_v); PAD targets contribute nothing",
        target_tokens=ntok,
        layout="time-major [T, B, ...] except memory [B, S, H]; a linear weight is [out, in]; LSTM gate order "
               "i,f,g,o; encoder.rnn.*_l{k}_reverse is the backward direction of layer k; decoder.attn_in.weight is "
               "W_a [H, H], decoder.attn_out.weight is W_c [H, 2H] over [context; h_t]",
        gradients="grad.<parameter name>, of the loss above",
        note="PyTorch formulas: https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html, "
             "https://pytorch.org/docs/stable/generated/torch.nn.functional.cross_entropy.html",
        torch=torch.__version__)
    save_file({k: v.contiguous() for k, v in t.items()}, os.path.join(OUT, f"pytorch-{name}.safetensors"),
              metadata={"config": json.dumps(config)})


def gated_cnn_lm(V=11, E=6, C=5, L=3, k=3, T=7, B=3, seed=41):
    """Dauphin et al.'s gated convolutional LM as Quill builds it: embedding -> L blocks of Conv1d(D, 2C, k) on the
    input padded on the left by a given context of k-1 steps, GLU over channels, plus the block's input when D == C
    -> linear; mean cross-entropy. Time-major [T, B, ...] like the other fixtures; the contexts context.<l> are
    [k-1, B, D] with gradients, contextT.<l> the last k-1 inputs of each block (what the next window starts from)."""
    torch.manual_seed(seed)
    embed = nn.Embedding(V, E)
    convs = nn.ModuleList([nn.Conv1d(E if l == 0 else C, 2 * C, k) for l in range(L)])
    out = nn.Linear(C, V)
    for m in (embed, convs, out):
        for p in m.parameters():
            nn.init.uniform_(p, -0.4, 0.4)
    x = torch.randint(0, V, (T, B))
    y = torch.randint(0, V, (T, B))
    contexts = [(torch.rand(k - 1, B, E if l == 0 else C) - 0.5).requires_grad_() for l in range(L)]
    h = embed(x)  # [T, B, D]
    finals = []
    for l, conv in enumerate(convs):
        padded = torch.cat([contexts[l], h], dim=0)  # [k-1+T, B, D]
        finals.append(padded[T:].detach().clone())
        z = conv(padded.permute(1, 2, 0))  # [B, 2C, T]
        g = nn.functional.glu(z, dim=1).permute(2, 0, 1)  # [T, B, C]
        h = g + h if h.shape[-1] == C else g
    logits = out(h)
    loss = nn.functional.cross_entropy(logits.view(-1, V), y.reshape(-1))
    loss.backward()
    t = {}
    for prefix, m in (("embed", embed), ("convs", convs), ("out", out)):
        for n, p in m.named_parameters():
            t[f"{prefix}.{n}"] = p.detach().clone()
            t[f"grad.{prefix}.{n}"] = p.grad.detach().clone()
    for l in range(L):
        t[f"context.{l}"] = contexts[l].detach().clone()
        t[f"grad.context.{l}"] = contexts[l].grad.detach().clone()
        t[f"contextT.{l}"] = finals[l]
    t["input"] = x
    t["target"] = y
    t["logits"] = logits.detach().clone()
    t["loss"] = loss.detach().reshape(1).clone()
    config = dict(model="embedding -> gated conv blocks (Conv1d k, GLU, residual when widths match) -> linear",
                  vocab=V, embedding=E, channels=C, blocks=L, width=k, steps=T, batch=B,
                  layout="time-major [T, B, ...]; conv weights PyTorch's [2C, D, k]",
                  loss="mean softmax cross-entropy over T*B", torch=torch.__version__)
    save_file({k: v.contiguous() for k, v in t.items()}, os.path.join(OUT, "pytorch-gcnn-lm.safetensors"),
              metadata={"config": json.dumps(config)})


# Each writer seeds itself, so any subset writes the same files as the whole run.
WRITERS = {"lstm-lm": lambda: rnn_lm("lstm"), "gru-lm": lambda: rnn_lm("gru"),
           "rnn_tanh-lm": lambda: rnn_lm("rnn_tanh"), "dense-mse": dense_mse,
           "bilstm": lambda: bidirectional("lstm"), "bigru": lambda: bidirectional("gru"),
           "seq2seq": lambda: seq2seq("seq2seq", L=2, seed=31),
           "seq2seq-ls": lambda: seq2seq("seq2seq-ls", L=1, seed=37, label_smoothing=0.1),
           "gcnn-lm": gated_cnn_lm}

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
