"""Semi-supervised and active learning of chapter 12: accuracy with 100 labels, and labels chosen
by uncertainty against random ones.

Run on demand (never in the test suite), each part at most 5 minutes on 2 cores:

    .venv/bin/python benchmarks/bench_semisupervised.py --part compare
    COURSE_DATA=mnist .venv/bin/python benchmarks/bench_semisupervised.py --part gamma --widths paper

--part compare (the chapter's settings): test accuracy with 100 labels as mean ± std over
seeds for the Gamma-model, the same network trained on the labels only and the SimCLR linear
probe of chapter 5, then the active-learning curves and the course's target: uncertainty
sampling beats random selection at equal label counts on average.

--part gamma: one Gamma-model (Rasmus et al., 2015) with 100 labels, trained longer: 6,000 steps
on full MNIST (10 passes over the 60,000 digits, batches of 100 labelled + 100 unlabelled),
1,200 on the offline data. --widths chapter is the chapter's 784-500-250-10 network, --widths
paper the paper's 784-1000-500-250-250-250-10. Targets on full MNIST (issue 17): the Gamma-model
at least 93%, the best method at least 95%. Rasmus et al. report 3.06 ± 1.44% test error
(96.9%) for the Gamma-model with 100 labels on permutation-invariant MNIST (their Table 1), after
150 epochs.

Measured on full MNIST, seed 0, one thread beside another job (2026-12-06, issue 17's note):
chapter widths 87.7, 90.7, 92.0, 93.0, 93.6, 94.0% after 1,000 to 6,000 steps (127 s); paper
widths 89.1, 92.1, 92.8, 94.3, 94.7% after 1,000 to 5,000. The SimCLR probe stays near 91%
with 1,000 pretraining steps on all 60,000 digits (90.8%), and label spreading over its codes
gave less (87.4%).
Alone on the 2-core CPU, with the defaults: chapter widths 94.0, 93.3 and 93.8% (seeds 0, 1,
2; 89-105 s each); paper widths 95.1% (seed 0, 262 s). Both targets met, the second narrowly.
"""

from __future__ import annotations

import argparse
import time

import torch

from course_utils.classifier import accuracy
from course_utils.contrastive import simclr_pretrain
from course_utils.data import load_mnist
from course_utils.device import pick_device, seed_everything
from course_utils.fewlabels import balanced_subset, linear_probe
from course_utils.semisupervised import active_learning_curve, train_gamma
from course_utils.train import predict

N_LABELS = 100
WIDTHS = {"chapter": (784, 500, 250, 10),  # chapter 12's network
          "paper": (784, 1000, 500, 250, 250, 250, 10)}  # Rasmus et al.'s
TARGET_GAMMA, TARGET_BEST = 0.93, 0.95  # full MNIST, 100 labels (issue 17)


def mean_std(values) -> str:
    values = torch.tensor(values) * 100
    return f"{values.mean():.1f} ± {values.std():.1f}%"


def compare(args, data, device) -> None:
    """The chapter's comparison with 100 labels, then active learning."""
    x, y, x_test, y_test = data.x_train, data.y_train, data.x_test, data.y_test

    start = time.perf_counter()
    encoder, _ = simclr_pretrain(x[:20_000], steps=args.simclr_steps, device=device, seed=0)
    train_codes, test_codes = predict(encoder, x, device), predict(encoder, x_test, device)
    print(f"SimCLR pretraining: {time.perf_counter() - start:.0f} s")

    acc = {"Gamma-model": [], "same network, labels only": [], "SimCLR + linear probe": []}
    for seed in range(args.seeds):
        idx = balanced_subset(y, N_LABELS, seed=seed)
        for name, lam in (("Gamma-model", 1.0), ("same network, labels only", 0.0)):
            trainer = train_gamma(x[idx], y[idx], x, lam=lam, steps=args.gamma_steps or 1200,
                                  device=device, seed=seed)
            acc[name].append(accuracy(trainer.model, x_test, y_test, device))
        acc["SimCLR + linear probe"].append(
            linear_probe(train_codes[idx], y[idx], test_codes, y_test))
    print(f"\ntest accuracy with {N_LABELS} labels, mean ± std over {args.seeds} seeds:")
    for name, values in acc.items():
        print(f"  {name:28s} {mean_std(values)}  ({', '.join(f'{100 * v:.1f}' for v in values)})")

    curves = {"uncertainty": [], "random": []}
    for seed in range(args.al_seeds):
        for strategy, runs in curves.items():
            counts, accs, _ = active_learning_curve(strategy, train_codes, y, test_codes,
                                                    y_test, start=20, step=10, budget=200,
                                                    seed=seed)
            runs.append(accs)
    curves = {k: torch.tensor(v) * 100 for k, v in curves.items()}
    print(f"\nactive learning on SimCLR codes (logistic regression), {args.al_seeds} seeds:")
    print("  labels  uncertainty      random")
    for i, n in enumerate(counts):
        u, r = curves["uncertainty"][:, i], curves["random"][:, i]
        print(f"  {n:6d}  {u.mean():5.1f} ± {u.std():3.1f}%  {r.mean():5.1f} ± {r.std():3.1f}%")
    gap = (curves["uncertainty"] - curves["random"]).mean().item()
    print(f"mean gap (uncertainty - random) over label counts and seeds: {gap:+.2f} points")
    verdict = "met" if gap > 0 else "NOT MET"
    print(f"uncertainty beats random at equal label counts on average: {verdict}")


def gamma(args, data, device) -> None:
    """One Gamma-model with 100 labels, trained longer; the full-MNIST targets."""
    x, y, x_test, y_test = data.x_train, data.y_train, data.x_test, data.y_test
    full = data.source == "mnist"
    steps = args.gamma_steps or (6000 if full else 1200)
    idx = balanced_subset(y, N_LABELS, seed=args.seed)
    start = time.perf_counter()
    trainer = train_gamma(x[idx], y[idx], x, lam=1.0, steps=steps, device=device,
                          seed=args.seed, widths=WIDTHS[args.widths])
    seconds = time.perf_counter() - start
    acc = accuracy(trainer.model, x_test, y_test, device)
    print(f"Gamma-model {'-'.join(map(str, WIDTHS[args.widths]))}, {N_LABELS} labels (seed "
          f"{args.seed}), {steps} steps in {seconds:.0f} s: test accuracy {100 * acc:.1f}%")
    if not full:
        print("targets are for full MNIST (COURSE_DATA=mnist)")
        return
    for text, need in ((f"Gamma-model >= {100 * TARGET_GAMMA:.0f}%", TARGET_GAMMA),
                       (f"best method >= {100 * TARGET_BEST:.0f}%", TARGET_BEST)):
        print(f"target ({text}): {'met' if acc >= need else 'NOT MET'} by this run")
    print(f"target (at most 300 s of training): {'met' if seconds <= 300 else 'NOT MET'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["compare", "gamma"], default="compare")
    parser.add_argument("--data", default=None, help="load_mnist source (default: its own)")
    parser.add_argument("--seeds", type=int, default=3, help="compare: seeds for 100 labels")
    parser.add_argument("--al-seeds", type=int, default=5, help="compare: seeds for active learning")
    parser.add_argument("--gamma-steps", type=int, default=None,
                        help="optimizer steps per Gamma-model run (batches of 100); default "
                             "compare 1,200; gamma 6,000 on full MNIST, 1,200 offline")
    parser.add_argument("--simclr-steps", type=int, default=320,
                        help="compare: SimCLR optimizer steps (batches of 256)")
    parser.add_argument("--widths", choices=list(WIDTHS), default="chapter", help="gamma: network")
    parser.add_argument("--seed", type=int, default=0, help="gamma: labelled subset and weights")
    args = parser.parse_args()

    seed_everything(0)
    device = pick_device()
    data = load_mnist(args.data) if args.data else load_mnist()
    print(f"{data.description}; device {device}; unlabeled pool {len(data.x_train):,}, "
          f"test {len(data.x_test):,}")
    (compare if args.part == "compare" else gamma)(args, data, device)


if __name__ == "__main__":
    main()
