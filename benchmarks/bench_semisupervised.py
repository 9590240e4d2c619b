"""Semi-supervised and active learning of chapter 12: accuracy with 100 labels, and labels chosen
by uncertainty against random ones.

Run on demand (never in the test suite): `.venv/bin/python benchmarks/bench_semisupervised.py`
(the data load_mnist() gives, the chapter's full-profile settings). Prints the test accuracy
with 100 labels as mean ± std over seeds for the Gamma-model, the same network trained on the
labels only and the SimCLR linear probe of chapter 5, then the active-learning curves and the
course's target: uncertainty sampling beats random selection at equal label counts on average.
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


def mean_std(values) -> str:
    values = torch.tensor(values) * 100
    return f"{values.mean():.1f} ± {values.std():.1f}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="load_mnist source (default: its own)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds for the 100-label runs")
    parser.add_argument("--al-seeds", type=int, default=5, help="seeds for active learning")
    parser.add_argument("--gamma-steps", type=int, default=1200,
                        help="optimizer steps per Gamma-model run (batches of 100)")
    parser.add_argument("--simclr-steps", type=int, default=320,
                        help="SimCLR optimizer steps (batches of 256)")
    args = parser.parse_args()

    seed_everything(0)
    device = pick_device()
    data = load_mnist(args.data) if args.data else load_mnist()
    x, y, x_test, y_test = data.x_train, data.y_train, data.x_test, data.y_test
    print(f"{data.description}; device {device}; unlabeled pool {len(x):,}, "
          f"test {len(x_test):,}")

    start = time.perf_counter()
    encoder, _ = simclr_pretrain(x[:20_000], steps=args.simclr_steps, device=device, seed=0)
    train_codes, test_codes = predict(encoder, x, device), predict(encoder, x_test, device)
    print(f"SimCLR pretraining: {time.perf_counter() - start:.0f} s")

    acc = {"Gamma-model": [], "same network, labels only": [], "SimCLR + linear probe": []}
    for seed in range(args.seeds):
        idx = balanced_subset(y, N_LABELS, seed=seed)
        for name, lam in (("Gamma-model", 1.0), ("same network, labels only", 0.0)):
            trainer = train_gamma(x[idx], y[idx], x, lam=lam, steps=args.gamma_steps,
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


if __name__ == "__main__":
    main()
