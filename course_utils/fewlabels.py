"""Learning with few labels: class-balanced labeled subsets, a classifier trainer, accuracy,
and a linear probe on frozen codes (chapter 5 and its benchmark share them)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from course_utils.checks import positive_int
from course_utils.train import Trainer


def _check_labels(labels) -> torch.Tensor:
    if not isinstance(labels, torch.Tensor) or labels.ndim != 1 or labels.dtype.is_floating_point:
        raise TypeError("labels: expected a 1-d integer tensor")
    if len(labels) == 0:
        raise ValueError("labels: expected at least one label")
    return labels.cpu()


def balanced_subset(labels: torch.Tensor, n: int | None, seed: int = 0) -> torch.Tensor:
    """Indices of ``n`` examples, the same number from every class, drawn at random.

    ``n`` must be a multiple of the number of classes (100 digits: 10 of each); ``None``
    means every example (in a random order). Different seeds give different subsets.
    """
    labels = _check_labels(labels)
    generator = torch.Generator().manual_seed(seed)
    if n is None:
        return torch.randperm(len(labels), generator=generator)
    classes = labels.unique()
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0 or n % len(classes):
        raise ValueError(f"n={n!r}: expected a positive multiple of the {len(classes)} classes, or None")
    per_class = n // len(classes)
    picked = []
    for c in classes:
        members = torch.nonzero(labels == c).flatten()  # (n_c,)
        if len(members) < per_class:
            raise ValueError(f"n={n}: class {int(c)} has only {len(members)} examples, "
                             f"{per_class} needed")
        picked.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    picked = torch.cat(picked)
    return picked[torch.randperm(len(picked), generator=generator)]  # classes mixed


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, device: torch.device, batch_size: int = 1000) -> torch.Tensor:
    """The class ``model`` (logits out) predicts for each row of ``x``, on the CPU, in eval mode."""
    was_training = model.training
    model.eval()
    try:
        return torch.cat([model(x[i:i + batch_size].to(device)).argmax(dim=1).cpu()
                          for i in range(0, len(x), batch_size)])
    finally:
        model.train(was_training)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device) -> float:
    """Fraction of ``x`` (N, ...) that ``model`` classifies as ``y`` (N,)."""
    if len(x) != len(y):
        raise ValueError(f"x, y: expected the same length, got {len(x)} and {len(y)}")
    return (predict(model, x, device) == y.cpu()).float().mean().item()


def classification_loss(model: nn.Module, batch) -> torch.Tensor:
    """Cross-entropy of ``model``'s logits on a (images, labels) batch."""
    x, y = batch
    return F.cross_entropy(model(x), y)


def train_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, steps: int,
                     device: torch.device, lr: float = 1e-3, batch_size: int = 128,
                     seed: int = 0, weight_decay: float = 0.0) -> Trainer:
    """Adam on the cross-entropy for about ``steps`` mini-batch steps (whole epochs, at least
    one); only parameters with ``requires_grad`` train. Returns the Trainer (its history)."""
    positive_int("steps", steps)
    if len(x) != len(y):
        raise ValueError(f"x, y: expected the same length, got {len(x)} and {len(y)}")
    batch_size = min(batch_size, len(x))
    epochs = max(1, round(steps * batch_size / len(x)))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    trainer = Trainer(model, optimizer, classification_loss, device=device,
                      batch_size=batch_size, progress=False, seed=seed)
    trainer.fit((x, y), epochs)
    return trainer


def linear_probe(train_codes: torch.Tensor, train_labels: torch.Tensor, test_codes: torch.Tensor,
                 test_labels: torch.Tensor, C: float = 1.0) -> float:
    """Test accuracy of a logistic regression fitted on frozen codes (N, d) and their labels."""
    from sklearn.linear_model import LogisticRegression

    for name, codes, labels in (("train", train_codes, train_labels), ("test", test_codes, test_labels)):
        if codes.ndim != 2 or len(codes) != len(labels):
            raise ValueError(f"{name}_codes: expected shape (N, d) matching {name}_labels, "
                             f"got {tuple(codes.shape)} and {len(labels)} labels")
    if train_codes.shape[1] != test_codes.shape[1]:
        raise ValueError(f"test_codes: expected {train_codes.shape[1]} columns like train_codes, "
                         f"got {test_codes.shape[1]}")
    probe = LogisticRegression(C=C, max_iter=2000)
    probe.fit(train_codes.detach().cpu().double().numpy(), train_labels.cpu().numpy())
    return float(probe.score(test_codes.detach().cpu().double().numpy(), test_labels.cpu().numpy()))
