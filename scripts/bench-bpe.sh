#!/usr/bin/env bash
# BPE against SentencePiece on the same file, in the same run (the cores are shared: compare within one run):
# Quill's `quill-bench bpe` (learn N merges: read + pre-tokenize + count words + merge; encode MB/s on one core),
# then SentencePiece's BPE trainer and encoder through its Python package, with a vocabulary of the same number of
# merges (vocab_size = merges + the characters Quill found + 256 byte pieces + <unk> <s> </s>, byte_fallback on,
# character_coverage 1.0, everything else SentencePiece's defaults). Prints both JSON lines and a summary.
#
#   scripts/bench-bpe.sh                                   # WikiText-2 train, 8000 merges
#   FILE=path/to/text MERGES=16000 scripts/bench-bpe.sh
#   SPVENV=/tmp/spvenv scripts/bench-bpe.sh                # the venv with sentencepiece (made here if missing)
#   QUILL_BENCH=/path/to/quill-bench scripts/bench-bpe.sh  # another build, not rebuilt
set -euo pipefail
cd "$(dirname "$0")/.."
FILE=${FILE:-../shared/corpora/wikitext2/wiki.train.tokens}
MERGES=${MERGES:-8000}
REPEATS=${REPEATS:-5}
SPVENV=${SPVENV:-/tmp/spvenv}

if [ ! -x "$SPVENV/bin/python" ] || ! "$SPVENV/bin/python" -c 'import sentencepiece' 2>/dev/null; then
    python3 -m venv "$SPVENV" >&2
    "$SPVENV/bin/pip" install -q sentencepiece >&2
fi

bench=${QUILL_BENCH:-.build/release/quill-bench}
[ -n "${QUILL_BENCH:-}" ] || swift build -c release --product quill-bench >&2
quill=$("$bench" bpe --file "$FILE" --merges "$MERGES" --repeats "$REPEATS")
echo "$quill"

QUILL_JSON="$quill" "$SPVENV/bin/python" - "$FILE" "$MERGES" "$REPEATS" <<'PY'
import json, os, sys, tempfile, time, statistics
import sentencepiece as spm

path, merges, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
quill = json.loads(os.environ["QUILL_JSON"])
size = os.path.getsize(path)
vocab_size = merges + quill["characters"] + 256 + 3
with tempfile.TemporaryDirectory() as d:
    prefix = os.path.join(d, "sp")
    train = []
    for _ in range(repeats):
        start = time.perf_counter()
        spm.SentencePieceTrainer.train(input=path, model_prefix=prefix, model_type="bpe", vocab_size=vocab_size,
                                       character_coverage=1.0, byte_fallback=True, minloglevel=2)
        train.append(time.perf_counter() - start)
    sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
with open(path, encoding="utf-8") as f:
    lines = f.read().split("\n")
encode = []
for _ in range(repeats):
    start = time.perf_counter()
    pieces = sp.encode(lines, num_threads=1)
    encode.append(time.perf_counter() - start)
ids = sum(len(p) for p in pieces)
out = {"bench": "sentencepiece-bpe", "version": spm.__version__, "file": os.path.basename(path), "bytes": size,
       "vocab_size": vocab_size, "train_seconds_median": statistics.median(train), "train_seconds_min": min(train),
       "train_seconds_max": max(train), "encode_ids": ids,
       "encode_mb_per_s_median": size / 1e6 / statistics.median(encode),
       "encode_mb_per_s_max": size / 1e6 / min(encode)}
print(json.dumps(out))
print(f"learn {merges} merges: Quill {quill['learn_total_seconds_median']:.3f} s "
      f"(count words {quill['count_words_seconds_median']:.3f} s + merges {quill['learn_merges_seconds_median']:.3f} s), "
      f"SentencePiece {out['train_seconds_median']:.3f} s (vocab_size {vocab_size})")
print(f"encode, one thread: Quill {quill['encode_mb_per_s_median']:.1f} MB/s "
      f"(its word level alone {quill['word_level_mb_per_s_median']:.1f} MB/s), "
      f"SentencePiece through Python {out['encode_mb_per_s_median']:.1f} MB/s")
PY
