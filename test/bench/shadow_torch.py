#!/usr/bin/python3
"""PyTorch baseline for the shadow-model benchmark.

Trains the same MLP the TypeScript harness trains with tfjs (wasm), so the
harness's models/minute can be compared with native CPU training.
Run with Debian's interpreter: /usr/bin/python3 (python3-torch).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

torch = nn = None  # imported in main() once the thread env vars are set


def fail(msg):
    print(f"shadow_torch: {msg}", file=sys.stderr)
    sys.exit(2)


class Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse already exits 2; keep one message format
        fail(message)


def parse_args():
    p = Parser(description=__doc__)
    p.add_argument("--data", required=True)
    for name in ("n", "dim", "classes", "epochs", "batch-size", "models", "threads"):
        p.add_argument(f"--{name}", type=int, required=True)
    p.add_argument("--layers", default="256,128")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    for name in ("n", "dim", "classes", "epochs", "batch_size", "models", "threads"):
        if getattr(a, name) <= 0:
            fail(f"--{name.replace('_', '-')} must be positive")
    try:
        a.layers = [int(s) for s in a.layers.split(",") if s.strip()]
    except ValueError:
        fail(f"bad --layers {a.layers!r}")
    if any(h <= 0 for h in a.layers):
        fail("--layers entries must be positive")
    return a


def load(a):
    # Same layout the harness writes: n*dim float32 then n int32, little-endian.
    want = a.n * a.dim * 4 + a.n * 4
    try:
        size = os.path.getsize(a.data)
    except OSError as e:
        fail(f"cannot read {a.data}: {e}")
    if size != want:
        fail(f"{a.data}: {size} bytes, expected {want} for n={a.n} dim={a.dim}")
    raw = np.fromfile(a.data, dtype=np.uint8)
    x = raw[: a.n * a.dim * 4].view("<f4").reshape(a.n, a.dim)
    y = raw[a.n * a.dim * 4 :].view("<i4").astype(np.int64)  # CrossEntropyLoss wants int64
    if y.min() < 0 or y.max() >= a.classes:
        fail(f"labels outside [0, {a.classes})")
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), torch.from_numpy(y)


def make_model(dim, layers, classes):
    mods, prev = [], dim
    for h in layers:
        mods += [nn.Linear(prev, h), nn.ReLU()]
        prev = h
    mods.append(nn.Linear(prev, classes))
    model = nn.Sequential(*mods)
    # Keras Dense defaults (glorot_uniform, zeros) instead of torch's kaiming-uniform,
    # so both sides start from the same distribution.
    for m in model:
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def train(x, y, a, seed, epochs):
    torch.manual_seed(seed)
    model = make_model(a.dim, a.layers, a.classes)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)  # shuffle independent of init RNG use
    n = x.shape[0]
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, a.batch_size):  # last partial batch kept, like Keras fit
            idx = perm[i : i + a.batch_size]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
    return model


def main():
    global torch, nn
    a = parse_args()
    # Debian's torch calls a generic libblas (OpenBLAS-pthread) whose thread pool
    # torch.set_num_threads() does not touch, and it is sized at library load.
    # Left alone, OpenBLAS's and OpenMP's spinning workers fight over the cores
    # (measured 5-8x slowdowns at --threads 2 on 2 vCPUs); passive OpenMP waiting
    # lets them share. setdefault so a caller can still experiment.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(var, str(a.threads))
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch
    from torch import nn

    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)  # only allowed before any parallel work
    except RuntimeError:
        pass
    x, y = load(a)

    # Warm-up outside the timing: first calls pay for allocator/kernel setup.
    train(x[: min(a.n, 2 * a.batch_size)], y[: min(a.n, 2 * a.batch_size)], a, a.seed, 1)

    t0 = time.perf_counter()
    c0 = time.process_time()
    for k in range(a.models):
        model = train(x, y, a, a.seed + k, a.epochs)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0

    with torch.no_grad():
        acc = (model(x).argmax(1) == y).float().mean().item()
    print(json.dumps({
        "torch": torch.__version__,
        "threads": a.threads,
        "models": a.models,
        "seconds": round(seconds, 4),
        "cpuSeconds": round(cpu, 4),
        "modelsPerMinute": round(60.0 * a.models / seconds, 3),
        "trainAccuracy": round(acc, 4),
    }))


if __name__ == "__main__":
    main()
