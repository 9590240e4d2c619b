"""course_utils.diffusion: the closed form of q(x_t | x_0) against running the forward process,
the samplers against the exact noise predictor of Gaussian data, the U-Net's shapes and
conditioning, and the variational bound: its terms for an exact model, its prior term against
torch's KL, and its stratified estimate against the full sum."""

from __future__ import annotations

import math

import pytest
import torch

from course_utils.diffusion import (NoiseSchedule, TinyUNet, ToyDenoiser, ddim_sample,
                                    ddpm_sample, epsilon_loss, time_embedding)


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
    x = ddpm_sample(oracle, schedule, (20_000, 1), torch.Generator().manual_seed(0),
                    clip_x0=False)
    assert x.mean().item() == pytest.approx(0.7, abs=0.02)
    assert x.std().item() == pytest.approx(0.3, abs=0.02)


def test_ddim_recovers_it_on_every_step_and_approaches_it_as_steps_grow():
    """DDIM follows an ODE; with few steps its discretization shrinks the spread."""
    schedule = NoiseSchedule(steps=1000)
    oracle = GaussianOracle(schedule, mean=0.7, std=0.3)
    spread = {}
    for steps in (10, 50, 1000):
        x = ddim_sample(oracle, schedule, (20_000, 1), steps=steps,
                        generator=torch.Generator().manual_seed(0), clip_x0=False)
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


class _PointOracle(torch.nn.Module):
    """The exact noise predictor when the data are one image x0: x_t is
    sqrt(alpha_bar) x0 + sqrt(1 - alpha_bar) eps, so eps is known from x_t."""

    def __init__(self, schedule, x0):
        super().__init__()
        self.schedule, self.x0 = schedule, x0
        self.dummy = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x, t):
        a = self.schedule.alpha_bars[t].to(x).view(-1, *[1] * (x.dim() - 1))
        return (x - a.sqrt() * self.x0) / (1 - a).sqrt()


def test_the_bound_of_the_exact_model_of_one_image_is_its_decoder_term():
    # every KL term vanishes (the reverse mean is the posterior mean); what is
    # left is L_T and L_0, the Gaussian mass of N(x0, beta_1) on x0's bin
    from course_utils.diffusion import bound_term, prior_term, variational_bound
    schedule = NoiseSchedule(steps=50)
    x0 = torch.tensor([[-1.0, 1 / 255, 1.0]])       # a black, a middle, a white pixel
    oracle = _PointOracle(schedule, x0)
    for t in (2, 17, 50):
        assert bound_term(oracle, schedule, x0, t).item() == pytest.approx(0, abs=1e-6)
    std, half = math.sqrt(schedule.betas[1].item()), 1 / 255
    normal = torch.distributions.Normal(0.0, std)
    end = normal.cdf(torch.tensor(half)).item()                   # black or white: one side
    middle = (normal.cdf(torch.tensor(half)) - normal.cdf(torch.tensor(-half))).item()
    expected = -2 * math.log(end) - math.log(middle)
    assert bound_term(oracle, schedule, x0, 1).item() == pytest.approx(expected, rel=1e-4)
    total = variational_bound(oracle, schedule, x0, strata=7)
    assert total.item() == pytest.approx(expected + prior_term(schedule, x0).item(), rel=1e-4)


def test_the_stratified_estimate_of_the_bound_is_unbiased():
    from course_utils.diffusion import bound_term, prior_term, variational_bound
    torch.manual_seed(0)
    schedule = NoiseSchedule(steps=40, beta_end=0.2)
    model = ToyDenoiser(hidden=16).eval()
    x0 = torch.rand(3, 2) * 2 - 1
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():   # every term once, averaged over 50 draws of x_t
        exact = prior_term(schedule, x0) + torch.stack([
            torch.stack([bound_term(model, schedule, x0, t, generator)
                         for _ in range(50)]).mean(0)
            for t in range(1, 41)]).sum(0)
        estimates = torch.stack([variational_bound(model, schedule, x0, 4, generator)
                                 for _ in range(400)])           # (400, 3)
    error = estimates.std(0) / math.sqrt(len(estimates))
    assert ((estimates.mean(0) - exact).abs() < 4 * error + 1e-3 * exact.abs()).all()
    assert (estimates.std(0) > 0).all()                          # it does sample t


def test_the_bound_names_bad_strata():
    from course_utils.diffusion import variational_bound
    with pytest.raises(ValueError, match="strata"):
        variational_bound(TinyUNet(channels=8), NoiseSchedule(steps=10),
                          torch.zeros(1, 1, 28, 28), strata=0)


def test_the_prior_term_is_the_kl_to_a_standard_normal():
    from course_utils.diffusion import prior_term
    schedule = NoiseSchedule(steps=30, beta_end=0.2)
    x0 = torch.rand(2, 1, 4, 4, dtype=torch.float64) * 2 - 1
    a = schedule.alpha_bars[-1].item()
    q = torch.distributions.Normal(math.sqrt(a) * x0, math.sqrt(1 - a))
    want = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0))
    assert torch.allclose(prior_term(schedule, x0), want.flatten(1).sum(1), rtol=1e-9)


def test_the_discretized_gaussian_gives_the_levels_probabilities_summing_to_one():
    from course_utils.diffusion import discretized_gaussian_nll
    grid = torch.arange(256, dtype=torch.float64) / 127.5 - 1          # 256 levels in [-1, 1]
    for mean, std in ((0.3, 0.05), (-0.99, 0.01), (1.2, 0.5)):
        p = (-discretized_gaussian_nll(grid, torch.full_like(grid, mean), std)).exp()
        assert p.sum().item() == pytest.approx(1.0, abs=1e-9)
        assert p.argmax().item() == min(255, max(0, round((mean + 1) * 127.5)))


def test_clipping_keeps_the_predicted_digit_and_the_samples_in_range():
    # an untrained network predicts wild noise; with clip_x0 the x_0 each step
    # aims at stays in [-1, 1], and so do the samples, whose last step is x_0
    torch.manual_seed(0)
    model = TinyUNet(channels=8).eval()
    schedule = NoiseSchedule(steps=20, beta_end=0.3)
    for clip in (True, False):
        a = ddpm_sample(model, schedule, (4, 1, 28, 28), torch.Generator().manual_seed(0),
                        clip_x0=clip)
        b = ddim_sample(model, schedule, (4, 1, 28, 28), 5, torch.Generator().manual_seed(0),
                        clip_x0=clip)
        inside = a.abs().max() <= 1 + 1e-6 and b.abs().max() <= 1 + 1e-6
        assert inside == clip


def test_the_posterior_mean_is_bayes_rule_on_two_gaussians():
    from course_utils.diffusion import posterior_mean, reverse_step_variance
    schedule = NoiseSchedule(steps=50, beta_end=0.1)
    x0, x_t = torch.randn(2, 5, dtype=torch.float64)
    for t in (2, 30, 50):
        beta, a_prev = schedule.betas[t].item(), schedule.alpha_bars[t - 1].item()
        precision = 1 / (1 - a_prev) + (1 - beta) / beta     # the two Gaussians' precisions
        mean = (math.sqrt(a_prev) * x0 / (1 - a_prev) + math.sqrt(1 - beta) * x_t / beta) / precision
        assert torch.allclose(posterior_mean(schedule, x0, x_t, t), mean)
        assert reverse_step_variance(schedule, t) == pytest.approx(1 / precision)
