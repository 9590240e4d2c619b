"""Judging generated digits without downloads: a small MNIST classifier trained by the course,
its class histogram of samples (mode coverage), and a Frechet distance on its features.

The Frechet distance between Gaussians fitted to two feature sets is the idea of FID
(Heusel et al., 2017); FID uses an ImageNet Inception network, we use our own digit classifier,
so our numbers are comparable with each other, not with published FIDs.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from course_utils.checks import shaped
from course_utils.classifier import classify, train_classifier
from course_utils.device import seeded
from course_utils.train import predict


class DigitClassifier(nn.Module):
    """28x28 -> 14x14 -> 7x7 convnet; ``features`` is its 128-unit penultimate layer."""

    def __init__(self, feature_dim: int = 128):
        super().__init__()
        self.body = nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 28x28 => 14x14
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 14x14 => 7x7
            nn.Flatten(), nn.Linear(64 * 7 * 7, feature_dim), nn.ReLU())
        self.head = nn.Linear(feature_dim, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 784) images in [0, 1] -> (N, feature_dim) features."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))  # (N, 10) logits


def train_digit_classifier(x: torch.Tensor, y: torch.Tensor, *, device, steps: int = 600,
                           batch_size: int = 128, seed: int = 0) -> DigitClassifier:
    """A DigitClassifier trained on (N, 784) images and (N,) labels for about ``steps`` Adam
    steps (by ``classifier.train_classifier``, its random draws from ``seed``); returned in
    eval mode on ``device``."""
    shaped("x", x, (None, 784))
    if not isinstance(y, torch.Tensor) or y.shape != (len(x),):
        raise ValueError(f"y: expected ({len(x)},) labels, got {getattr(y, 'shape', y)!r}")
    with seeded(seed):
        model = DigitClassifier()
        train_classifier(model, x, y, steps=steps, device=device, batch_size=batch_size, seed=seed)
    return model.eval()


def class_confidence(classifier: nn.Module, images: torch.Tensor, device):
    """(labels (N,), confidence (N,)): the classifier's most probable class and its probability."""
    shaped("images", images, (None, 784))
    confidence, labels = F.softmax(predict(classifier, images, device), 1).max(1)  # (N,), (N,)
    return labels, confidence


def features(classifier: nn.Module, images: torch.Tensor, device):
    """The classifier's (N, feature_dim) features of (N, 784) images, on the CPU."""
    shaped("images", images, (None, 784))
    return predict(classifier.features, images, device)


def class_histogram(classifier: nn.Module, images: torch.Tensor, device) -> torch.Tensor:
    """(10,) counts of the classes the classifier assigns to ``images`` (N, 784) in [0, 1]."""
    shaped("images", images, (None, 784))
    return torch.bincount(classify(classifier, images, device), minlength=10)


def histogram_entropy(counts: torch.Tensor) -> float:
    """Entropy in nats of the distribution ``counts / counts.sum()``; log(10) when uniform."""
    counts = torch.as_tensor(counts, dtype=torch.float64)
    if counts.ndim != 1 or (counts < 0).any() or counts.sum() <= 0:
        raise ValueError("counts: expected a 1-D tensor of non-negative counts, not all zero")
    p = counts / counts.sum()
    p = p[p > 0]
    return float(-(p * p.log()).sum())


def _sqrtm_psd(matrix: torch.Tensor) -> torch.Tensor:
    """Square root of a symmetric positive semi-definite matrix by its eigendecomposition."""
    values, vectors = torch.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def _check_feature_sets(features_a, features_b) -> None:
    """A ValueError naming the argument unless both are (N, d) tensors with N >= 2 and
    the same d."""
    for name, f in (("features_a", features_a), ("features_b", features_b)):
        if not isinstance(f, torch.Tensor) or f.ndim != 2 or len(f) < 2:
            shape = tuple(f.shape) if isinstance(f, torch.Tensor) else type(f).__name__
            raise ValueError(f"{name}: expected a tensor (N, d) with N >= 2, got {shape}")
    if features_a.shape[1] != features_b.shape[1]:
        raise ValueError(f"features_a and features_b: feature sizes differ, "
                         f"{features_a.shape[1]} vs {features_b.shape[1]}")


def frechet_distance(features_a: torch.Tensor,
                     features_b: torch.Tensor) -> float:
    """Squared Frechet (2-Wasserstein) distance between Gaussians fitted to
    two feature sets (N, d) and (M, d), in float64:
    |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a^1/2 S_b S_a^1/2)^1/2)."""
    _check_feature_sets(features_a, features_b)
    a = features_a.detach().cpu().double()  # (N, d)
    b = features_b.detach().cpu().double()  # (M, d)
    mu_a, mu_b = a.mean(0), b.mean(0)  # (d,)
    d = a.shape[1]
    cov_a = torch.cov(a.T).reshape(d, d)  # (d, d), a matrix even when d = 1
    cov_b = torch.cov(b.T).reshape(d, d)
    root_a = _sqrtm_psd(cov_a)  # S_a^1/2
    eigenvalues = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp(min=0)
    cross = eigenvalues.sqrt().sum()  # tr((S_a^1/2 S_b S_a^1/2)^1/2)
    distance = ((mu_a - mu_b).square().sum() + cov_a.trace() + cov_b.trace()
                - 2 * cross)
    return max(float(distance), 0.0)
