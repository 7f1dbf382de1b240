#!/usr/bin/env python3
"""tinytrain's host training throughput next to PyTorch eager's, in one run (not part of CI).

PyTorch side: one thread (`torch.set_num_threads(1)`), `nn.Sequential(Linear(64, 32), ReLU(),
Linear(32, 10))`, `CrossEntropyLoss`, `torch.optim.SGD(lr=0.01)`; an epoch is 1,024 synthetic
digits-shaped samples (64 features uniform in [-2, 2), labels `row % 10`, the bench's data) in
mini-batches of 1 or 32: `zero_grad`, forward, loss, backward, `step` per batch, the data already
in tensors (no DataLoader). The best of 20 epochs after 3 warm-up epochs.

tinytrain side: `cargo bench -p tinytrain-host --bench train` for the same model, optimiser and
batch sizes (its table: best of 20 epochs of 1,024 samples of the same data). Both on one core of
this machine, one after the other in this run.

Usage: scripts/bench-pytorch.py [--python PYTHON]  (PYTHON: an interpreter with torch installed;
default: this one). `pip install torch` in a venv provides one.
"""

import argparse
import os
import re
import subprocess
import sys

ROWS, FEATURES, EPOCHS, WARMUP = 1024, 64, 20, 3

TORCH_TIMING = r"""
import sys, time, torch
from torch import nn
torch.set_num_threads(1)
rows, features, epochs, warmup = (int(a) for a in sys.argv[1:5])
g = torch.Generator().manual_seed(7)
x = torch.rand(rows, features, generator=g) * 4 - 2
y = torch.arange(rows) % 10
for batch in (1, 32):
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    xs, ys = x.split(batch), y.split(batch)
    best = float("inf")
    for epoch in range(warmup + epochs):
        start = time.perf_counter()
        for xb, yb in zip(xs, ys):
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
        elapsed = time.perf_counter() - start
        if epoch >= warmup:
            best = min(best, elapsed)
    print(f"torch b{batch} {rows / best:.0f} {torch.__version__}")
"""


def torch_rates(python):
    out = subprocess.run(
        [python, "-c", TORCH_TIMING, str(ROWS), str(FEATURES), str(EPOCHS), str(WARMUP)],
        check=True, capture_output=True, text=True).stdout
    rates, version = {}, "?"
    for line in out.splitlines():
        _, batch, rate, version = line.split()
        rates[int(batch[1:])] = float(rate)
    return rates, version


def tinytrain_rates(root):
    # Criterion's own measurements are filtered to the digits model's SGD cases and kept short; the
    # table at the end of the bench is what is compared (best of 20 epochs).
    out = subprocess.run(
        ["cargo", "bench", "-q", "-p", "tinytrain-host", "--bench", "train", "--",
         "64-32-10/sgd", "--warm-up-time", "0.2", "--measurement-time", "0.5"],
        cwd=root, check=True, capture_output=True, text=True,
        env={**os.environ, "TINYTRAIN_BENCH": "64-32-10/sgd"}).stdout
    rates = {}
    for line in out.splitlines():
        m = re.match(r"64-32-10/sgd/b(\d+)\s+(\d+) samples/s", line)
        if m:
            rates[int(m.group(1))] = float(m.group(2))
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable,
                        help="a Python interpreter with torch installed")
    args = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        torch, version = torch_rates(args.python)
    except subprocess.CalledProcessError as e:
        sys.exit(f"PyTorch timing failed (is torch installed for {args.python}? "
                 f"`pip install torch` in a venv):\n{e.stderr}")
    ours = tinytrain_rates(root)
    print(f"digits 64→32→10, SGD lr 0.01, CrossEntropyLoss, one thread; epochs of {ROWS} "
          f"samples, best of {EPOCHS}; PyTorch {version} eager")
    print()
    print("| batch | PyTorch samples/s | tinytrain samples/s | ratio |")
    print("| --- | --- | --- | --- |")
    for batch in (1, 32):
        t, o = torch.get(batch), ours.get(batch)
        ratio = f"{o / t:.0f}×" if t and o else "?"
        print(f"| {batch} | {t:,.0f} | {o:,.0f} | {ratio} |" if t and o else f"| {batch} | ? | ? | ? |")


if __name__ == "__main__":
    main()
