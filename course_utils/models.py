"""Building blocks for autoencoders that several chapters share: MLP stacks, an encoder/decoder
pair, and a convolutional encoder and decoder for 28x28 images."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from course_utils.checks import positive_int


def mlp(sizes: Sequence[int], activation: type[nn.Module] = nn.ReLU,
        final_activation: nn.Module | None = None, batch_norm: bool = False) -> nn.Sequential:
    """Linear layers of the given widths with ``activation`` between them; linear at the end
    unless ``final_activation`` is given. ``mlp([784, 1000, 30])``: 784 -> 1000 -> 30.
    With ``batch_norm``, every hidden layer is Linear -> BatchNorm1d -> activation."""
    sizes = list(sizes)
    if len(sizes) < 2 or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes):
        raise ValueError(f"sizes={sizes!r}: expected at least two positive ints (not bools)")
    if not isinstance(batch_norm, bool):
        raise TypeError(f"batch_norm={batch_norm!r}: expected True or False")
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            if batch_norm:
                layers.append(nn.BatchNorm1d(n_out))
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


class Reshape(nn.Module):
    """Reshape every item of a batch: ``Reshape(1, 28, 28)`` maps (N, 784) to (N, 1, 28, 28)."""

    def __init__(self, *shape: int):
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(len(x), *self.shape)

    def extra_repr(self) -> str:
        return ", ".join(map(str, self.shape))


def conv_block(c_in: int, c_out: int, kernel_size: int, stride: int = 1, padding: int = 0,
               transposed: bool = False) -> list[nn.Module]:
    """A (transposed) convolution, BatchNorm and GELU: the unit ConvEncoder and ConvDecoder stack."""
    conv = nn.ConvTranspose2d if transposed else nn.Conv2d
    return [conv(c_in, c_out, kernel_size, stride, padding), nn.BatchNorm2d(c_out), nn.GELU()]


class ConvEncoder(nn.Sequential):
    """28x28 images, (N, 784) or (N, 1, 28, 28), to codes (N, code_dim).

    Two stride-2 convolutions halve the resolution twice (a pooling whose weights are learned),
    a 3x3 convolution mixes channels at 7x7, and a linear layer makes the code.
    ``channels`` is the width of the first convolution; the next ones double it.
    """

    def __init__(self, code_dim: int, channels: int = 32):
        code_dim = positive_int("code_dim", code_dim)
        c = positive_int("channels", channels)
        super().__init__(
            Reshape(1, 28, 28),
            *conv_block(1, c, 4, stride=2, padding=1),          # (N, c, 14, 14)
            *conv_block(c, 2 * c, 4, stride=2, padding=1),      # (N, 2c, 7, 7)
            *conv_block(2 * c, 4 * c, 3, padding=1),            # (N, 4c, 7, 7)
            nn.Flatten(),                                       # (N, 4c * 49)
            nn.Linear(4 * c * 7 * 7, code_dim),                 # (N, code_dim)
        )
        self.code_dim = code_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim < 2 or x[0].numel() != 28 * 28:
            raise ValueError(f"x: expected 28x28 images, (N, 784) or (N, 1, 28, 28), "
                             f"got shape {tuple(x.shape)}")
        return super().forward(x)


class ConvDecoder(nn.Sequential):
    """Codes (N, code_dim) to (N, 784) pixel *logits*: the mirror image of ConvEncoder.

    Transposed convolutions with stride 2 double the resolution, 7 -> 14 -> 28. Apply
    ``torch.sigmoid`` for pixel intensities in [0, 1] (the means of a Bernoulli decoder).
    """

    def __init__(self, code_dim: int, channels: int = 32):
        code_dim = positive_int("code_dim", code_dim)
        c = positive_int("channels", channels)
        super().__init__(
            nn.Linear(code_dim, 4 * c * 7 * 7), nn.GELU(),      # (N, 4c * 49)
            Reshape(4 * c, 7, 7),                               # (N, 4c, 7, 7)
            *conv_block(4 * c, 2 * c, 3, padding=1),            # (N, 2c, 7, 7)
            *conv_block(2 * c, c, 4, stride=2, padding=1, transposed=True),  # (N, c, 14, 14)
            nn.ConvTranspose2d(c, 1, 4, stride=2, padding=1),   # (N, 1, 28, 28)
            nn.Flatten(),                                       # (N, 784)
        )
        self.code_dim = code_dim


def conv_autoencoder(code_dim: int, channels: int = 32) -> Autoencoder:
    """``Autoencoder(ConvEncoder(code_dim, channels), ConvDecoder(code_dim, channels))``;
    its output is pixel logits."""
    return Autoencoder(ConvEncoder(code_dim, channels), ConvDecoder(code_dim, channels))
