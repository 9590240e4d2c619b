"""MADE, an autoregressive model made of masked linear layers: each output may depend only on the
inputs before it in a chosen order, so that one forward pass gives every conditional
p(x_d | x_<d) of the chain rule at once. (PixelCNN's masked convolutions: ``pixelcnn``.)"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from course_utils.checks import positive_int


class MaskedLinear(nn.Linear):
    """A linear layer whose weight is multiplied by a fixed 0/1 ``mask``
    of shape (out_features, in_features)."""

    def __init__(self, in_features: int, out_features: int, mask: torch.Tensor):
        super().__init__(in_features, out_features)
        if tuple(mask.shape) != (out_features, in_features):
            raise ValueError(f"mask: expected shape ({out_features}, {in_features}), "
                             f"got {tuple(mask.shape)}")
        self.register_buffer("mask", mask.to(self.weight.dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.weight * self.mask, self.bias)


def made_degrees(dim: int, hidden: Sequence[int],
                 order: torch.Tensor | None = None) -> list[torch.Tensor]:
    """MADE's degrees: the inputs' are ``order`` (a permutation of 1..dim;
    default 1, 2, ...); each hidden layer's are spread evenly over 1..dim-1,
    so every output has units to read however narrow the layer."""
    dim = positive_int("dim", dim)
    if dim < 2:
        raise ValueError(f"dim={dim}: expected at least 2")
    if order is None:
        order = torch.arange(1, dim + 1)
    order = torch.as_tensor(order)
    if sorted(order.tolist()) != list(range(1, dim + 1)):
        raise ValueError(f"order: expected a permutation of 1..{dim}")
    degrees = [order]
    for width in hidden:
        width = positive_int("hidden width", width)
        spread = torch.arange(width) * (dim - 1) // width + 1  # in 1..dim-1
        degrees.append(spread)
    return degrees


class MADE(nn.Module):
    """A masked autoencoder for distribution estimation (Germain et al., 2015):
    an MLP whose output d, a logit of p(x_d = 1 | x_<d), sees only the inputs
    of smaller degree."""

    def __init__(self, dim: int, hidden: Sequence[int] = (500,),
                 order: torch.Tensor | None = None,
                 activation: type[nn.Module] = nn.ReLU):
        super().__init__()
        degrees = made_degrees(dim, hidden, order)
        layers: list[nn.Module] = []
        for d_in, d_out in zip(degrees[:-1], degrees[1:]):
            # a unit of degree m sees the units before it of degree <= m
            mask = (d_out[:, None] >= d_in[None, :]).float()
            layers += [MaskedLinear(len(d_in), len(d_out), mask), activation()]
        # output d sees the units of degree < d, strictly
        mask = (degrees[0][:, None] > degrees[-1][None, :]).float()
        layers.append(MaskedLinear(len(degrees[-1]), dim, mask))
        self.net = nn.Sequential(*layers)
        self.register_buffer("order", degrees[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, dim) -> logits
        return self.net(x)
