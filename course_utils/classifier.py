"""The course's classifier trainer: cross-entropy with Adam for a budget of steps, the
predicted classes, and accuracy (used by chapters 5, 8, 9, 12 and 13 and their benchmarks)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from course_utils.checks import class_labels, positive_int, same_length
from course_utils.train import Trainer, predict


def classification_loss(model: nn.Module, batch) -> torch.Tensor:
    """Cross-entropy of ``model``'s logits on a (images, labels) batch."""
    x, y = batch
    return F.cross_entropy(model(x), y)


def train_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, steps: int,
                     device: torch.device, lr: float = 1e-3, batch_size: int = 128,
                     seed: int = 0, weight_decay: float = 0.0) -> Trainer:
    """Adam on the cross-entropy for ``steps`` mini-batch steps; only parameters with
    ``requires_grad`` train. Returns the Trainer (its history)."""
    same_length("x, y", x, class_labels("y", y))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    trainer = Trainer(model, optimizer, classification_loss, device=device,
                      batch_size=min(batch_size, len(x)), progress=False, seed=seed)
    trainer.fit((x, y), until_step=positive_int("steps", steps))
    return trainer


def classify(model: nn.Module, x: torch.Tensor, device, batch_size: int = 1000) -> torch.Tensor:
    """The class ``model`` (logits out) predicts for each row of ``x``, (N,) on the CPU."""
    return predict(model, x, device, batch_size).argmax(dim=1)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, device) -> float:
    """Fraction of ``x`` (N, ...) that ``model`` classifies as ``y`` (N,)."""
    same_length("x, y", x, class_labels("y", y))
    return (classify(model, x, device) == y.cpu()).float().mean().item()
