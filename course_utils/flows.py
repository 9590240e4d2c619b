"""Normalizing flows: invertible layers that report the log-determinant of their Jacobian,
RealNVP's affine couplings (checkerboard and channel masks), squeezing, elementwise first
layers for dequantized pixels (the logit transform, a per-pixel mixture CDF), and a small
multi-scale RealNVP for 28x28 digits; log p(x) is exact by the change of variables,
log p(x) = log p(z) + log |det dz/dx|."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.checks import positive_int, probability


def checkerboard(height: int, width: int, parity: int) -> torch.Tensor:
    """A (1, 1, H, W) 0/1 mask: 1 where (i + j) % 2 == parity."""
    i, j = torch.meshgrid(torch.arange(height), torch.arange(width),
                          indexing="ij")
    return ((i + j) % 2 == parity).float()[None, None]


class Coupling(nn.Module):
    """An affine coupling layer (Dinh et al., 2017): the entries where
    ``mask`` is 1 pass unchanged and set a scale and a shift for the others,
    y = x exp(s) + t, so the Jacobian is triangular and log |det| = sum of s.
    For images ``net`` maps (B, C, H, W) to (B, 2C, H, W), for vectors
    (B, D) to (B, 2D); its last layer starts at zero, so each coupling
    starts as the identity."""

    def __init__(self, net: nn.Module, mask: torch.Tensor):
        super().__init__()
        self.net = net
        self.register_buffer("mask", mask)
        self.scale = nn.Parameter(torch.zeros(1))  # s = e^scale tanh(raw)

    def _s_t(self, x_kept: torch.Tensor):
        raw_s, t = self.net(x_kept).chunk(2, dim=1)
        s = self.scale.exp() * torch.tanh(raw_s)   # bounded
        keep = 1 - self.mask                       # 0 where x passes
        return s * keep, t * keep

    def forward(self, x: torch.Tensor):
        s, t = self._s_t(x * self.mask)
        y = x * torch.exp(s) + t
        return y, s.flatten(1).sum(1)              # y, log|det dy/dx|

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        s, t = self._s_t(y * self.mask)  # kept entries: the same in x, y
        return (y - t) * torch.exp(-s)


def coupling_net(channels: int, hidden: int) -> nn.Sequential:
    """Three 3x3 convolutions, channels -> hidden -> hidden -> 2 channels;
    the last starts at zero."""
    last = nn.Conv2d(hidden, 2 * channels, 3, padding=1)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return nn.Sequential(
        nn.Conv2d(channels, hidden, 3, padding=1), nn.ReLU(),
        nn.Conv2d(hidden, hidden, 3, padding=1), nn.ReLU(), last)


def mlp_coupling_net(dim: int, hidden: int) -> nn.Sequential:
    """For vectors: dim -> hidden -> hidden -> 2 dim; the last at zero."""
    last = nn.Linear(hidden, 2 * dim)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(),
                         nn.Linear(hidden, hidden), nn.ReLU(), last)


class FlowSequence(nn.Module):
    """Invertible layers one after another: the log-determinants add up."""

    def __init__(self, *layers: nn.Module):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logdet = torch.zeros(len(x), device=x.device)
        for layer in self.layers:
            x, ld = layer(x)
            logdet = logdet + ld
        return x, logdet

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z


def squeeze(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, 4C, H/2, W/2): each 2x2 block becomes 4 channels."""
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


class MixtureCDF(nn.Module):
    """Each pixel through its own monotone map, z = logit(F(y)), F the CDF
    of a mixture of ``components`` logistics per pixel (Flow++, Ho et al.,
    2019): an elementwise flow that can put a pixel's mass on black and on
    white at once, which the logit transform cannot. Per pixel,
    log |dz/dy| = log f(y) - log F(y) - log(1 - F(y)), f the density.
    ``init_from(levels)`` starts each pixel at the data's frequencies of
    black, white and grey."""

    def __init__(self, shape: tuple = (1, 28, 28), components: int = 4,
                 levels: int = 256):
        super().__init__()
        k = positive_int("components", components)
        if k < 3:
            raise ValueError("components: expected at least 3 (black, "
                             f"white, grey), got {k}")
        self.levels = positive_int("levels", levels)
        ends = torch.tensor([0.5, levels - 0.5]) / levels
        greys = (torch.arange(k - 2) + 0.5) / (k - 2)
        scales = [0.25 / levels] * 2 + [0.5 / (k - 2)] * (k - 2)
        log_scales = torch.tensor(scales).log()
        self.logits = nn.Parameter(torch.zeros(*shape, k))
        self.means = nn.Parameter(
            torch.cat([ends, greys]).expand(*shape, k).clone())
        self.log_scales = nn.Parameter(log_scales.expand(*shape, k).clone())

    @torch.no_grad()
    def init_from(self, levels: torch.Tensor) -> "MixtureCDF":
        """Mixture weights from the fractions of ``levels`` (N, *shape) at
        0, at the top level and in between (shared by the greys), + 0.01."""
        x = levels.float()
        black = (x == 0).float().mean(0) + 0.01
        white = (x == self.levels - 1).float().mean(0) + 0.01
        grey = ((x > 0) & (x < self.levels - 1)).float().mean(0) + 0.01
        k = self.logits.shape[-1]
        weights = torch.stack([black, white] + [grey / (k - 2)] * (k - 2), -1)
        self.logits.copy_(weights.log().to(self.logits.device))
        return self

    def _log_cdfs(self, y: torch.Tensor):
        t = (y[..., None] - self.means) * torch.exp(-self.log_scales)
        log_w = F.log_softmax(self.logits, -1)      # (*shape, k)
        up, down = F.logsigmoid(t), F.logsigmoid(-t)
        log_cdf = torch.logsumexp(log_w + up, -1)   # log F(y)
        log_sf = torch.logsumexp(log_w + down, -1)  # log (1 - F(y))
        log_pdf = torch.logsumexp(log_w + up + down - self.log_scales, -1)
        return log_cdf, log_sf, log_pdf

    def forward(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_cdf, log_sf, log_pdf = self._log_cdfs(y)
        logdet = (log_pdf - log_cdf - log_sf).flatten(1).sum(1)
        return log_cdf - log_sf, logdet

    @torch.no_grad()
    def inverse(self, z: torch.Tensor, iterations: int = 50) -> torch.Tensor:
        """By bisection on [-1, 2], where the map is increasing."""
        low, high = torch.full_like(z, -1.0), torch.full_like(z, 2.0)
        for _ in range(iterations):
            middle = (low + high) / 2
            below = self.forward(middle)[0] < z
            low = torch.where(below, middle, low)
            high = torch.where(below, high, middle)
        return (low + high) / 2


def _chain(layers, h, logdet):
    for layer in layers:
        h, ld = layer(h)
        logdet = logdet + ld
    return h, logdet


class RealNVP(nn.Module):
    """A two-scale RealNVP for (B, 1, 28, 28) images in [0, 1): an
    elementwise first layer (RealNVP's logit transform, or with
    ``components`` a per-pixel ``MixtureCDF``); couplings with checkerboard
    masks at 28x28; a squeeze; couplings with channel masks at 14x14; half
    the channels out to z; a squeeze; couplings at 7x7. ``forward`` returns
    z (B, 784) and log |det dz/dx| (B,); ``inverse`` maps z back."""

    def __init__(self, hidden: int = 32, couplings: int = 4,
                 components: int | None = None):
        super().__init__()
        hidden = positive_int("hidden", hidden)
        n = positive_int("couplings", couplings)
        m = n // 2 * 2 or 2                 # an even number at 14 and 7
        self.elementwise = (LogitTransform() if components is None
                            else MixtureCDF(components=components))
        self.scale1 = nn.ModuleList([
            Coupling(coupling_net(1, hidden), checkerboard(28, 28, k % 2))
            for k in range(n)])
        self.scale2 = nn.ModuleList([
            Coupling(coupling_net(4, hidden), channel_mask(4, k % 2))
            for k in range(m)])
        self.scale3 = nn.ModuleList([
            Coupling(coupling_net(8, 2 * hidden), channel_mask(8, k % 2))
            for k in range(m)])

    def forward(self, x: torch.Tensor):
        h, logdet = self.elementwise(x)                 # (B, 1, 28, 28)
        h, logdet = _chain(self.scale1, h, logdet)
        h, logdet = _chain(self.scale2, squeeze(h), logdet)  # (B, 4, 14, 14)
        out, h = h[:, :2], squeeze(h[:, 2:])            # half out; 8x7x7
        h, logdet = _chain(self.scale3, h, logdet)
        return torch.cat([out.flatten(1), h.flatten(1)], dim=1), logdet

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        out = z[:, :392].view(-1, 2, 14, 14)
        h = z[:, 392:].view(-1, 8, 7, 7)
        for layer in reversed(self.scale3):
            h = layer.inverse(h)
        h = torch.cat([out, unsqueeze(h)], dim=1)       # (B, 4, 14, 14)
        for layer in reversed(self.scale2):
            h = layer.inverse(h)
        h = unsqueeze(h)
        for layer in reversed(self.scale1):
            h = layer.inverse(h)
        return self.elementwise.inverse(h)


def channel_mask(channels: int, parity: int) -> torch.Tensor:
    """A (1, C, 1, 1) mask: the first half of the channels (parity 0), or
    the second."""
    mask = torch.zeros(1, channels, 1, 1)
    half = channels // 2
    if parity == 0:
        mask[:, :half] = 1
    else:
        mask[:, half:] = 1
    return mask


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I), summed over all but the first dimension: (B,)."""
    return (-0.5 * z ** 2 - 0.5 * math.log(2 * math.pi)).flatten(1).sum(1)


def flow_log_prob(flow: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """log p(x) = log N(z; 0, I) + log |det dz/dx|, z = flow(x): (B,)."""
    z, logdet = flow(x)
    return standard_normal_log_prob(z) + logdet


def flow_nll(flow: nn.Module, y: torch.Tensor,
             levels: int = 256) -> torch.Tensor:
    """A bound on -log P(x) in nats per image, for dequantized
    y = (x + u) / levels: -log p(y) + D log levels >= -log P(x)."""
    return -flow_log_prob(flow, y) + y[0].numel() * math.log(levels)
