"""A GPT-2-small-sized causal LM for `npm run bench` (never for tests, never committed, never in CI).

    /usr/bin/python3 scripts/make-bench-model.py [OUT]      # default .bench/gpt2-small

12 layers, n_embd 768, 12 heads, vocabulary 50,257, n_positions 1024 (124M parameters), random
weights (normal, std 0.02, seed 1234: speed does not depend on their values), in exactly the
support-desk fixtures' HF format: the same model code and ONNX export as fixtures/support-desk/train.py
(inputs input_ids, attention_mask, past_key_values.{i}.key|value; outputs logits, present.{i}.*;
positions from the attention mask), plus a byte-level BPE tokenizer.json of GPT-2's size: 256 byte
tokens, 50,000 merges and <|endoftext|>. The merges are not GPT-2's: the first ones are learnt from
the fixture's records (so English text splits into multi-byte tokens, as with a real vocabulary),
the rest are synthesised from a seeded generator. reference-logprobs.json holds torch's per-token
log-probabilities of two records (the bench checks the harness against them at full vocabulary size).

Needs Debian's python3-torch and python3-onnx: call /usr/bin/python3.
"""
import importlib.util
import json
import os
import random
import re
import sys
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".bench", "gpt2-small"))

spec = importlib.util.spec_from_file_location("train", os.path.join(ROOT, "fixtures", "support-desk", "train.py"))
train = importlib.util.module_from_spec(spec)
spec.loader.exec_module(train)
import torch  # noqa: E402  (after train.py, which pins the BLAS threads)

SEED = 1234
VOCAB = 50257
EOT = 50256
N_POSITIONS = 1024
N_EMBD, N_LAYER, N_HEAD = 768, 12, 12
MERGES = VOCAB - 257
LEARNT = 8000  # at most this many merges learnt from the fixture's text; the rest synthesised

# train.py's model and export read these module globals.
train.VOCAB, train.EOT, train.N_POSITIONS, train.N_EMBD, train.N_LAYER, train.N_HEAD = VOCAB, EOT, N_POSITIONS, N_EMBD, N_LAYER, N_HEAD
torch.set_num_threads(2)

# GPT-2's pre-tokenizer pattern (what the ByteLevel pre-tokenizer with use_regex splits on), without \p classes.
WORD = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+""")


def bpe_tokenizer(texts):
    b2u = train.byte_to_unicode()
    words = Counter()
    for t in texts:
        for w in WORD.findall(t):
            words[tuple(b2u[b] for b in w.encode("utf-8"))] += 1
    vocab = {b2u[b]: b for b in range(256)}
    merges = []
    # Learnt merges: the most frequent adjacent pair (ties: the smallest pair), until pairs are rare.
    while len(merges) < LEARNT:
        pairs = Counter()
        for w, n in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += n
        if not pairs:
            break
        (a, b), n = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        if n < 2:
            break
        merges.append((a, b))
        vocab[a + b] = len(vocab)
        new = Counter()
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new[tuple(out)] += c
        words = new
    learnt = len(merges)
    # Synthetic merges: seeded pairs of existing tokens, short ones preferred, each a new string.
    rng = random.Random(SEED)
    tokens = list(vocab)
    while len(merges) < MERGES:
        a = tokens[min(int(rng.expovariate(1 / 2000)), len(tokens) - 1)]
        b = tokens[min(int(rng.expovariate(1 / 2000)), len(tokens) - 1)]
        if a + b in vocab or len(a + b) > 16 or " " in a + b:
            continue
        merges.append((a, b))
        vocab[a + b] = len(vocab)
        tokens.append(a + b)
    assert len(vocab) == EOT
    tok = train.tokenizer_json()
    vocab["<|endoftext|>"] = EOT
    tok["model"]["vocab"] = vocab
    tok["model"]["merges"] = [f"{a} {b}" for a, b in merges]
    tok["added_tokens"][0]["id"] = EOT
    tok["post_processor"]["special_tokens"]["<|endoftext|>"]["ids"] = [EOT]
    return tok, learnt


def bpe_encode(tok, text):
    """What tokenizer.json does: <|endoftext|>, then each pre-tokenized word merged by merge rank."""
    b2u = train.byte_to_unicode()
    vocab = tok["model"]["vocab"]
    rank = {tuple(m.split(" ")): i for i, m in enumerate(tok["model"]["merges"])}
    ids = [EOT]
    for w in WORD.findall(text):
        parts = [b2u[b] for b in w.encode("utf-8")]
        while len(parts) > 1:
            best = min(range(len(parts) - 1), key=lambda i: (rank.get((parts[i], parts[i + 1]), 1 << 30), i))
            if (parts[best], parts[best + 1]) not in rank:
                break
            parts[best:best + 2] = [parts[best] + parts[best + 1]]
        ids += [vocab[p] for p in parts]
    return ids


def main():
    t0 = time.time()
    records = train.read_jsonl("members") + train.read_jsonl("holdout")
    tok, learnt = bpe_tokenizer([r["text"] for r in records])
    print(f"tokenizer: {len(tok['model']['merges'])} merges ({learnt} learnt from the fixture), {time.time() - t0:.0f} s", flush=True)

    torch.manual_seed(SEED)
    model = train.GPT(d=N_EMBD, n_layer=N_LAYER, h=N_HEAD).eval()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params:,} parameters", flush=True)

    tmp = OUT + ".partial"
    if os.path.exists(tmp):
        import shutil
        shutil.rmtree(tmp)
    os.makedirs(os.path.join(tmp, "onnx"))
    train.write_hf_files(tmp, tok, VOCAB, N_EMBD, N_HEAD, N_LAYER, N_POSITIONS)
    # The fixtures' export (train.py), with a key/value cache.
    path = os.path.join(tmp, "onnx", "model.onnx")
    train.export_onnx(model, path, N_EMBD, N_HEAD, N_LAYER)
    print(f"onnx: {os.path.getsize(path) / 2**20:.0f} MiB, {time.time() - t0:.0f} s", flush=True)

    refs = []
    with torch.no_grad():
        for r in records[:2]:
            x = torch.tensor([bpe_encode(tok, r["text"])])
            logits, _ = model(x, torch.ones_like(x))
            lsm = torch.log_softmax(logits[0, :-1].double(), dim=-1)
            lp = lsm.gather(1, x[0, 1:].unsqueeze(-1)).squeeze(-1)
            p = lsm.exp()
            mu = (p * lsm).sum(-1)
            sigma = ((p * lsm * lsm).sum(-1) - mu * mu).clamp(min=1e-6).sqrt()
            refs.append({"id": r["id"], "text": r["text"], "input_ids": x[0].tolist(),
                         "token_logprobs": [round(v, 7) for v in lp.tolist()],
                         "mu": [round(v, 7) for v in mu.tolist()], "sigma": [round(v, 7) for v in sigma.tolist()]})
    train.write_json(os.path.join(tmp, "reference-logprobs.json"), {
        "note": "token_logprobs: log p(token_t | tokens_<t) for t >= 1 from torch (log-softmax in float64 of float32 logits); mu, sigma: mean and std of log p under p (Min-K%++)",
        "records": refs})
    if os.path.exists(OUT):
        import shutil
        shutil.rmtree(OUT)
    os.rename(tmp, OUT)
    print(f"wrote {OUT} in {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
