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
