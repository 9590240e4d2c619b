"""course_utils.fewlabels: balanced subsets, accuracy, the classifier trainer, linear probes."""

import pytest
import torch
from torch import nn

from course_utils.fewlabels import (accuracy, balanced_subset, linear_probe, predict,
                                    train_classifier)

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


def test_accuracy_and_predict_use_the_argmax_and_restore_the_mode():
    model = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]])
    assert predict(model, x, CPU).tolist() == [0, 1, 0]
    assert accuracy(model, x, torch.tensor([0, 1, 1]), CPU) == pytest.approx(2 / 3)
    assert model.training
    with pytest.raises(ValueError, match="x, y"):
        accuracy(model, x, torch.tensor([0]), CPU)


def test_train_classifier_learns_a_separable_problem_and_skips_frozen_parameters():
    torch.manual_seed(0)
    x = torch.randn(200, 5)
    y = (x[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2))
    model[0].weight.requires_grad_(False)
    frozen = model[0].weight.clone()
    trainer = train_classifier(model, x, y, steps=40, device=CPU, lr=3e-2, batch_size=50)
    assert torch.equal(model[0].weight, frozen)
    assert accuracy(model, x, y, CPU) > 0.9
    assert trainer.history[-1]["train_loss"] < trainer.history[0]["train_loss"]
    with pytest.raises(ValueError, match="steps"):
        train_classifier(model, x, y, steps=0, device=CPU)


def test_linear_probe_separates_separable_codes_and_checks_shapes():
    torch.manual_seed(0)
    codes = torch.randn(100, 3)
    labels = (codes[:, 1] > 0).long()
    assert linear_probe(codes, labels, codes, labels, C=100.0) > 0.95
    with pytest.raises(ValueError, match="test_codes"):
        linear_probe(codes, labels, codes[:, :2], labels)
    with pytest.raises(ValueError, match="train_codes"):
        linear_probe(codes, labels[:50], codes, labels)
