"""Normalizing flows: invertible layers that report the log-determinant of their Jacobian,
RealNVP's affine couplings (checkerboard and channel masks), squeezing, the logit transform of
dequantized pixels, and a small multi-scale RealNVP for 28x28 digits; log p(x) is exact by the
change of variables, log p(x) = log p(z) + log |det dz/dx|."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.checks import positive_int, probability


def checkerboard(height: int, width: int, parity: int) -> torch.Tensor:
    """A (1, 1, H, W) 0/1 mask: 1 where (i + j) % 2 == parity."""
    i, j = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    return ((i + j) % 2 == parity).float()[None, None]


class Coupling(nn.Module):
    """An affine coupling layer (Dinh et al., 2017): the pixels where ``mask`` is 1 pass
    unchanged and set a scale and a shift for the others, y = x exp(s) + t, so the Jacobian is
    triangular and log |det| = the sum of s. ``net`` maps (B, C, H, W) to (B, 2C, H, W);
    its last layer starts at zero, so each coupling starts as the identity."""

    def __init__(self, net: nn.Module, mask: torch.Tensor):
        super().__init__()
        self.net = net
        self.register_buffer("mask", mask)
        self.scale = nn.Parameter(torch.zeros(1))  # s = exp(scale) * tanh(raw): bounded

    def _s_t(self, x_kept: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw_s, t = self.net(x_kept).chunk(2, dim=1)
        s = self.scale.exp() * torch.tanh(raw_s)
        return s * (1 - self.mask), t * (1 - self.mask)  # zero where x passes unchanged

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s, t = self._s_t(x * self.mask)
        return x * torch.exp(s) + t, s.flatten(1).sum(1)  # y, log|det dy/dx| (B,)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        s, t = self._s_t(y * self.mask)  # the kept pixels are the same in x and y
        return (y - t) * torch.exp(-s)


def coupling_net(channels: int, hidden: int) -> nn.Sequential:
    """Three 3x3 convolutions, channels -> hidden -> hidden -> 2 * channels; the last at zero."""
    last = nn.Conv2d(hidden, 2 * channels, 3, padding=1)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return nn.Sequential(nn.Conv2d(channels, hidden, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(hidden, hidden, 3, padding=1), nn.ReLU(), last)


def squeeze(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, 4C, H/2, W/2): each 2x2 block of pixels becomes 4 channels."""
    return F.pixel_unshuffle(x, 2)


def unsqueeze(x: torch.Tensor) -> torch.Tensor:
    """The inverse of ``squeeze``."""
    return F.pixel_shuffle(x, 2)


class LogitTransform(nn.Module):
    """Dequantized pixels y in [0, 1) -> logit(a + (1 - 2a) y), as RealNVP does, so that the
    flow works on the whole real line; ``a`` keeps 0 and 1 away from infinity."""

    def __init__(self, alpha: float = 0.05):
        super().__init__()
        self.alpha = probability("alpha", alpha)

    def forward(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        p = self.alpha + (1 - 2 * self.alpha) * y
        z = torch.log(p) - torch.log1p(-p)
        # dz/dy = (1 - 2a) / (p (1 - p)), elementwise
        logdet = (math.log(1 - 2 * self.alpha) - torch.log(p) - torch.log1p(-p)).flatten(1).sum(1)
        return z, logdet

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        return (torch.sigmoid(z) - self.alpha) / (1 - 2 * self.alpha)


class RealNVP(nn.Module):
    """A two-scale RealNVP for (B, 1, 28, 28) images in [0, 1): the logit transform, couplings
    with checkerboard masks at 28x28, a squeeze, couplings with channel masks at 14x14, half
    the channels factored out to the prior, a squeeze, and couplings at 7x7.
    ``forward`` returns z (B, 784) and log |det dz/dx| (B,); ``inverse`` maps z back."""

    def __init__(self, hidden: int = 32, couplings: int = 4):
        super().__init__()
        hidden, n = positive_int("hidden", hidden), positive_int("couplings", couplings)
        self.logit = LogitTransform()
        self.scale1 = nn.ModuleList([Coupling(coupling_net(1, hidden), checkerboard(28, 28, k % 2))
                                     for k in range(n)])
        self.scale2 = nn.ModuleList([Coupling(coupling_net(4, hidden), channel_mask(4, k % 2))
                                     for k in range(n // 2 * 2 or 2)])
        self.scale3 = nn.ModuleList([Coupling(coupling_net(8, 2 * hidden), channel_mask(8, k % 2))
                                     for k in range(n // 2 * 2 or 2)])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, logdet = self.logit(x)                                     # (B, 1, 28, 28)
        for layer in self.scale1:
            h, ld = layer(h)
            logdet = logdet + ld
        h = squeeze(h)                                                # (B, 4, 14, 14)
        for layer in self.scale2:
            h, ld = layer(h)
            logdet = logdet + ld
        out, h = h[:, :2], squeeze(h[:, 2:])                          # half out; (B, 8, 7, 7)
        for layer in self.scale3:
            h, ld = layer(h)
            logdet = logdet + ld
        return torch.cat([out.flatten(1), h.flatten(1)], dim=1), logdet

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        out, h = z[:, :392].view(-1, 2, 14, 14), z[:, 392:].view(-1, 8, 7, 7)
        for layer in reversed(self.scale3):
            h = layer.inverse(h)
        h = torch.cat([out, unsqueeze(h)], dim=1)                     # (B, 4, 14, 14)
        for layer in reversed(self.scale2):
            h = layer.inverse(h)
        h = unsqueeze(h)
        for layer in reversed(self.scale1):
            h = layer.inverse(h)
        return self.logit.inverse(h)


def channel_mask(channels: int, parity: int) -> torch.Tensor:
    """A (1, C, 1, 1) mask: the first half of the channels (parity 0) or the second."""
    mask = torch.zeros(1, channels, 1, 1)
    half = channels // 2
    if parity == 0:
        mask[:, :half] = 1
    else:
        mask[:, half:] = 1
    return mask


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) summed over all but the first dimension: (B, ...) -> (B,)."""
    return (-0.5 * z ** 2 - 0.5 * math.log(2 * math.pi)).flatten(1).sum(1)


def flow_nll(flow: nn.Module, y: torch.Tensor, levels: int = 256) -> torch.Tensor:
    """-log P(x) bound in nats per image for dequantized y = (x + u) / levels:
    -(log p(z) + log|det|) + D log levels, which is >= the discrete model's -log P(x)."""
    z, logdet = flow(y)
    dims = y[0].numel()
    return -(standard_normal_log_prob(z) + logdet) + dims * math.log(levels)
