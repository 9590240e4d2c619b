"""What the resumable benchmarks share: their checkpoint options, and the start of a run
(seed, device, data, and a line saying which ran)."""

from __future__ import annotations

import argparse

from course_utils.data import load_mnist
from course_utils.device import pick_device, seed_everything


def add_resume_options(parser: argparse.ArgumentParser) -> None:
    """--checkpoint-dir, --log-every and --progress: save and resume training, so that an
    interrupted run loses at most --log-every steps."""
    parser.add_argument("--checkpoint-dir", default=None, help="save and resume training here")
    parser.add_argument("--log-every", type=int, default=500, help="steps between checkpoints")
    parser.add_argument("--progress", action="store_true", help="show progress bars")


def add_judging_options(parser: argparse.ArgumentParser) -> None:
    """--samples, --vae-steps, --gan-steps and --judge-steps: the benchmarks that judge samples
    against chapter 7's VAE and chapter 8's DCGAN (trained as bench_gan.py trains them) with
    the course's classifier."""
    parser.add_argument("--samples", type=int, default=1000, help="samples judged per model")
    parser.add_argument("--vae-steps", type=int, default=1000, help="VAE steps (bench_gan's)")
    parser.add_argument("--gan-steps", type=int, default=2500, help="DCGAN steps (bench_gan's)")
    parser.add_argument("--judge-steps", type=int, default=400, help="classifier's steps")


def begin_run(data_source: str | None):
    """Seed 0, the device, and the data ``load_mnist(data_source)`` gives, printed; returns
    (device, data, whether it is full MNIST)."""
    seed_everything(0)
    device = pick_device()
    data = load_mnist(data_source)
    print(f"device {device}; {data.description}")
    return device, data, data.source == "mnist"
