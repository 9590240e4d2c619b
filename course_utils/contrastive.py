"""Contrastive pretraining (SimCLR) of chapter 5: random views of digits, the NT-Xent loss
and the pretraining run. Chapter 5 explains them; chapter 12 and the pretraining benchmark
reuse chapter 5's best model with 100 labels (a linear probe on the frozen codes, which
``course_utils.train.predict`` computes)."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from course_utils.checks import positive_float, positive_int
from course_utils.device import seeded
from course_utils.models import ConvEncoder
from course_utils.train import Trainer


def random_views(x, max_degrees=20.0, max_scale=0.25, max_shift=0.25,
                 max_shear=0.3):
    # x (B, 784) -> (B, 784): each digit rotated, scaled, sheared and shifted
    b = len(x)

    def u():  # (B,) uniform on [-1, 1]
        return 2 * torch.rand(b, device=x.device) - 1

    angle, scale = u() * math.radians(max_degrees), 1 + u() * max_scale
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    top = torch.stack([cos, -sin + u() * max_shear, u() * max_shift], 1)
    bottom = torch.stack([sin, cos, u() * max_shift], 1)
    theta = torch.stack([top, bottom], 1)                # (B, 2, 3) affine maps
    grid = F.affine_grid(theta, (b, 1, 28, 28), align_corners=False)
    views = F.grid_sample(x.view(b, 1, 28, 28), grid, align_corners=False)
    return views.view(b, 784)


def nt_xent(z1, z2, tau=0.2):  # z1, z2 (B, d): the two views of B images
    positive_float("tau", tau)                    # the temperature, > 0
    z = F.normalize(torch.cat([z1, z2]), dim=1)   # (2B, d) on the unit sphere
    sim = z @ z.T / tau                           # (2B, 2B) cosines / tau
    itself = torch.eye(len(z), dtype=torch.bool, device=z.device)
    sim = sim.masked_fill(itself, float("-inf"))  # no view is its own partner
    b = len(z1)
    partner = torch.cat([torch.arange(b, 2 * b), torch.arange(b)]).to(z.device)
    return F.cross_entropy(sim, partner)


def simclr_loss(model: nn.Module, batch) -> torch.Tensor:
    """NT-Xent between ``model``'s outputs for two random views of each
    unlabeled digit."""
    (x,) = batch  # (B, 784) unlabeled digits
    return nt_xent(model(random_views(x)), model(random_views(x)))


def simclr_model(code_dim: int = 128, channels: int = 16) -> nn.Sequential:
    """Chapter 5's encoder f (a small convnet, 784 -> ``code_dim``) followed by
    the projection head g used only in pretraining; ``model[0]`` is the
    encoder."""
    encoder = ConvEncoder(code_dim=code_dim, channels=channels)
    head = nn.Sequential(nn.BatchNorm1d(code_dim), nn.ReLU(),
                         nn.Linear(code_dim, 128), nn.BatchNorm1d(128),
                         nn.ReLU(), nn.Linear(128, 64))
    return nn.Sequential(encoder, head)


def simclr_pretrain(x: torch.Tensor, *, steps: int, device, seed: int = 0,
                    batch_size: int = 256) -> tuple[nn.Module, list[dict]]:
    """Pretrain ``simclr_model()`` on unlabeled digits ``x`` (N, 784) for ``steps`` Adam
    steps; returns the encoder and the training history. Its random draws come from
    ``seed``; the caller's random stream is left alone."""
    positive_int("steps", steps)
    if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != 784:
        raise ValueError(f"x: expected unlabeled digits of shape (N, 784), got "
                         f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")
    with seeded(seed):
        model = simclr_model()
        trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=1e-3), simclr_loss,
                          device=device, batch_size=min(batch_size, len(x)), progress=False,
                          seed=seed)
        history = trainer.fit(x, until_step=steps)
    return model[0], history
