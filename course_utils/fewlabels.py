"""Learning with few labels: class-balanced labeled subsets, and a linear probe on frozen
codes (chapter 5 and its benchmark share them)."""

from __future__ import annotations

import torch

from course_utils.checks import class_labels


def balanced_subset(labels: torch.Tensor, n: int | None, seed: int = 0) -> torch.Tensor:
    """Indices of ``n`` examples, the same number from every class, drawn at random.

    ``n`` must be a multiple of the number of classes (100 digits: 10 of each); ``None``
    means every example (in a random order). Different seeds give different subsets.
    """
    labels = class_labels("labels", labels).cpu()
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
