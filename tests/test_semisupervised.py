"""course_utils.semisupervised: the Gamma-model, its loss and trainer, active learning."""

import pytest
import torch
from torch.nn import functional as F

from course_utils.semisupervised import (GammaModel, GammaTrainer, VanillaCombinator,
                                         active_learning_curve, batch_normalize,
                                         class_probabilities, fit_logistic, gamma_loss,
                                         margin_uncertainty, split_apply)

CPU = torch.device("cpu")


def test_vanilla_combinator_matches_its_formula():
    torch.manual_seed(0)
    combinator = VanillaCombinator(3)
    with torch.no_grad():
        combinator.a.normal_()
    z, u = torch.randn(4, 3), torch.randn(4, 3)
    a = combinator.a.detach()
    mu = a[0] * torch.sigmoid(a[1] * u + a[2]) + a[3] * u + a[4]
    v = a[5] * torch.sigmoid(a[6] * u + a[7]) + a[8] * u + a[9]
    assert torch.allclose(combinator(z, u), (z - mu) * v + mu, atol=1e-6)


def test_vanilla_combinator_keeps_the_noisy_value_when_v_is_one():
    combinator = VanillaCombinator(2)
    with torch.no_grad():
        combinator.a.zero_()
        combinator.a[9] = 1.0  # v = 1, mu = 0
    z = torch.randn(5, 2)
    assert torch.allclose(combinator(z, torch.randn(5, 2)), z)


def test_split_apply_normalises_each_part_on_its_own():
    z = torch.cat([torch.randn(6, 3) + 5, torch.randn(4, 3) * 3])
    out = split_apply(batch_normalize, z, 6)
    for part in (out[:6], out[6:]):
        assert torch.allclose(part.mean(0), torch.zeros(3), atol=1e-5)
        assert torch.allclose(part.var(0, unbiased=False), torch.ones(3), atol=1e-3)
    assert torch.allclose(split_apply(batch_normalize, z, 0), batch_normalize(z))


def test_gamma_model_clean_path_is_deterministic_and_noisy_path_is_not():
    torch.manual_seed(0)
    model = GammaModel((12, 8, 3)).eval()
    x = torch.rand(5, 12)
    assert torch.equal(model(x), model(x))
    model.train()
    (z1, l1), (z2, l2) = model.path(x, 0.3), model.path(x, 0.3)
    assert l1.shape == (5, 3) and not torch.equal(l1, l2)


def test_noisy_path_leaves_the_running_statistics_alone():
    model = GammaModel((12, 8, 3)).train()
    before = model.norms[0].running_mean.clone()
    model.path(torch.rand(6, 12), 0.3, 3)
    assert torch.equal(model.norms[0].running_mean, before)
    model.path(torch.rand(6, 12), 0.0, 3)
    assert not torch.equal(model.norms[0].running_mean, before)


def test_gamma_loss_adds_lambda_times_the_denoising_error():
    torch.manual_seed(0)
    model = GammaModel((12, 8, 3))
    x_l, y_l, x_u = torch.rand(4, 12), torch.tensor([0, 1, 2, 0]), torch.rand(6, 12)
    torch.manual_seed(1)
    out = gamma_loss(model, x_l, y_l, x_u, lam=2.5)
    assert torch.allclose(out["loss"], out["ce"] + 2.5 * out["denoise"])
    assert out["denoise"] > 0


def test_gamma_trainer_trains_and_baseline_ignores_unlabeled_digits():
    torch.manual_seed(0)
    x_l, y_l = torch.rand(10, 12), torch.arange(10) % 3
    for lam in (0.0, 1.0):
        model = GammaModel((12, 8, 3))
        trainer = GammaTrainer(model, torch.optim.Adam(model.parameters(), 1e-2), x_l, y_l,
                               lam=lam, labeled_batch=10, device=CPU, batch_size=10,
                               progress=False)
        history = trainer.fit(torch.rand(40, 12), until_epoch=3)
        assert history[-1]["train_ce"] < history[0]["train_ce"]
    # with lam = 0 the unlabeled digits never enter: any values give the same step
    results = []
    for pool in (torch.zeros(10, 12), torch.ones(10, 12)):
        torch.manual_seed(0)
        model = GammaModel((12, 8, 3))
        trainer = GammaTrainer(model, torch.optim.SGD(model.parameters(), 0.1), x_l, y_l,
                               lam=0.0, device=CPU, batch_size=10, progress=False)
        torch.manual_seed(1)
        trainer.fit(pool, until_epoch=1)
        results.append(model.linears[0].weight.detach().clone())
    assert torch.equal(*results)


def test_gamma_trainer_rejects_bad_arguments():
    model = GammaModel((12, 8, 3))
    opt = torch.optim.Adam(model.parameters())
    with pytest.raises(ValueError, match="x_labeled"):
        GammaTrainer(model, opt, torch.rand(3, 12), torch.arange(2), lam=1.0, device=CPU)
    with pytest.raises(ValueError, match="lam"):
        GammaTrainer(model, opt, torch.rand(3, 12), torch.arange(3), lam=-1.0, device=CPU)
    with pytest.raises(ValueError, match="noise_std"):
        GammaModel((12, 3), noise_std=-0.1)


def test_margin_uncertainty_ranks_close_calls_highest():
    probs = torch.tensor([[0.9, 0.05, 0.05], [0.45, 0.44, 0.11], [0.6, 0.3, 0.1]])
    scores = margin_uncertainty(probs)
    assert scores.argmax() == 1 and scores.argmin() == 0
    assert torch.allclose(scores, torch.tensor([-0.85, -0.01, -0.3]), atol=1e-6)
    with pytest.raises(ValueError, match="probs"):
        margin_uncertainty(torch.rand(5))


def _blobs(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    return torch.randn(n, 4, generator=g) * 0.7 + torch.eye(4)[y] * 3, y


def test_class_probabilities_put_zero_on_unseen_classes():
    x, y = _blobs(30, 0)
    keep = y < 2
    probs = class_probabilities(fit_logistic(x[keep], y[keep]), x, n_classes=3)
    assert probs.shape == (30, 3) and torch.all(probs[:, 2] == 0)
    assert torch.allclose(probs.sum(1), torch.ones(30, dtype=probs.dtype))


def test_active_learning_curve_counts_and_labels_distinct_examples():
    x, y = _blobs(120, 0)
    xt, yt = _blobs(60, 1)
    for strategy in ("uncertainty", "random"):
        counts, acc, order = active_learning_curve(strategy, x, y, xt, yt, start=6, step=4,
                                                   budget=20, seed=0)
        assert counts == [6, 10, 14, 18, 20]
        assert len(acc) == 5 and all(0 <= a <= 1 for a in acc)
        assert len(order) == 20 and len(set(order.tolist())) == 20
    first_u = active_learning_curve("uncertainty", x, y, xt, yt, start=6, budget=10)[2]
    first_r = active_learning_curve("random", x, y, xt, yt, start=6, budget=10)[2]
    assert torch.equal(first_u[:6], first_r[:6])  # same seed, same start


def test_active_learning_curve_picks_the_highest_scores():
    x, y = _blobs(60, 0)
    xt, yt = _blobs(30, 1)
    # a score that prefers the largest index: the picks are the last pool rows not yet labeled
    score = lambda probs: torch.arange(len(probs), dtype=torch.float64)  # noqa: E731
    _, _, order = active_learning_curve("uncertainty", x, y, xt, yt, start=6, step=3,
                                        budget=9, seed=0, score=score)
    unlabeled = sorted(set(range(60)) - set(order[:6].tolist()))
    assert sorted(order[6:].tolist()) == unlabeled[-3:]


def test_active_learning_curve_rejects_bad_arguments():
    x, y = _blobs(30, 0)
    with pytest.raises(ValueError, match="strategy"):
        active_learning_curve("entropy", x, y, x, y)
    with pytest.raises(ValueError, match="budget"):
        active_learning_curve("random", x, y, x, y, start=10, budget=5)
    with pytest.raises(ValueError, match="step"):
        active_learning_curve("random", x, y, x, y, start=5, step=0, budget=10)


def test_gamma_trainer_evaluates_labeled_data_with_the_clean_path():
    torch.manual_seed(0)
    x_l, y_l = torch.rand(10, 12), torch.arange(10) % 3
    model = GammaModel((12, 8, 3))
    trainer = GammaTrainer(model, torch.optim.Adam(model.parameters(), 1e-2), x_l, y_l,
                           lam=1.0, labeled_batch=10, device=CPU, batch_size=4, progress=False)
    before = [p.clone() for p in model.parameters()]
    result = trainer.evaluate((x_l, y_l))
    model.eval()
    with torch.no_grad():
        logits = model(x_l)
    assert result["loss"] == pytest.approx(F.cross_entropy(logits, y_l).item(), rel=1e-5)
    assert result["accuracy"] == pytest.approx((logits.argmax(1) == y_l).float().mean().item())
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    history = trainer.fit(torch.rand(40, 12), until_epoch=1, valid=(x_l, y_l))
    assert {"valid_loss", "valid_accuracy"} <= set(history[-1])
