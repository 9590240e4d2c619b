"""Exact likelihoods of images: discrete pixel values (binarized or 8-bit), dequantization, and
the units they are reported in (nats per image, bits per dimension)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from course_utils.checks import float_tensor, positive_int


def grey_levels(x) -> torch.Tensor:
    """``x`` as a float tensor, or a ValueError unless its values are in [0, 1]."""
    x = float_tensor("x", x)
    if x.min() < 0 or x.max() > 1:
        raise ValueError(f"x: expected grey levels in [0, 1], got values in "
                         f"[{x.min():.3g}, {x.max():.3g}]")
    return x


def binarize(x: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """One fixed stochastic binarization: pixel j is 1 with probability x_j,
    drawn once from ``seed`` (as the binarized-MNIST benchmark was made)."""
    generator = torch.Generator(device=x.device).manual_seed(seed)
    return torch.bernoulli(grey_levels(x), generator=generator)


def quantize(x: torch.Tensor, levels: int = 256) -> torch.Tensor:
    """Grey levels in [0, 1] -> integer levels 0..levels-1 (as floats)."""
    return torch.round(grey_levels(x) * (positive_int("levels", levels) - 1))


def dequantize(x: torch.Tensor, levels: int = 256,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """Uniform dequantization: integer levels k -> (k + u) / levels with
    u ~ U[0, 1). A density p on these values bounds the discrete model it
    defines: log P(k) = log (integral of p over k's cube)
    >= E_u[log p((k + u) / levels)] - D log levels   (Jensen)."""
    where = x.device if generator is None else "cpu"
    u = torch.rand(x.shape, generator=generator, device=where)
    return (x + u.to(x.device)) / levels


def bits_per_dim(nats: float | torch.Tensor, dims: int) -> float | torch.Tensor:
    """A negative log-likelihood in nats per image -> bits per dimension."""
    return nats / (positive_int("dims", dims) * math.log(2))


def discretized_logistic_log_prob(x: torch.Tensor, mean: torch.Tensor,
                                  log_scale: torch.Tensor,
                                  levels: int = 256) -> torch.Tensor:
    """log P(x) of integer levels x under a logistic of ``mean`` (on the
    scale [0, 1] of x / (levels - 1)) and ``log_scale``, discretized: each
    level gets the logistic's mass on its bin of width 1 / (levels - 1),
    the two end levels the tails beyond; so the levels' probabilities sum
    to one. Elementwise (PixelCNN++, Salimans et al., 2017)."""
    levels = positive_int("levels", levels)
    half = 0.5 / (levels - 1)
    centred = x / (levels - 1) - mean
    inv_scale = torch.exp(-log_scale)
    upper = inv_scale * (centred + half)
    lower = inv_scale * (centred - half)
    log_bottom = F.logsigmoid(upper)           # level 0: all mass below
    log_top = -F.softplus(lower)               # top level: all mass above
    mass = torch.sigmoid(upper) - torch.sigmoid(lower)
    # where the bin is too narrow to subtract: density times width
    middle = inv_scale * centred
    log_density = (middle - log_scale - 2 * F.softplus(middle)
                   + math.log(2 * half))
    inner = torch.where(mass > 1e-5, torch.log(mass.clamp_min(1e-12)),
                        log_density)
    return torch.where(x <= 0, log_bottom,
                       torch.where(x >= levels - 1, log_top, inner))


def independent_pixels_nll(train: torch.Tensor, test: torch.Tensor,
                           levels: int = 256) -> torch.Tensor:
    """The exact -log P(x) in nats of each test image (M,) under independent
    pixels: one histogram over the levels per pixel, counted on the
    training images, with one pseudo-count per level."""
    levels = positive_int("levels", levels)
    train = train.reshape(len(train), -1).long()           # (N, D)
    test = test.reshape(len(test), -1).long()              # (M, D)
    counts = torch.stack([torch.bincount(column, minlength=levels)
                          for column in train.T])          # (D, levels)
    log_p = ((counts + 1) / (counts + 1).sum(1, keepdim=True)).log()
    return -log_p.gather(1, test.T).sum(0)                 # (M,)
