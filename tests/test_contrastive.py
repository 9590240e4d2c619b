"""course_utils.contrastive: random views, NT-Xent, SimCLR pretraining."""

import math

import pytest
import torch

from course_utils.contrastive import nt_xent, random_views, simclr_model, simclr_pretrain

CPU = torch.device("cpu")


def test_random_views_without_warp_are_the_digits_themselves():
    x = torch.rand(5, 784)
    same = random_views(x, max_degrees=0.0, max_scale=0.0, max_shift=0.0, max_shear=0.0)
    assert torch.allclose(same, x, atol=1e-5)


def test_random_views_warp_each_digit_differently_but_keep_its_ink():
    torch.manual_seed(0)
    x = torch.zeros(64, 784)
    x.view(64, 28, 28)[:, 10:18, 10:18] = 1.0  # a square in the middle: stays in frame
    views = random_views(x)
    assert views.shape == x.shape
    assert (views - x).abs().sum(dim=1).min() > 0  # every view moved
    assert not torch.allclose(views[0], views[1])
    ink_ratio = views.sum(dim=1) / x.sum(dim=1)  # scaling by at most 25% changes area
    assert ink_ratio.min() > 0.4 and ink_ratio.max() < 2.0


def test_nt_xent_is_near_zero_for_matched_views_and_near_chance_for_random_ones():
    z = torch.eye(16)[:8]
    assert nt_xent(z, z, tau=0.1) < 0.01
    torch.manual_seed(0)
    chance = torch.stack([nt_xent(*torch.randn(2, 64, 32), tau=1.0) for _ in range(20)]).mean()
    assert abs(chance - math.log(127)) < 0.1  # each view guesses among 127 others


def test_nt_xent_ignores_the_length_of_the_vectors_and_swapping_the_views():
    torch.manual_seed(1)
    z1, z2 = torch.randn(2, 10, 8)
    assert torch.allclose(nt_xent(z1, z2), nt_xent(3 * z1, 0.5 * z2), atol=1e-5)
    assert torch.allclose(nt_xent(z1, z2), nt_xent(z2, z1), atol=1e-5)


@pytest.mark.parametrize("tau", [0, -0.2, float("nan"), float("inf"), True, "0.2", None])
def test_nt_xent_refuses_a_temperature_that_is_not_positive_naming_tau(tau):
    z = torch.randn(4, 8)
    with pytest.raises(ValueError, match=rf"tau={tau!r}: expected a positive finite number"):
        nt_xent(z, z, tau=tau)


def test_nt_xent_takes_a_tensor_temperature():
    torch.manual_seed(2)
    z1, z2 = torch.randn(2, 6, 4)
    assert torch.equal(nt_xent(z1, z2, tau=torch.tensor(0.5)), nt_xent(z1, z2, tau=0.5))
    with pytest.raises(ValueError, match="tau: expected positive finite values"):
        nt_xent(z1, z2, tau=torch.tensor(0.0))


def test_simclr_pretrain_trains_the_encoder_that_it_returns():
    torch.manual_seed(0)
    x = torch.rand(64, 784)
    untrained = simclr_model()[0]  # the same seed would draw these weights
    encoder, history = simclr_pretrain(x, steps=4, device=CPU, batch_size=32)
    assert len(history) == 2 and all(math.isfinite(h["train_loss"]) for h in history)
    assert encoder(x[:3]).shape == (3, 128)
    before = dict(untrained.named_parameters())
    assert any(not torch.equal(p, before[n]) for n, p in encoder.named_parameters())


@pytest.mark.parametrize("x", [torch.rand(10, 28, 28), torch.rand(10, 100), [[0.0] * 784]])
def test_simclr_pretrain_rejects_inputs_that_are_not_flat_digits(x):
    with pytest.raises(ValueError, match="x: expected"):
        simclr_pretrain(x, steps=1, device=CPU)


def test_simclr_pretrain_rejects_a_bad_step_count():
    with pytest.raises((ValueError, TypeError), match="steps"):
        simclr_pretrain(torch.rand(10, 784), steps=0, device=CPU)
