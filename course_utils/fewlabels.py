"""Learning with few labels: class-balanced labeled subsets, and a linear probe on frozen
codes (chapter 5 and its benchmark share them)."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from course_utils.checks import class_labels, positive_float, positive_int


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
                 test_labels: torch.Tensor, C: float = 1.0, max_iter: int = 1000) -> float:
    """Test accuracy of a logistic regression fitted on frozen codes (N, d) and their labels.

    The codes are standardised with the training codes' mean and spread (as scikit-learn's
    StandardScaler does), then a softmax regression minimises the mean cross-entropy plus
    ||W||^2 / (2 C N): scikit-learn's LogisticRegression(C=C) objective, to its tolerance
    (largest gradient entry 1e-4). We minimise it with torch's L-BFGS in float64 because
    scikit-learn took minutes on 60,000 codes, this seconds; tests/test_fewlabels.py checks
    that both classify alike.
    """
    for name, codes, labels in (("train", train_codes, train_labels), ("test", test_codes, test_labels)):
        if codes.ndim != 2 or len(codes) != len(labels):
            raise ValueError(f"{name}_codes: expected shape (N, d) matching {name}_labels, "
                             f"got {tuple(codes.shape)} and {len(labels)} labels")
    if train_codes.shape[1] != test_codes.shape[1]:
        raise ValueError(f"test_codes: expected {train_codes.shape[1]} columns like train_codes, "
                         f"got {test_codes.shape[1]}")
    C = positive_float("C", C)
    y = class_labels("train_labels", train_labels).cpu()
    classes = y.unique()  # (K,) the classes seen in training, sorted
    target = torch.searchsorted(classes, y)  # (N,) in 0..K-1
    x = train_codes.detach().cpu().double()
    mean, spread = x.mean(dim=0), x.std(dim=0, unbiased=False)
    spread = torch.where(spread > 0, spread, torch.ones_like(spread))  # constant columns stay
    x = (x - mean) / spread
    weight = torch.zeros(x.shape[1], len(classes), dtype=x.dtype, requires_grad=True)
    bias = torch.zeros(len(classes), dtype=x.dtype, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=positive_int("max_iter", max_iter),
                                  tolerance_grad=1e-4, tolerance_change=1e-12, history_size=20,
                                  line_search_fn="strong_wolfe")

    def objective():
        optimizer.zero_grad()
        loss = F.cross_entropy(x @ weight + bias, target) + (weight**2).sum() / (2 * C * len(x))
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(objective)
    with torch.no_grad():
        x_test = (test_codes.detach().cpu().double() - mean) / spread
        predicted = classes[(x_test @ weight + bias).argmax(dim=1)]
    return (predicted == test_labels.cpu()).double().mean().item()
