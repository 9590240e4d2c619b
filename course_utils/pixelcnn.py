"""PixelCNN (van den Oord et al., 2016): masked convolutions that let each pixel's output see
only the pixels before it in raster order; the plain model (with its blind spot), the gated
model's two stacks (without it), the likelihood of an image and sampling pixel by pixel."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.checks import positive_int
from course_utils.train import eval_mode


class MaskedConv2d(nn.Conv2d):
    """A convolution whose kernel is multiplied by a fixed 0/1 ``mask`` (kh, kw); padded so
    that the output has the input's height and width."""

    def __init__(self, in_channels: int, out_channels: int, mask: torch.Tensor, dilation: int = 1):
        kh, kw = mask.shape
        super().__init__(in_channels, out_channels, (kh, kw), dilation=dilation,
                         padding=(dilation * (kh // 2), dilation * (kw // 2)))
        self.register_buffer("mask", mask[None, None].to(self.weight.dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.weight * self.mask, self.bias)


def raster_mask(kernel_size: int, mask_type: str) -> torch.Tensor:
    """PixelCNN's (k, k) mask: the rows above the centre and, in the centre
    row, the pixels left of it; type "A" (the first layer) leaves the centre
    out, type "B" (later layers) keeps it."""
    if mask_type not in ("A", "B"):
        raise ValueError(f"mask_type={mask_type!r}: expected 'A' or 'B'")
    if positive_int("kernel_size", kernel_size) % 2 == 0:
        raise ValueError(f"kernel_size={kernel_size}: expected an odd number")
    c = kernel_size // 2
    mask = torch.zeros(kernel_size, kernel_size)
    mask[:c] = 1                                  # rows above the centre
    mask[c, :c + (mask_type == "B")] = 1          # left (type B: and centre)
    return mask


class ResidualBlock(nn.Module):
    """h + conv(relu(h)) with a type-B masked 3x3 convolution."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = MaskedConv2d(channels, channels, raster_mask(3, "B"))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.conv(F.relu(h))


def _inputs(x: torch.Tensor, levels: int, one_hot: bool) -> torch.Tensor:
    """(B, 1, H, W) integer levels -> the first layer's input: the levels
    scaled to [-1, 1] (ordered, like grey levels), or one-hot (B, levels, H,
    W) (categories without an order, like a VQ-VAE's codes)."""
    if one_hot:
        return F.one_hot(x[:, 0].long(), levels).permute(0, 3, 1, 2).float()
    return x / (levels - 1) * 2 - 1


class PixelCNN(nn.Module):
    """A 7x7 type-A masked convolution, residual blocks of type-B ones, and
    1x1 convolutions to ``levels`` logits per pixel: p(x_ij | pixels before
    it) as a softmax over the levels. ``one_hot``: read the levels as
    categories, one input channel each."""

    def __init__(self, levels: int = 256, channels: int = 32, blocks: int = 4,
                 one_hot: bool = False):
        super().__init__()
        self.levels = positive_int("levels", levels)
        self.one_hot = bool(one_hot)
        c = positive_int("channels", channels)
        n = positive_int("blocks", blocks, allow_zero=True)
        c_in = self.levels if self.one_hot else 1
        self.net = nn.Sequential(
            MaskedConv2d(c_in, c, raster_mask(7, "A")),
            *[ResidualBlock(c) for _ in range(n)],
            nn.ReLU(), nn.Conv2d(c, c, 1),
            nn.ReLU(), nn.Conv2d(c, self.levels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, 1, H, W) levels -> (B, levels, H, W) logits
        return self.net(_inputs(x, self.levels, self.one_hot))


def vertical_mask(kernel_size: int, first: bool) -> torch.Tensor:
    """The gated PixelCNN's vertical stack: the whole rows above the centre
    (after the first layer the centre row too: the stack's own features there
    have only seen rows above)."""
    c = kernel_size // 2
    mask = torch.zeros(kernel_size, kernel_size)
    mask[:c + (not first)] = 1
    return mask


def horizontal_mask(kernel_size: int, first: bool) -> torch.Tensor:
    """The horizontal stack: a (1, k) kernel over the pixels left of the
    centre (after the first layer, the centre too)."""
    c = kernel_size // 2
    mask = torch.zeros(1, kernel_size)
    mask[0, :c + (not first)] = 1
    return mask


class GatedLayer(nn.Module):
    """One gated layer (van den Oord et al., 2016b): each stack computes
    tanh(a) * sigmoid(b); the vertical stack's features feed the horizontal
    one, never the other way round."""

    def __init__(self, c: int, dilation: int = 1):
        super().__init__()
        v_mask, h_mask = vertical_mask(3, False), horizontal_mask(3, False)
        self.vertical = MaskedConv2d(c, 2 * c, v_mask, dilation)
        self.horizontal = MaskedConv2d(c, 2 * c, h_mask, dilation)
        self.vertical_to_horizontal = nn.Conv2d(2 * c, 2 * c, 1)
        self.out = nn.Conv2d(c, c, 1)

    def forward(self, v, h):  # (B, C, H, W) each
        v_features = self.vertical(v)                       # (B, 2C, H, W)
        a, b = v_features.chunk(2, dim=1)
        v_out = torch.tanh(a) * torch.sigmoid(b)
        from_above = self.vertical_to_horizontal(v_features)  # rows above only
        h_features = self.horizontal(h) + from_above
        a, b = h_features.chunk(2, dim=1)
        h_out = h + self.out(torch.tanh(a) * torch.sigmoid(b))  # residual
        return v_out, h_out


class GatedPixelCNN(nn.Module):
    """PixelCNN with a vertical and a horizontal stack: it sees every pixel
    above and to the left within its reach, with no blind spot. Same
    interface as ``PixelCNN``."""

    def __init__(self, levels: int = 256, channels: int = 32,
                 dilations=(1, 2, 1, 4), one_hot: bool = False):
        super().__init__()
        self.levels = positive_int("levels", levels)
        self.one_hot = bool(one_hot)
        c = positive_int("channels", channels)
        c_in = self.levels if self.one_hot else 1
        self.vertical_in = MaskedConv2d(c_in, c, vertical_mask(7, True))
        self.horizontal_in = MaskedConv2d(c_in, c, horizontal_mask(7, True))
        self.layers = nn.ModuleList([GatedLayer(c, d) for d in dilations])
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(c, self.levels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # as PixelCNN's
        x = _inputs(x, self.levels, self.one_hot)
        v, h = self.vertical_in(x), self.horizontal_in(x)
        for layer in self.layers:
            v, h = layer(v, h)
        return self.head(h)


def pixel_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x) in nats per image: the sum over pixels of each softmax's
    -log p(x_ij | pixels before). logits (B, levels, H, W), x (B, 1, H, W)
    integer levels -> (B,)."""
    nll = F.cross_entropy(logits, x[:, 0].long(), reduction="none")
    return nll.sum(dim=(1, 2))


@torch.no_grad()
def sample(model: nn.Module, n: int, size: int = 28, *, device,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """n images drawn in raster order, one forward pass per pixel: each pixel
    from its softmax given the pixels drawn before it. (n, 1, size, size)."""
    x = torch.zeros(positive_int("n", n), 1, size, size, device=device)
    with eval_mode(model):
        for i in range(size):
            for j in range(size):
                logits = model(x)[:, :, i, j].float().cpu()       # (n, levels)
                probs = logits.softmax(dim=1)
                drawn = torch.multinomial(probs, 1, generator=generator)
                x[:, 0, i, j] = drawn[:, 0].float().to(device)
    return x.cpu()
