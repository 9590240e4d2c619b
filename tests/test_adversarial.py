"""Attacks, adversarial training and gradient reversal (course_utils.adversarial)."""

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from course_utils.adversarial import (DomainAdversarialNet, GradientReversal,
                                      adversarial_training_loss, conv_classifier,
                                      domain_adversarial_loss, fgsm, fool, fooling_images,
                                      ganin_mnist_net, pgd, robust_accuracy, shifted_domain)
from course_utils.models import mlp
from course_utils.train import Trainer

CPU = torch.device("cpu")


def toy_data(n=400, d=20, seed=0):
    """Points in [0, 1]^d; the label says whether the first half outweighs the second."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, d, generator=g)
    y = (x[:, : d // 2].sum(1) > x[:, d // 2:].sum(1)).long()
    return x, y


@pytest.fixture(scope="module")
def trained():
    torch.manual_seed(0)
    x, y = toy_data()
    model = mlp([20, 32, 2])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(200):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval(), x, y


def test_fgsm_step_is_eps_and_stays_in_the_box():
    torch.manual_seed(0)
    model = mlp([20, 16, 3])
    x = 0.3 + 0.4 * torch.rand(8, 20)  # away from 0 and 1: nothing clipped
    y = torch.randint(0, 3, (8,))
    x_adv = fgsm(model, x, y, eps=0.1)
    assert torch.allclose((x_adv - x).abs(), torch.full_like(x, 0.1), atol=1e-6)
    edge = torch.cat([torch.zeros(4, 20), torch.ones(4, 20)])
    x_edge = fgsm(model, edge, y, eps=0.3)
    assert x_edge.min() >= 0 and x_edge.max() <= 1
    assert (x_edge - edge).abs().max() <= 0.3 + 1e-6
    assert not x_adv.requires_grad and all(p.grad is None for p in model.parameters())


def test_fgsm_increases_the_loss(trained):
    model, x, y = trained
    clean = F.cross_entropy(model(x), y).item()
    attacked = F.cross_entropy(model(fgsm(model, x, y, eps=0.05)), y).item()
    assert attacked > clean + 0.05, (clean, attacked)


def test_pgd_stays_in_the_ball_and_beats_fgsm(trained):
    model, x, y = trained
    torch.manual_seed(1)
    x_pgd = pgd(model, x, y, eps=0.08, steps=10)
    assert (x_pgd - x).abs().max() <= 0.08 + 1e-6
    assert x_pgd.min() >= 0 and x_pgd.max() <= 1
    acc = lambda xa: (model(xa).argmax(1) == y).float().mean().item()  # noqa: E731
    assert acc(x) > 0.9
    assert acc(x_pgd) <= acc(fgsm(model, x, y, eps=0.08)) < acc(x)


def test_robust_accuracy_matches_a_direct_count(trained):
    model, x, y = trained
    direct = (model(fgsm(model, x, y, 0.05)).argmax(1) == y).float().mean().item()
    assert robust_accuracy(model, x, y, CPU, fgsm, batch_size=64, eps=0.05) == pytest.approx(direct)
    assert robust_accuracy(model, x, y, CPU) == pytest.approx(
        (model(x).argmax(1) == y).float().mean().item())


def test_fool_and_fooling_images_reach_their_target(trained):
    model, x, y = trained
    target = 1 - y[:10]
    fooled = fool(model, x[:10], target, lam=0.01, steps=100, lr=0.02)
    assert fooled.min() >= 0 and fooled.max() <= 1
    assert (model(fooled).argmax(1) == target).all()
    noise = torch.rand(10, 20, generator=torch.Generator().manual_seed(3))
    made = fooling_images(model, noise, target, steps=30, step_size=0.02)
    assert (model(made).argmax(1) == target).all()
    assert (made - noise).abs().max() <= 30 * 0.02 + 1e-6


def test_gradient_reversal_is_identity_forward_and_minus_lam_backward():
    x = torch.randn(5, 4, requires_grad=True)
    weights = torch.randn(5, 4)
    out = GradientReversal(lam=0.7)(x)
    assert torch.equal(out, x)
    (grad,) = torch.autograd.grad((out * weights).sum(), x)
    (plain,) = torch.autograd.grad((x * weights).sum(), x)
    assert torch.allclose(grad, -0.7 * plain)
    (none,) = torch.autograd.grad(GradientReversal(lam=0.0)(x).sum(), x)
    assert torch.equal(none, torch.zeros_like(x))  # lam = 0: the branch stops the gradient


def test_domain_loss_reverses_only_the_features_gradient():
    torch.manual_seed(0)
    model = DomainAdversarialNet(nn.Linear(6, 4), nn.Linear(4, 3), nn.Linear(4, 1), lam=0.5)
    xs, ys, xt = torch.randn(8, 6), torch.randint(0, 3, (8,)), torch.randn(8, 6)

    def domain_grads(m):
        logits = m.domain_logit(torch.cat([xs, xt]))
        target = torch.cat([torch.zeros(8), torch.ones(8)])
        loss = F.binary_cross_entropy_with_logits(logits, target)
        return torch.autograd.grad(loss, [m.features.weight, m.domain_head.weight])

    metrics = domain_adversarial_loss(model, (xs, ys, xt))
    assert torch.allclose(metrics["loss"], metrics["label_loss"] + metrics["domain_loss"])
    reversed_feat, reversed_head = domain_grads(model)
    model.reverse = nn.Identity()
    feat, head = domain_grads(model)
    assert torch.allclose(reversed_head, head)
    assert torch.allclose(reversed_feat, -0.5 * feat)


def test_losses_train_through_the_trainer():
    torch.manual_seed(0)
    x, y = toy_data(64)
    model = mlp([20, 8, 2])
    trainer = Trainer(model, torch.optim.Adam(model.parameters()),
                      adversarial_training_loss(0.1), device=CPU, batch_size=32, progress=False)
    record = trainer.fit((x, y), until_epoch=1)[-1]
    assert {"train_loss", "train_clean_loss", "train_adversarial_loss"} <= set(record)
    assert record["train_adversarial_loss"] > record["train_clean_loss"]
    net = ganin_mnist_net(lam=0.1)
    digits = torch.rand(32, 784)
    trainer = Trainer(net, torch.optim.Adam(net.parameters()), domain_adversarial_loss,
                      device=CPU, batch_size=16, progress=False)
    record = trainer.fit((digits, torch.randint(0, 10, (32,)), digits.flip(0)), until_epoch=1)[-1]
    assert {"train_label_loss", "train_domain_loss"} <= set(record)
    assert conv_classifier(8)(digits[:2]).shape == (2, 10)


def test_shifted_domain_is_a_seeded_blend_in_the_box():
    x = torch.zeros(6, 784)
    x[:, 300:320] = 1.0
    a, b = shifted_domain(x, seed=1), shifted_domain(x, seed=1)
    assert torch.equal(a, b) and not torch.equal(a, shifted_domain(x, seed=2))
    assert a.min() >= 0 and a.max() <= 1 and a.shape == x.shape
    assert a[:, :300].max() <= 0.6 + 1e-6  # background b <= brightness
    assert (a[:, 300:320] >= 0.4 - 1e-6).all()  # the digit stays brighter: |b - 1| >= 0.4


@pytest.mark.parametrize("call, name", [
    (lambda m, x, y: fgsm(m, x, y, eps=-0.1), "eps"),
    (lambda m, x, y: fgsm(m, x, y, eps=True), "eps"),
    (lambda m, x, y: pgd(m, x, y, eps=0.1, steps=0), "steps"),
    (lambda m, x, y: pgd(m, x, y, eps=0.1, step_size=-1.0), "step_size"),
    (lambda m, x, y: fool(m, x, y, lam=-1.0), "lam"),
    (lambda m, x, y: fooling_images(m, x, y, steps=0), "steps"),
    (lambda m, x, y: adversarial_training_loss(0.1, clean_weight=2.0), "clean_weight"),
    (lambda m, x, y: robust_accuracy(m, x, y[:3], CPU), "x, y"),
    (lambda m, x, y: GradientReversal(lam=-1), "lam"),
    (lambda m, x, y: shifted_domain(torch.rand(3, 10)), "x"),
    (lambda m, x, y: shifted_domain(torch.rand(3, 784), brightness=1.5), "brightness"),
])
def test_bad_arguments_raise_errors_naming_them(call, name):
    model, (x, y) = mlp([20, 4, 2]), toy_data(8)
    with pytest.raises(ValueError, match=name):
        call(model, x, y)
