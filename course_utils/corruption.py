"""Corruption processes C(x~ | x) for denoising autoencoders: additive Gaussian noise, masking.

Each function returns a new tensor (the input is never changed in place) and draws fresh noise
on every call; pass a ``torch.Generator`` to repeat a draw exactly (the noise is then drawn on
the generator's device and moved to ``x``'s).
"""

from __future__ import annotations

import torch

from course_utils.checks import float_tensor, positive_float, probability


def _check_generator(generator) -> None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator: expected a torch.Generator or None, got {type(generator).__name__}")


def _draw(kind: str, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Standard normal ("randn") or uniform [0, 1) ("rand") noise of x's shape, dtype and device."""
    _check_generator(generator)
    sample = torch.randn if kind == "randn" else torch.rand
    device = generator.device if generator is not None else x.device
    noise = sample(x.shape, generator=generator, device=device, dtype=x.dtype)
    return noise.to(x.device)


def gaussian_noise(x: torch.Tensor, std,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """x~ = x + std * eps, eps ~ N(0, I): additive Gaussian noise, not clipped.

    ``std`` is a number, or a tensor that broadcasts against ``x`` (shape (N, 1)
    gives every image its own noise level).
    """
    float_tensor("x", x, finite=False)
    positive_float("std", std, allow_zero=True)  # finite, >= 0
    return x + std * _draw("randn", x, generator)


def masking_noise(x: torch.Tensor, p: float,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """x~ = x with each entry set to 0 independently with probability ``p``
    (Vincent et al.)."""
    float_tensor("x", x, finite=False)
    probability("p", p)
    keep = _draw("rand", x, generator) >= p  # True with probability 1 - p
    return x * keep
