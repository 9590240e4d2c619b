"""Exact likelihoods of images: discrete pixel values (binarized or 8-bit), dequantization, and
the units they are reported in (nats per image, bits per dimension)."""

from __future__ import annotations

import math

import torch

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
    """Uniform dequantization: integer levels k -> (k + u) / levels, u ~ U[0, 1).
    A density p on these values bounds the discrete model it defines:
    log P(k) = log (integral of p over k's cube)
             >= E_u[log p((k + u) / levels)] - D log levels   (Jensen)."""
    u = torch.rand(x.shape, generator=generator, device=x.device if generator is None else "cpu")
    return (x + u.to(x.device)) / levels


def bits_per_dim(nats: float | torch.Tensor, dims: int) -> float | torch.Tensor:
    """A negative log-likelihood in nats per image -> bits per dimension."""
    return nats / (positive_int("dims", dims) * math.log(2))
