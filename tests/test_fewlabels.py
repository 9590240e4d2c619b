"""course_utils.fewlabels: balanced subsets and linear probes."""

import pytest
import torch

from course_utils.fewlabels import balanced_subset, linear_probe

CPU = torch.device("cpu")


def test_balanced_subset_takes_the_same_number_of_each_class():
    labels = torch.tensor([c for c in range(4) for _ in range(5 + 3 * c)])  # unbalanced
    idx = balanced_subset(labels, 8, seed=0)
    assert torch.bincount(labels[idx], minlength=4).tolist() == [2, 2, 2, 2]
    assert len(set(idx.tolist())) == 8


def test_balanced_subset_repeats_per_seed_and_differs_between_seeds():
    labels = torch.arange(200) % 10
    assert torch.equal(balanced_subset(labels, 50, seed=3), balanced_subset(labels, 50, seed=3))
    assert set(balanced_subset(labels, 50, seed=3).tolist()) != set(balanced_subset(labels, 50, seed=4).tolist())


def test_balanced_subset_none_is_every_example_once():
    labels = torch.arange(30) % 3
    assert sorted(balanced_subset(labels, None).tolist()) == list(range(30))


@pytest.mark.parametrize("n", [0, 15, 2.0, True])
def test_balanced_subset_rejects_a_bad_n(n):
    with pytest.raises(ValueError, match="n="):
        balanced_subset(torch.arange(40) % 10, n)


def test_balanced_subset_rejects_too_few_examples_and_bad_labels():
    with pytest.raises(ValueError, match="only 1"):
        balanced_subset(torch.tensor([0, 0, 0, 1]), 4)
    with pytest.raises(TypeError, match="labels"):
        balanced_subset(torch.rand(10), 2)


def test_linear_probe_separates_separable_codes_and_checks_shapes():
    torch.manual_seed(0)
    codes = torch.randn(100, 3)
    labels = (codes[:, 1] > 0).long()
    assert linear_probe(codes, labels, codes, labels, C=100.0) > 0.95
    with pytest.raises(ValueError, match="test_codes"):
        linear_probe(codes, labels, codes[:, :2], labels)
    with pytest.raises(ValueError, match="train_codes"):
        linear_probe(codes, labels[:50], codes, labels)


@pytest.mark.parametrize("C", [0.1, 1.0])
def test_linear_probe_fits_scikit_learns_logistic_regression_on_standardised_codes(C):
    """Our L-BFGS probe minimises the objective of StandardScaler + LogisticRegression(C):
    the two classify held-out codes alike (10 overlapping classes, unscaled, shifted codes)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    generator = torch.Generator().manual_seed(0)
    centers = 0.4 * torch.randn(10, 20, generator=generator)
    scale = torch.linspace(0.1, 30, 20)  # columns of very different spreads, as ReLU codes have

    def codes(n):
        y = torch.randint(0, 10, (n,), generator=generator)
        return (centers[y] + torch.randn(n, 20, generator=generator)) * scale + 5, y

    (x, y), (x_test, y_test) = codes(600), codes(2000)
    ours = linear_probe(x, y, x_test, y_test, C=C)
    reference = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=5000))
    reference.fit(x.double().numpy(), y.numpy())
    theirs = reference.score(x_test.double().numpy(), y_test.numpy())
    assert 0.3 < theirs < 0.99, theirs  # a problem where the fit matters
    assert abs(ours - theirs) < 0.005, (ours, theirs)


def test_linear_probe_handles_labels_that_are_not_0_to_k():
    codes = torch.tensor([[0.0], [0.1], [5.0], [5.1]])
    labels = torch.tensor([3, 3, 7, 7])
    assert linear_probe(codes, labels, codes, labels, C=10.0) == 1.0
    with pytest.raises(ValueError, match="C="):
        linear_probe(codes, labels, codes, labels, C=0.0)
