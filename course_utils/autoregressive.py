"""Autoregressive models' masked layers: MADE's masked linear layers and PixelCNN's masked
convolutions. Each output may depend only on the inputs before it in a chosen order, so that
one forward pass gives every conditional p(x_d | x_<d) of the chain rule at once."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from course_utils.checks import positive_int


class MaskedLinear(nn.Linear):
    """A linear layer whose weight is multiplied by a fixed 0/1 ``mask`` (out_features, in_features)."""

    def __init__(self, in_features: int, out_features: int, mask: torch.Tensor):
        super().__init__(in_features, out_features)
        if tuple(mask.shape) != (out_features, in_features):
            raise ValueError(f"mask: expected shape ({out_features}, {in_features}), got {tuple(mask.shape)}")
        self.register_buffer("mask", mask.to(self.weight.dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.weight * self.mask, self.bias)


def made_degrees(dim: int, hidden: Sequence[int], order: torch.Tensor | None = None,
                 seed: int = 0) -> list[torch.Tensor]:
    """MADE's degrees: the input's are ``order`` (a permutation of 1..dim; default 1, 2, ...),
    each hidden unit's a number in 1..dim-1 (cycled, from a seeded random start per layer)."""
    dim = positive_int("dim", dim)
    if dim < 2:
        raise ValueError(f"dim={dim}: expected at least 2")
    if order is None:
        order = torch.arange(1, dim + 1)
    order = torch.as_tensor(order)
    if sorted(order.tolist()) != list(range(1, dim + 1)):
        raise ValueError(f"order: expected a permutation of 1..{dim}")
    generator = torch.Generator().manual_seed(seed)
    degrees = [order]
    for width in hidden:
        start = int(torch.randint(0, dim - 1, (1,), generator=generator))
        degrees.append((torch.arange(positive_int("hidden width", width)) + start) % (dim - 1) + 1)
    return degrees


class MADE(nn.Module):
    """A masked autoencoder for distribution estimation (Germain et al., 2015): an MLP whose
    output d (a logit of p(x_d = 1 | x_<d)) sees only the inputs of smaller degree."""

    def __init__(self, dim: int, hidden: Sequence[int] = (500,), order: torch.Tensor | None = None,
                 seed: int = 0, activation: type[nn.Module] = nn.ReLU):
        super().__init__()
        degrees = made_degrees(dim, hidden, order, seed)
        layers: list[nn.Module] = []
        for d_in, d_out in zip(degrees[:-1], degrees[1:]):  # a hidden unit k sees inputs of degree <= m(k)
            layers += [MaskedLinear(len(d_in), len(d_out), (d_out[:, None] >= d_in[None, :]).float()),
                       activation()]
        output_mask = (degrees[0][:, None] > degrees[-1][None, :]).float()  # output d: degree < d strictly
        layers.append(MaskedLinear(len(degrees[-1]), dim, output_mask))
        self.net = nn.Sequential(*layers)
        self.register_buffer("order", degrees[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, dim) -> (B, dim) logits
        return self.net(x)


class MaskedConv2d(nn.Conv2d):
    """PixelCNN's masked convolution (van den Oord et al., 2016) on one channel group: the
    kernel sees the pixels above and to the left of its centre; type "A" (the first layer)
    not the centre itself, type "B" (later layers) the centre too."""

    def __init__(self, mask_type: str, in_channels: int, out_channels: int, kernel_size: int):
        if mask_type not in ("A", "B"):
            raise ValueError(f"mask_type={mask_type!r}: expected 'A' or 'B'")
        if positive_int("kernel_size", kernel_size) % 2 == 0:
            raise ValueError(f"kernel_size={kernel_size}: expected an odd number")
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        mask = torch.ones(kernel_size, kernel_size)
        centre = kernel_size // 2
        mask[centre, centre + (mask_type == "B"):] = 0
        mask[centre + 1:] = 0
        self.register_buffer("mask", mask[None, None])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.weight * self.mask, self.bias)
