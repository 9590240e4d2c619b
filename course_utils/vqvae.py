"""Discrete latents (van den Oord et al., 2017): a codebook of vectors,
nearest-code quantization with the straight-through estimator, the codebook
and commitment losses, codebook usage (perplexity), a restart rule for
dead codes, and a small VQ-VAE for 28x28 digits with a 7x7 grid of codes."""

from __future__ import annotations

import math

import torch
from torch import nn

from course_utils.checks import positive_int
from course_utils.train import Trainer


class VectorQuantizer(nn.Module):
    """Replaces each D-vector of an encoder's output (B, D, H, W) by the
    nearest of ``codes`` codebook vectors. The forward pass returns the
    quantized map, whose gradient goes straight through to the encoder, the
    code indices (B, H, W), and per image (B,) the loss
    |sg[z_e] - e|^2 + beta |z_e - sg[e]|^2, summed over the map, that moves
    the codes toward the encoder's outputs and commits the encoder to its
    codes (sg: stop gradient)."""

    def __init__(self, codes: int, dim: int, beta: float = 0.25):
        super().__init__()
        self.codes = positive_int("codes", codes)
        self.dim = positive_int("dim", dim)
        if not beta >= 0:
            raise ValueError(f"beta: expected a weight >= 0, got {beta}")
        self.beta = float(beta)
        self.codebook = nn.Embedding(codes, dim)                  # (K, D)
        nn.init.uniform_(self.codebook.weight, -1 / codes, 1 / codes)

    def nearest(self, z_e: torch.Tensor) -> torch.Tensor:
        """Indices (B, H, W) of the nearest code to each vector of z_e."""
        b, d, h, w = z_e.shape
        if d != self.dim:
            raise ValueError(f"z_e: expected {self.dim} channels, got {d}")
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, d)             # (BHW, D)
        codes = self.codebook.weight                              # (K, D)
        distance = (flat.pow(2).sum(1, keepdim=True) - 2 * flat @ codes.T
                    + codes.pow(2).sum(1))                        # (BHW, K)
        return distance.argmin(1).view(b, h, w)

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """The code vectors of indices (B, H, W), as a map (B, D, H, W)."""
        return self.codebook(indices).permute(0, 3, 1, 2)

    def forward(self, z_e: torch.Tensor):
        indices = self.nearest(z_e)                               # (B, H, W)
        z_q = self.lookup(indices)                                # (B, D, H, W)
        codebook_loss = (z_q - z_e.detach()).pow(2).flatten(1).sum(1)    # (B,)
        commitment_loss = (z_e - z_q.detach()).pow(2).flatten(1).sum(1)  # (B,)
        loss = codebook_loss + self.beta * commitment_loss
        straight_through = z_e + (z_q - z_e).detach()   # value z_q, grad to z_e
        return straight_through, indices, loss


def code_counts(indices: torch.Tensor, codes: int) -> torch.Tensor:
    """(codes,) how often each code is used in ``indices`` of any shape."""
    return torch.bincount(indices.flatten(),
                          minlength=positive_int("codes", codes))


def perplexity(counts: torch.Tensor) -> float:
    """exp(entropy) of the codes' usage: the number of equally used codes that
    would give the same entropy; K when all K codes are used equally, 1 when
    one code is used."""
    counts = torch.as_tensor(counts, dtype=torch.float64)
    if counts.ndim != 1 or (counts < 0).any() or counts.sum() <= 0:
        raise ValueError("counts: expected a 1-D tensor of non-negative "
                         "counts, not all zero")
    p = counts[counts > 0] / counts.sum()
    return math.exp(float(-(p * p.log()).sum()))


@torch.no_grad()
def restart_dead_codes(quantizer: VectorQuantizer, z_e: torch.Tensor,
                       counts: torch.Tensor, min_count: int = 1,
                       generator: torch.Generator | None = None) -> int:
    """Moves every code used fewer than ``min_count`` times (``counts``, from
    recent batches) onto an encoder output drawn at random from z_e
    (B, D, H, W), so that it is near some data again. Returns how many codes
    moved."""
    dead = (torch.as_tensor(counts) < min_count).nonzero().flatten()
    if len(dead) == 0:
        return 0
    flat = z_e.permute(0, 2, 3, 1).reshape(-1, quantizer.dim)     # (BHW, D)
    picks = torch.randint(len(flat), (len(dead),), generator=generator)
    weight = quantizer.codebook.weight
    weight[dead.to(weight.device)] = flat[picks.to(flat.device)].to(weight)
    return len(dead)


class VQVAE(nn.Module):
    """A VQ-VAE for 28x28 digits: a convolutional encoder to a 7x7 map of
    ``dim``-vectors, each replaced by one of ``codes`` codebook vectors, and a
    decoder from the quantized map to Bernoulli logits per pixel. A digit's
    code is 49 indices, 49 log2(codes) bits."""

    def __init__(self, codes: int = 64, dim: int = 16, channels: int = 32,
                 beta: float = 0.25):
        super().__init__()
        c = positive_int("channels", channels)
        self.encoder = nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, c, 4, 2, padding=1), nn.ReLU(),          # 14x14
            nn.Conv2d(c, c, 4, 2, padding=1), nn.ReLU(),          # 7x7
            nn.Conv2d(c, dim, 1))                          # (B, dim, 7, 7)
        self.quantizer = VectorQuantizer(codes, dim, beta)
        self.decoder = nn.Sequential(
            nn.Conv2d(dim, c, 3, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(c, c, 4, 2, padding=1), nn.ReLU(),  # 14x14
            nn.ConvTranspose2d(c, 1, 4, 2, padding=1),             # 28x28
            nn.Flatten())                                          # (B, 784)

    def forward(self, x: torch.Tensor):
        """x (B, 784) in [0, 1] -> (logits (B, 784), codes (B, 7, 7),
        quantizer loss (B,))."""
        z_q, indices, loss = self.quantizer(self.encoder(x))
        return self.decoder(z_q), indices, loss

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The codes (B, 7, 7) of digits x (B, 784)."""
        return self.quantizer.nearest(self.encoder(x))

    @torch.no_grad()
    def decode(self, indices: torch.Tensor) -> torch.Tensor:
        """Pixel probabilities (B, 784) of the digits coded by indices."""
        return torch.sigmoid(self.decoder(self.quantizer.lookup(indices)))


def vqvae_loss(model: VQVAE, batch) -> dict[str, torch.Tensor]:
    """"loss": the Bernoulli negative log-likelihood of the digits in nats
    plus the quantizer's loss, per digit, averaged over the batch; also
    "reconstruction" (the first part alone) and the batch's code
    "perplexity"."""
    (x,) = batch                                                  # (B, 784)
    logits, indices, quantizer_loss = model(x)
    nll = nn.functional.binary_cross_entropy_with_logits(
        logits, x, reduction="none").sum(1)                       # (B,)
    usage = perplexity(code_counts(indices, model.quantizer.codes))
    return {"loss": (nll + quantizer_loss).mean(),
            "reconstruction": nll.mean().detach(),
            "perplexity": torch.tensor(usage)}


class CodeRestartTrainer(Trainer):
    """A Trainer for a VQVAE that, every ``every`` steps, moves each code
    that no vector of the step's batch chose onto an encoder output of that
    batch (``restart_dead_codes``); ``restarts`` counts the codes moved."""

    def __init__(self, *args, every: int = 100, **kwargs):
        super().__init__(*args, **kwargs)
        self.every = positive_int("every", every)
        self.restarts = 0

    def train_step(self, batch):
        metrics = super().train_step(batch)          # one step, as usual
        if (self.step + 1) % self.every == 0:        # then, now and then:
            quantizer = self.model.quantizer
            with torch.no_grad():
                z_e = self.model.encoder(batch[0])   # (B, D, 7, 7)
                counts = code_counts(quantizer.nearest(z_e), quantizer.codes)
                self.restarts += restart_dead_codes(
                    quantizer, z_e, counts, generator=self.generator)
        return metrics
