"""course_utils.diffusion: the closed form of q(x_t | x_0) against running the forward process,
the samplers against the exact noise predictor of Gaussian data, and the U-Net's shapes and
conditioning."""

from __future__ import annotations

import math

import pytest
import torch

from course_utils.diffusion import (NoiseSchedule, TinyUNet, ddim_sample, ddpm_sample,
                                    epsilon_loss, time_embedding)


def test_the_closed_form_of_q_matches_running_the_forward_process():
    schedule = NoiseSchedule(steps=100)
    torch.manual_seed(0)
    x0 = torch.full((40_000, 1), 1.5)
    x = x0.clone()
    for t in range(1, 61):
        x = schedule.forward_step(x, torch.full((len(x),), t))
    a = schedule.alpha_bars[60].item()
    assert x.mean().item() == pytest.approx(math.sqrt(a) * 1.5, abs=0.02)
    assert x.var().item() == pytest.approx(1 - a, abs=0.02)
    direct = schedule.q_sample(x0, torch.full((len(x0),), 60))
    assert direct.mean().item() == pytest.approx(x.mean().item(), abs=0.03)
    assert direct.var().item() == pytest.approx(x.var().item(), abs=0.03)


def test_the_schedule_starts_without_noise_and_refuses_times_outside_it():
    schedule = NoiseSchedule(steps=10)
    x0 = torch.randn(3, 2)
    assert torch.equal(schedule.q_sample(x0, torch.zeros(3, dtype=torch.long)), x0)
    with pytest.raises(ValueError, match="t: expected steps in 0..10"):
        schedule.q_sample(x0, torch.tensor([0, 5, 11]))
    with pytest.raises(ValueError, match="beta_start"):
        NoiseSchedule(beta_start=0.5, beta_end=0.1)


class GaussianOracle(torch.nn.Module):
    """The exact E[eps | x_t] for data x_0 ~ N(mean, std^2), elementwise."""

    def __init__(self, schedule, mean, std):
        super().__init__()
        self.schedule, self.mean, self.std = schedule, mean, std
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x, t):
        a = self.schedule.alpha_bars[t].float().view(-1, *([1] * (x.dim() - 1)))
        variance = a * self.std ** 2 + 1 - a
        return (1 - a).sqrt() * (x - a.sqrt() * self.mean) / variance


def test_ddpm_with_the_exact_noise_predictor_recovers_the_data_distribution():
    schedule = NoiseSchedule(steps=1000)  # alpha_bar_T near 0: x_T is N(0, I)
    oracle = GaussianOracle(schedule, mean=0.7, std=0.3)
    x = ddpm_sample(oracle, schedule, (20_000, 1), torch.Generator().manual_seed(0))
    assert x.mean().item() == pytest.approx(0.7, abs=0.02)
    assert x.std().item() == pytest.approx(0.3, abs=0.02)


def test_ddim_recovers_it_on_every_step_and_approaches_it_as_steps_grow():
    """DDIM follows an ODE; with few steps its discretization shrinks the spread."""
    schedule = NoiseSchedule(steps=1000)
    oracle = GaussianOracle(schedule, mean=0.7, std=0.3)
    spread = {}
    for steps in (10, 50, 1000):
        x = ddim_sample(oracle, schedule, (20_000, 1), steps=steps,
                        generator=torch.Generator().manual_seed(0))
        assert x.mean().item() == pytest.approx(0.7, abs=0.02)
        spread[steps] = x.std().item()
    assert spread[1000] == pytest.approx(0.3, abs=0.01)
    assert abs(spread[10] - 0.3) > abs(spread[50] - 0.3) > abs(spread[1000] - 0.3)


def test_the_loss_of_the_exact_predictor_is_below_that_of_predicting_zero():
    schedule = NoiseSchedule(steps=100)
    oracle = GaussianOracle(schedule, mean=0.0, std=0.5)
    torch.manual_seed(0)
    x0 = 0.5 * torch.randn(4000, 3)
    exact = epsilon_loss(oracle, x0, schedule).item()
    zero = epsilon_loss(lambda x, t: torch.zeros_like(x), x0, schedule).item()
    assert exact < zero - 0.3 and zero == pytest.approx(3.0, rel=0.05)


def test_the_unet_maps_noisy_digits_to_noise_and_uses_time_and_class():
    torch.manual_seed(0)
    model = TinyUNet(channels=8, classes=10).eval()
    x = torch.randn(2, 1, 28, 28)
    t = torch.tensor([5, 500])
    out = model(x, t, torch.tensor([3, 10]))
    assert out.shape == (2, 1, 28, 28)
    assert not torch.allclose(model(x, t.flip(0)), model(x, t))
    assert not torch.allclose(model(x, t, torch.tensor([1, 1])), model(x, t, torch.tensor([2, 2])))
    assert torch.allclose(model(x, t), model(x, t, torch.tensor([10, 10])))  # null label
    loss = epsilon_loss(model.train(), x, NoiseSchedule(steps=1000), torch.tensor([0, 1]))
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    with pytest.raises(ValueError, match="labels"):
        TinyUNet(channels=8)(x, t, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="channels"):
        TinyUNet(channels=12)


def test_time_embedding_is_sines_and_cosines():
    emb = time_embedding(torch.tensor([0, 3]), 8)
    assert emb.shape == (2, 8)
    assert torch.allclose(emb[0], torch.tensor([0.0] * 4 + [1.0] * 4))
    assert emb[1, 0].item() == pytest.approx(math.sin(3.0))


def test_guidance_with_weight_zero_is_the_conditional_model_and_extrapolates_otherwise():
    from course_utils.diffusion import Guided
    torch.manual_seed(0)
    model = TinyUNet(channels=8, classes=10).eval()
    x, t, labels = torch.randn(2, 1, 28, 28), torch.tensor([10, 700]), torch.tensor([3, 4])
    with torch.no_grad():
        conditional = model(x, t, labels)
        unconditional = model(x, t)
        assert torch.equal(Guided(model, labels, 0.0)(x, t), conditional)
        guided = Guided(model, labels, 2.0)(x, t)
    assert torch.allclose(guided, 3 * conditional - 2 * unconditional, atol=1e-5)
    with pytest.raises(ValueError, match="class-conditional"):
        Guided(TinyUNet(channels=8), labels, 1.0)
    with pytest.raises(ValueError, match="weight"):
        Guided(model, labels, -1.0)


def test_the_mixture_score_is_the_gradient_of_the_noised_log_density():
    from course_utils.diffusion import mixture_score
    centers = torch.tensor([[1.0, 0.0], [-1.0, 0.5], [0.0, -1.0]], dtype=torch.double)
    std, alpha_bar = 0.2, 0.6
    x = torch.randn(5, 2, dtype=torch.double, requires_grad=True)
    s2 = alpha_bar * std ** 2 + 1 - alpha_bar
    means = math.sqrt(alpha_bar) * centers
    log_q = torch.logsumexp(-((x[:, None] - means[None]) ** 2).sum(-1) / (2 * s2), dim=1)
    (grad,) = torch.autograd.grad(log_q.sum(), x)
    assert torch.allclose(mixture_score(centers, std, x.detach(), alpha_bar), grad)
