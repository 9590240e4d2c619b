"""Tests of course_utils.sample_quality: the Frechet distance against closed forms, histograms,
entropy and the classifier's interface."""

import math

import pytest
import torch

from course_utils.sample_quality import (DigitClassifier, class_histogram, features,
                                         frechet_distance, histogram_entropy, class_confidence,
                                         train_digit_classifier)


def gaussian_samples(mean, cov_root, n, seed):
    z = torch.randn(n, len(mean), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    z = (z - z.mean(0)) @ torch.linalg.inv(torch.linalg.cholesky(torch.cov(z.T))).T  # exact N(0, I)
    return mean + z @ cov_root.T


def test_frechet_matches_closed_form_for_diagonal_gaussians():
    # For diagonal covariances the distance is |m1 - m2|^2 + sum (s1 - s2)^2 (std devs s).
    s1, s2 = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64), torch.tensor([2.0, 1.0, 0.5],
                                                                             dtype=torch.float64)
    m1, m2 = torch.zeros(3, dtype=torch.float64), torch.tensor([1.0, -2.0, 0.0], dtype=torch.float64)
    a = gaussian_samples(m1, torch.diag(s1), 500, 0)
    b = gaussian_samples(m2, torch.diag(s2), 500, 1)
    expected = (m1 - m2).square().sum() + (s1 - s2).square().sum()
    assert frechet_distance(a, b) == pytest.approx(float(expected), rel=1e-6)


def test_frechet_matches_closed_form_for_rotated_gaussians():
    # Same spectrum, rotated covariance: tr sqrt(S1^1/2 S2 S1^1/2) by scipy-free formula in 2-D:
    # for 2x2 PSD matrices, tr sqrt(M) = sqrt(tr M + 2 sqrt(det M)).
    angle = torch.tensor(0.7, dtype=torch.float64)
    rot = torch.stack([torch.stack([angle.cos(), -angle.sin()]), torch.stack([angle.sin(), angle.cos()])])
    root1 = torch.diag(torch.tensor([3.0, 0.5], dtype=torch.float64))
    root2 = rot @ root1
    a = gaussian_samples(torch.zeros(2, dtype=torch.float64), root1, 400, 2)
    b = gaussian_samples(torch.ones(2, dtype=torch.float64), root2, 400, 3)
    c1, c2 = root1 @ root1.T, root2 @ root2.T
    r1 = torch.diag(torch.tensor([3.0, 0.5], dtype=torch.float64))  # sqrt of c1
    m = r1 @ c2 @ r1
    tr_sqrt = torch.sqrt(m.trace() + 2 * torch.sqrt(torch.linalg.det(m)))
    expected = 2.0 + c1.trace() + c2.trace() - 2 * tr_sqrt
    assert frechet_distance(a, b) == pytest.approx(float(expected), rel=1e-6)


def test_frechet_zero_for_identical_sets_and_symmetric():
    x = torch.randn(300, 16, generator=torch.Generator().manual_seed(0))
    y = torch.randn(300, 16, generator=torch.Generator().manual_seed(1)) * 2
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(x, y) == pytest.approx(frechet_distance(y, x), rel=1e-6)
    assert frechet_distance(x, y) > 1.0


def test_frechet_rejects_bad_shapes():
    with pytest.raises(ValueError, match="features_a"):
        frechet_distance(torch.randn(10), torch.randn(10, 3))
    with pytest.raises(ValueError, match="features_b"):
        frechet_distance(torch.randn(10, 3), torch.randn(1, 3))
    with pytest.raises(ValueError, match="feature sizes differ"):
        frechet_distance(torch.randn(10, 3), torch.randn(10, 4))


def test_histogram_entropy():
    assert histogram_entropy(torch.full((10,), 7)) == pytest.approx(math.log(10))
    assert histogram_entropy(torch.tensor([5, 0, 0])) == pytest.approx(0.0)
    assert histogram_entropy(torch.tensor([1, 1, 0, 0])) == pytest.approx(math.log(2))
    with pytest.raises(ValueError, match="counts"):
        histogram_entropy(torch.zeros(4))
    with pytest.raises(ValueError, match="counts"):
        histogram_entropy(torch.tensor([1, -1]))


def test_classifier_interface_and_histogram():
    torch.manual_seed(0)
    model = DigitClassifier().eval()
    x = torch.rand(37, 784)
    assert model(x).shape == (37, 10) and features(model, x, "cpu").shape == (37, 128)
    labels, confidence = class_confidence(model, x, "cpu")
    assert labels.shape == (37,) and ((confidence > 0.1 - 1e-6) & (confidence <= 1)).all()
    counts = class_histogram(model, x, "cpu")
    assert counts.shape == (10,) and counts.sum() == 37
    assert torch.equal(counts, torch.bincount(labels, minlength=10))
    with pytest.raises(ValueError, match="images"):
        class_histogram(model, torch.rand(5, 28, 28), "cpu")


def test_train_digit_classifier_learns_a_separable_toy():
    # Two "classes" of images that differ in brightness: a few steps must separate them.
    g = torch.Generator().manual_seed(0)
    x = torch.cat([0.1 * torch.rand(64, 784, generator=g), 0.9 + 0.1 * torch.rand(64, 784, generator=g)])
    y = torch.cat([torch.zeros(64, dtype=torch.long), torch.full((64,), 3)])
    model = train_digit_classifier(x, y, device="cpu", steps=20, batch_size=32)
    labels, _ = class_confidence(model, x, "cpu")
    assert (labels == y).float().mean() > 0.95 and not model.training
    with pytest.raises(ValueError, match="y"):
        train_digit_classifier(x, y[:5], device="cpu", steps=1)
    with pytest.raises(ValueError, match="steps"):
        train_digit_classifier(x, y, device="cpu", steps=0)


def test_frechet_in_one_dimension():
    # 1-D features: (mu_a - mu_b)^2 + (s_a - s_b)^2, with the n - 1 standard deviation.
    a = torch.tensor([[0.0], [2.0], [4.0]], dtype=torch.float64)
    b = torch.tensor([[1.0], [1.0], [1.0], [1.0]], dtype=torch.float64)
    assert frechet_distance(a, b) == pytest.approx(5.0)
