"""course_utils.classifier: the classifier trainer, the predicted classes and accuracy."""

import pytest
import torch
from torch import nn

from course_utils.classifier import accuracy, classify, train_classifier

CPU = torch.device("cpu")


def test_accuracy_and_classify_use_the_argmax_and_restore_the_mode():
    model = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]])
    assert classify(model, x, CPU).tolist() == [0, 1, 0]
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


def test_train_classifier_names_empty_or_mismatched_data():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="y: expected at least one label"):
        train_classifier(model, torch.rand(0, 2), torch.zeros(0, dtype=torch.long), steps=1, device=CPU)
    with pytest.raises(ValueError, match="x, y: expected the same length"):
        train_classifier(model, torch.rand(3, 2), torch.zeros(2, dtype=torch.long), steps=1, device=CPU)
    with pytest.raises(TypeError, match="y: expected a 1-D integer tensor"):
        train_classifier(model, torch.rand(3, 2), torch.zeros(3), steps=1, device=CPU)


def test_train_classifier_stops_at_a_nan_loss_naming_the_step():
    model = nn.Linear(2, 2)
    x = torch.rand(8, 2)
    x[5] = float("nan")  # the second batch of 4 holds it
    with pytest.raises(FloatingPointError, match="step 2: loss = nan"):
        train_classifier(model, x, torch.zeros(8, dtype=torch.long), steps=3, device=CPU,
                         batch_size=4, seed=0)
