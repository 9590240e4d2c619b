"""Diffusion models (Ho et al., 2020; Song et al., 2021): the forward noising
process with its closed form q(x_t | x_0), the epsilon-prediction loss,
ancestral (DDPM) and deterministic few-step (DDIM) sampling, classifier-free
guidance, the variational bound, and a small U-Net for 28x28 digits with a time
embedding and an optional class."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.checks import positive_int


class NoiseSchedule:
    """A linear schedule of variances beta_1..beta_T (Ho et al., 2020), and
    what follows: alpha_t = 1 - beta_t and alpha_bar_t = alpha_1 ... alpha_t,
    so that q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I).
    Index t runs 1..T; position 0 holds alpha_bar_0 = 1 (no noise)."""

    def __init__(self, steps: int = 1000, beta_start: float = 1e-4,
                 beta_end: float = 0.02):
        self.steps = positive_int("steps", steps)
        if not 0 < beta_start <= beta_end < 1:
            raise ValueError(f"beta_start, beta_end: expected 0 < "
                             f"{beta_start} <= {beta_end} < 1")
        betas = torch.linspace(beta_start, beta_end, steps,
                               dtype=torch.float64)
        zero = torch.zeros(1, dtype=torch.float64)
        self.betas = torch.cat([zero, betas])                    # (T + 1,)
        self.alpha_bars = torch.cumprod(1 - self.betas, 0)       # (T + 1,)

    def _at(self, values: torch.Tensor, t: torch.Tensor,
            like: torch.Tensor) -> torch.Tensor:
        """values[t] shaped to broadcast against ``like`` (B, ...)."""
        if (t < 0).any() or (t > self.steps).any():
            raise ValueError(f"t: expected steps in 0..{self.steps}, "
                             f"got {t.min()}..{t.max()}")
        out = values.to(like.device)[t.to(like.device)].to(like.dtype)
        return out.view(-1, *([1] * (like.dim() - 1)))

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor,
                 noise: torch.Tensor | None = None) -> torch.Tensor:
        """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps, at once."""
        noise = torch.randn_like(x0) if noise is None else noise
        a = self._at(self.alpha_bars, t, x0)
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    def forward_step(self, x_prev: torch.Tensor, t: torch.Tensor,
                     noise: torch.Tensor | None = None) -> torch.Tensor:
        """One step of the chain, x_t ~ N(sqrt(1 - beta_t) x_{t-1}, beta_t)."""
        noise = torch.randn_like(x_prev) if noise is None else noise
        b = self._at(self.betas, t, x_prev)
        return (1 - b).sqrt() * x_prev + b.sqrt() * noise


def epsilon_loss(model: nn.Module, x0: torch.Tensor, schedule: NoiseSchedule,
                 labels: torch.Tensor | None = None) -> torch.Tensor:
    """The simplified DDPM loss: E_{t, eps} |eps - model(x_t, t)|^2, t uniform
    on 1..T, summed over pixels and averaged over the batch; ``labels`` go to
    the model as its class (for classifier-free guidance, the caller drops
    some to the null class)."""
    t = torch.randint(1, schedule.steps + 1, (len(x0),), device=x0.device)
    noise = torch.randn_like(x0)
    x_t = schedule.q_sample(x0, t, noise)
    predicted = model(x_t, t) if labels is None else model(x_t, t, labels)
    return (predicted - noise).pow(2).flatten(1).sum(1).mean()


def posterior_mean(schedule: NoiseSchedule, x0: torch.Tensor,
                   x_t: torch.Tensor, t: int) -> torch.Tensor:
    """The mean of q(x_{t-1} | x_t, x_0), Bayes' rule on two Gaussians:
    sqrt(alpha_bar_{t-1}) beta_t / (1 - alpha_bar_t) x_0
    + sqrt(alpha_t) (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) x_t."""
    beta = schedule.betas[t].item()
    a_t, a_prev = (schedule.alpha_bars[t].item(),
                   schedule.alpha_bars[t - 1].item())
    return (math.sqrt(a_prev) * beta * x0
            + math.sqrt(1 - beta) * (1 - a_prev) * x_t) / (1 - a_t)


def predicted_clean(schedule: NoiseSchedule, x_t: torch.Tensor, t: int,
                    eps: torch.Tensor, clip_x0: bool) -> torch.Tensor:
    """x_0 = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t), clipped
    to the digits' range [-1, 1] when ``clip_x0``."""
    a_t = schedule.alpha_bars[t].item()
    x0 = (x_t - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    return x0.clamp(-1, 1) if clip_x0 else x0


def reverse_step_variance(schedule: NoiseSchedule, t: int) -> float:
    """sigma_t^2 of p(x_{t-1} | x_t): the variance of q(x_{t-1} | x_t, x_0),
    beta_t (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t)."""
    a_t, a_prev = (schedule.alpha_bars[t].item(),
                   schedule.alpha_bars[t - 1].item())
    return schedule.betas[t].item() * (1 - a_prev) / (1 - a_t)


@torch.no_grad()
def ddpm_sample(model: nn.Module, schedule: NoiseSchedule, shape: tuple,
                generator: torch.Generator | None = None, device=None,
                clip_x0: bool = True) -> torch.Tensor:
    """Ancestral sampling: x_T ~ N(0, I), then T reverse steps, each a
    Gaussian around the posterior mean at the x_0 that eps predicts (clipped
    to [-1, 1] unless ``clip_x0=False``), with the posterior's variance. The
    last step adds no noise."""
    device = device or next(model.parameters()).device
    x = torch.randn(shape, generator=generator).to(device)
    for t in range(schedule.steps, 0, -1):
        tt = torch.full((shape[0],), t, device=device, dtype=torch.long)
        x0 = predicted_clean(schedule, x, t, model(x, tt), clip_x0)
        x = posterior_mean(schedule, x0, x, t)
        if t > 1:
            z = torch.randn(shape, generator=generator).to(device)
            x = x + math.sqrt(reverse_step_variance(schedule, t)) * z
    return x


@torch.no_grad()
def ddim_sample(model: nn.Module, schedule: NoiseSchedule, shape: tuple,
                steps: int, generator: torch.Generator | None = None,
                device=None, clip_x0: bool = True) -> torch.Tensor:
    """Deterministic DDIM sampling (Song et al., 2021, eta = 0) on ``steps``
    evenly spaced times: predict x_0 from eps (clipped to [-1, 1] unless
    ``clip_x0=False``), then move to the earlier time along the noise that
    this x_0 implies."""
    steps = positive_int("steps", steps)
    device = device or next(model.parameters()).device
    times = torch.linspace(schedule.steps, 0, steps + 1).round().long()
    x = torch.randn(shape, generator=generator).to(device)
    for t, s in zip(times[:-1].tolist(), times[1:].tolist()):
        tt = torch.full((shape[0],), t, device=device, dtype=torch.long)
        x0 = predicted_clean(schedule, x, t, model(x, tt), clip_x0)
        a_t, a_s = (schedule.alpha_bars[t].item(),
                    schedule.alpha_bars[s].item())
        eps = (x - math.sqrt(a_t) * x0) / math.sqrt(1 - a_t)
        x = math.sqrt(a_s) * x0 + math.sqrt(1 - a_s) * eps
    return x


def time_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of integer times t (B,) -> (B, dim), as in the
    Transformer."""
    half = dim // 2
    steps = torch.arange(half, device=t.device)
    freqs = torch.exp(-math.log(10_000) * steps / half)
    angles = t.float()[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class ResidualBlock(nn.Module):
    """GroupNorm, SiLU, 3x3 convolution, twice; the time (and class)
    embedding is added between them, per channel; a 1x1 convolution matches
    channels on the skip path."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(8, c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2 = nn.GroupNorm(8, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = (nn.Conv2d(c_in, c_out, 1) if c_in != c_out
                     else nn.Identity())

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(emb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class TinyUNet(nn.Module):
    """A small U-Net predicting the noise eps of x_t (B, 1, 28, 28) at time
    t (B,): 28x28 -> 14x14 -> 7x7 and back, with skip connections. With
    ``classes`` it also takes labels (B,) in 0..classes, where ``classes``
    itself is the null label of classifier-free guidance."""

    def __init__(self, channels: int = 32, classes: int | None = None):
        super().__init__()
        c = positive_int("channels", channels)
        if c % 8:
            raise ValueError(f"channels: expected a multiple of 8 (group "
                             f"norm), got {c}")
        self.emb_dim = 4 * c
        self.time = nn.Sequential(nn.Linear(c, self.emb_dim), nn.SiLU(),
                                  nn.Linear(self.emb_dim, self.emb_dim))
        self.classes = classes
        self.label = (nn.Embedding(positive_int("classes", classes) + 1,
                                   self.emb_dim)
                      if classes is not None else None)
        self.stem = nn.Conv2d(1, c, 3, padding=1)
        e = self.emb_dim
        self.down1 = ResidualBlock(c, c, e)                          # 28x28
        self.pool1 = nn.Conv2d(c, 2 * c, 3, stride=2, padding=1)     # 14x14
        self.down2 = ResidualBlock(2 * c, 2 * c, e)
        self.pool2 = nn.Conv2d(2 * c, 2 * c, 3, stride=2, padding=1)  # 7x7
        self.middle = ResidualBlock(2 * c, 2 * c, e)
        self.up2 = nn.ConvTranspose2d(2 * c, 2 * c, 4, 2, padding=1)  # 14x14
        self.dec2 = ResidualBlock(4 * c, 2 * c, e)
        self.up1 = nn.ConvTranspose2d(2 * c, c, 4, 2, padding=1)      # 28x28
        self.dec1 = ResidualBlock(2 * c, c, e)
        self.out = nn.Sequential(nn.GroupNorm(8, c), nn.SiLU(),
                                 nn.Conv2d(c, 1, 3, padding=1))
        self.channels = c

    def forward(self, x: torch.Tensor, t: torch.Tensor,
                labels: torch.Tensor | None = None) -> torch.Tensor:
        emb = self.time(time_embedding(t, self.channels))
        if self.label is not None:
            if labels is None:
                labels = torch.full_like(t, self.classes)    # the null label
            emb = emb + self.label(labels)
        elif labels is not None:
            raise ValueError("labels: this TinyUNet was built without classes=")
        h1 = self.down1(self.stem(x), emb)                   # (B, c, 28, 28)
        h2 = self.down2(self.pool1(h1), emb)                 # (B, 2c, 14, 14)
        h = self.middle(self.pool2(h2), emb)                 # (B, 2c, 7, 7)
        h = self.dec2(torch.cat([self.up2(h), h2], 1), emb)  # (B, 2c, 14, 14)
        h = self.dec1(torch.cat([self.up1(h), h1], 1), emb)  # (B, c, 28, 28)
        return self.out(h)


class Guided(nn.Module):
    """Classifier-free guidance (Ho & Salimans, 2022) as a noise predictor of
    (x, t): eps = (1 + w) eps(x, t, labels) - w eps(x, t, null), for a model
    trained with labels sometimes dropped to the null label. w = 0 is the
    plain conditional model."""

    def __init__(self, model: nn.Module, labels: torch.Tensor, weight: float):
        super().__init__()
        if getattr(model, "classes", None) is None:
            raise ValueError("model: expected a class-conditional model "
                             "(built with classes=)")
        if weight < 0:
            raise ValueError(f"weight: expected w >= 0, got {weight}")
        self.model, self.weight = model, float(weight)
        self.register_buffer("labels", labels.long())

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        conditional = self.model(x, t, self.labels)
        if self.weight == 0:
            return conditional
        null = torch.full_like(self.labels, self.model.classes)
        unconditional = self.model(x, t, null)
        return (1 + self.weight) * conditional - self.weight * unconditional


class ToyDenoiser(nn.Module):
    """A noise predictor for 2-D points: an MLP on (x_t, embedding of t)."""

    def __init__(self, hidden: int = 128, dims: int = 2):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dims + 32, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, dims))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, time_embedding(t, 32)], 1))  # (B, dims)


def discretized_gaussian_nll(x0: torch.Tensor, mean: torch.Tensor, std: float,
                              levels: int = 256) -> torch.Tensor:
    """-log P(x0) per entry, x0 on a grid of ``levels`` values in [-1, 1],
    P the mass of N(mean, std^2) on x0's bin (the end bins run to +-inf)."""
    half = 1 / (levels - 1)                                # half a bin
    normal = torch.distributions.Normal(mean, std)
    upper = torch.where(x0 > 1 - half, torch.ones_like(x0),
                        normal.cdf(x0 + half))
    lower = torch.where(x0 < -1 + half, torch.zeros_like(x0),
                        normal.cdf(x0 - half))
    return -(upper - lower).clamp(min=1e-12).log()


def bound_term(model: nn.Module, schedule: NoiseSchedule, x0: torch.Tensor,
               t: int, generator: torch.Generator | None = None,
               clip_x0: bool = True) -> torch.Tensor:
    """One term of the variational bound, in nats per image (B,), for
    x0 (B, ...) in [-1, 1] on 256 levels, with one draw of x_t ~ q(x_t | x0),
    for the reverse steps ``ddpm_sample`` takes. t = 1: L_0 = -log p(x0 | x_1),
    the last step's Gaussian integrated over each pixel's bin. t >= 2:
    L_{t-1} = KL(q(x_{t-1} | x_t, x0) || p(x_{t-1} | x_t)), two Gaussians of
    the same variance, so only their means differ."""
    noise = torch.randn(x0.shape, generator=generator).to(x0)
    tt = torch.full((len(x0),), t, device=x0.device, dtype=torch.long)
    x_t = schedule.q_sample(x0, tt, noise)
    guess = predicted_clean(schedule, x_t, t, model(x_t, tt), clip_x0)
    mean_p = posterior_mean(schedule, guess, x_t, t)
    if t == 1:
        std = math.sqrt(schedule.betas[1].item())
        return discretized_gaussian_nll(x0, mean_p, std).flatten(1).sum(1)
    mean_q = posterior_mean(schedule, x0, x_t, t)
    variance = reverse_step_variance(schedule, t)
    return ((mean_q - mean_p) ** 2 / (2 * variance)).flatten(1).sum(1)


def prior_term(schedule: NoiseSchedule, x0: torch.Tensor) -> torch.Tensor:
    """L_T = KL(q(x_T | x0) || N(0, I)) in nats per image (B,): per pixel,
    KL(N(m, v) || N(0, 1)) = (m^2 + v - 1 - log v) / 2."""
    a = schedule.alpha_bars[-1].item()
    m2, v = a * x0 ** 2, 1 - a
    return (0.5 * (m2 + v - 1 - math.log(v))).flatten(1).sum(1)


@torch.no_grad()
def variational_bound(model: nn.Module, schedule: NoiseSchedule,
                      x0: torch.Tensor, strata: int,
                      generator: torch.Generator | None = None,
                      clip_x0: bool = True) -> torch.Tensor:
    """An unbiased estimate of the negative variational bound
    L_T + L_{T-1} + ... + L_0 >= -log p(x0), nats per image (B,): L_T and
    L_0 exactly; the sum over t = 2..T from one t drawn in each of at most
    ``strata`` ranges of times, weighted by the range's length. The ranges
    are even in log t, one time each where t is small and the terms are
    large and change fast."""
    strata = positive_int("strata", strata)
    total = prior_term(schedule, x0) + bound_term(model, schedule, x0, 1,
                                                  generator, clip_x0)
    edges = torch.logspace(math.log10(2), math.log10(schedule.steps + 1),
                           strata + 1).round().long().unique().tolist()
    for low, high in zip(edges[:-1], edges[1:]):                # [low, high)
        t = int(torch.randint(low, high, (1,), generator=generator))
        total += (high - low) * bound_term(model, schedule, x0, t, generator,
                                           clip_x0)
    return total


def mixture_score(centers: torch.Tensor, std: float, x: torch.Tensor,
                  alpha_bar: float) -> torch.Tensor:
    """The exact score grad_x log q_t(x) of an equal-weight mixture of
    Gaussians N(c, std^2 I) after noising to alpha_bar: a mixture of
    N(sqrt(alpha_bar) c, s^2 I) with s^2 = alpha_bar std^2 + 1 - alpha_bar.
    centers (K, D), x (N, D) -> (N, D)."""
    means = math.sqrt(alpha_bar) * centers.to(x)                     # (K, D)
    variance = alpha_bar * std ** 2 + 1 - alpha_bar
    diff = means[None] - x[:, None]                                  # (N, K, D)
    squared = (diff ** 2).sum(-1)                                    # (N, K)
    weights = torch.softmax(-squared / (2 * variance), dim=1)        # (N, K)
    return (weights[..., None] * diff).sum(1) / variance
