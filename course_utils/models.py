"""Building blocks for autoencoders that several chapters share: MLP stacks and an encoder/decoder pair."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


def mlp(sizes: Sequence[int], activation: type[nn.Module] = nn.ReLU,
        final_activation: nn.Module | None = None) -> nn.Sequential:
    """Linear layers of the given widths with ``activation`` between them; linear at the end
    unless ``final_activation`` is given. ``mlp([784, 1000, 30])``: 784 -> 1000 -> 30."""
    sizes = list(sizes)
    if len(sizes) < 2 or not all(isinstance(s, int) and s > 0 for s in sizes):
        raise ValueError(f"sizes={sizes!r}: expected at least two positive ints")
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(activation())
    if final_activation is not None:
        layers.append(final_activation)
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """x -> h = encoder(x) -> r = decoder(h); ``encode`` and ``decode`` expose the two halves."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        return self.decoder(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))
