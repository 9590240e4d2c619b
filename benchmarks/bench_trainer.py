"""Trainer throughput on the best device: images per second for two autoencoders, AMP on and off.

Run on demand (never in the test suite): `make bench`, or
`.venv/bin/python benchmarks/bench_trainer.py --images 20000 --steps 237`.
Uses random images of MNIST's shape, so it needs no data set. Each model first takes
--warmup-steps untimed steps (default 79: one pass over the default 20,000 images in batches of
256), then --steps timed ones (default 237: three such passes); images/s counts the images the
timed steps actually trained on.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from course_utils.device import pick_device, seeded
from course_utils.train import Trainer


def models(k: int = 16) -> dict[str, nn.Module]:
    return {
        "linear AE 784-16-784": nn.Sequential(nn.Linear(784, k), nn.Linear(k, 784)),
        "deep AE 784-1000-500-250-30": nn.Sequential(
            nn.Linear(784, 1000), nn.ReLU(), nn.Linear(1000, 500), nn.ReLU(), nn.Linear(500, 250),
            nn.ReLU(), nn.Linear(250, 30), nn.Linear(30, 250), nn.ReLU(), nn.Linear(250, 500),
            nn.ReLU(), nn.Linear(500, 1000), nn.ReLU(), nn.Linear(1000, 784)),
    }


def reconstruction_loss(model, batch):
    (x,) = batch
    return ((model(x) - x) ** 2).sum(1).mean()


class CountingLoss:
    """reconstruction_loss, counting the images it has seen (a pass's last batch may be short)."""

    def __init__(self):
        self.images = 0

    def __call__(self, model, batch):
        self.images += len(batch[0])
        return reconstruction_loss(model, batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=20000, help="random images to train on")
    parser.add_argument("--steps", type=int, default=237,
                        help="timed optimizer steps (default: 3 passes over 20,000 images / 256)")
    parser.add_argument("--warmup-steps", type=int, default=79,
                        help="untimed steps first (default: 1 pass over 20,000 images / 256)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    device = pick_device(args.device)
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
          f"{args.images} images, {args.warmup_steps} warm-up + {args.steps} timed steps, "
          f"batch {args.batch_size}")
    x = torch.rand(args.images, 784)
    for name in models():
        for amp in ([False, True] if device.type == "cuda" else [False]):
            loss = CountingLoss()
            with seeded(0):
                model = models()[name]
                trainer = Trainer(model, torch.optim.Adam(model.parameters(), 1e-3), loss,
                                  device=device, batch_size=args.batch_size, amp=amp,
                                  progress=False)
                trainer.fit(x, until_step=args.warmup_steps)  # allocation, kernel selection
                if device.type == "cuda":
                    torch.cuda.synchronize()
                loss.images = 0
                start = time.perf_counter()
                trainer.fit(x, until_step=args.warmup_steps + args.steps)
                if device.type == "cuda":
                    torch.cuda.synchronize()
                seconds = time.perf_counter() - start
            print(f"{name:30s} amp={str(amp):5s} {loss.images / seconds:12,.0f} images/s "
                  f"({seconds:.2f} s)")


if __name__ == "__main__":
    main()
