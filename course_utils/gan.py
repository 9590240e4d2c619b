"""Generative adversarial networks: the losses, a GANTrainer (the course Trainer with a two-optimizer
step and hooks for conditional GANs), DCGAN-style networks for 28x28 digits, PacGAN packing,
minibatch standard deviation, and spherical interpolation. The 2-D rings and grids of Gaussians
and their mode counts are in toy_data.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from course_utils.checks import positive_int, shaped
from course_utils.device import autocast
from course_utils.train import Trainer, eval_mode

GENERATOR_LOSSES = ("non_saturating", "saturating")


# ----- the game's losses, on discriminator logits ---------------------------------------------
def discriminator_loss(real_logits: torch.Tensor,
                       fake_logits: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of D: label real 1, fake 0; minimising it maximises
    V(D, G) over D."""
    real = F.binary_cross_entropy_with_logits(
        real_logits, torch.ones_like(real_logits))
    fake = F.binary_cross_entropy_with_logits(
        fake_logits, torch.zeros_like(fake_logits))
    return real + fake  # = -(E log D(x) + E log(1 - D(G(z))))


def generator_loss(fake_logits: torch.Tensor,
                   kind: str = "non_saturating") -> torch.Tensor:
    """G's loss. "saturating": minimise E log(1 - D(G(z))), the game itself;
    "non_saturating": minimise -E log D(G(z)), the same fixed point, strong
    gradients early."""
    if kind == "saturating":
        # log(1 - sigmoid(l)) = -softplus(l)
        return -F.softplus(fake_logits).mean()
    if kind == "non_saturating":
        return F.softplus(-fake_logits).mean()  # -log sigmoid(l) = softplus(-l)
    raise ValueError(
        f"kind={kind!r}: expected one of {', '.join(GENERATOR_LOSSES)}")


# ----- the model and its trainer ----------------------------------------------------------------
class GAN(nn.Module):
    """A generator and a discriminator held together (one module, so one checkpoint)."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module, latent_dim: int):
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = positive_int("latent_dim", latent_dim)

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent_dim, generator=generator)  # (n, latent_dim), CPU draw
        return z.to(device)

    @torch.no_grad()
    def sample(self, n: int | None = None, generator: torch.Generator | None = None,
               z: torch.Tensor | None = None) -> torch.Tensor:
        """Samples from G in eval mode (batch norm uses its running statistics): n of them from
        latents drawn with ``generator``, or one for each row of given latents z (N, latent_dim)."""
        z = self.noise(positive_int("n", n), generator) if z is None else self.check_latents(z)
        with eval_mode(self):
            return self.generator(z.to(next(self.parameters()).device))

    def check_latents(self, z, n: int | None = None) -> torch.Tensor:
        """z if it is a (N, latent_dim) tensor (N = n if given), else a ValueError naming z."""
        return shaped("z", z, (n, self.latent_dim))


class GANTrainer(Trainer):
    """The course Trainer with the step overridden: one D update, then one G update per batch.

    optimizers: {"discriminator": ..., "generator": ...}. Metrics: d_loss, g_loss, and d_real /
    d_fake, D's mean probability of "real" on real and on generated samples; ``evaluate``
    measures them without updating. A conditional GAN overrides the hooks ``generate``,
    ``discriminate`` and ``extra_loss``, not the step.
    """

    def __init__(self, gan: GAN, optimizers: dict, *, device, generator_loss: str = "non_saturating",
                 **kwargs):
        if not isinstance(gan, GAN):
            raise TypeError(f"gan: expected a course_utils.gan.GAN, got {type(gan).__name__}")
        if not isinstance(optimizers, dict) or set(optimizers) != {"discriminator", "generator"}:
            raise ValueError("optimizers: expected a dict with keys 'discriminator' and 'generator'")
        if generator_loss not in GENERATOR_LOSSES:
            raise ValueError(f"generator_loss={generator_loss!r}: expected one of "
                             f"{', '.join(GENERATOR_LOSSES)}")
        super().__init__(gan, optimizers, device=device, **kwargs)
        self.generator_loss = generator_loss

    # ----- hooks ------------------------------------------------------------------------
    def generate(self, batch) -> torch.Tensor:
        """Fakes for this batch: G(z), one per real sample."""
        z = torch.randn(len(batch[0]), self.model.latent_dim, device=self.device)  # (B, latent_dim)
        return self.model.generator(z)

    def discriminate(self, x: torch.Tensor, batch) -> torch.Tensor:
        """D's logits for x (real or fake) in this batch."""
        return self.model.discriminator(x)

    def extra_loss(self, x: torch.Tensor, batch) -> torch.Tensor | float:
        """Added to D's loss on the real x and to G's loss on the fakes: none here."""
        return 0.0

    # ----- the two players' losses, and the step -----------------------------------------
    def d_metrics(self, batch) -> tuple[torch.Tensor, dict]:
        """(the fakes, D's metrics): real -> 1, fake -> 0, no gradient into G.
        d_real and d_fake are D's mean probability of "real" on each."""
        real = batch[0]  # (B, ...) on the device
        with autocast(self.device, self.amp):
            fake = self.generate(batch)
            real_logits = self.discriminate(real, batch)
            # detached: D's loss does not reach G's weights
            fake_logits = self.discriminate(fake.detach(), batch)
            d_loss = (discriminator_loss(real_logits, fake_logits)
                      + self.extra_loss(real, batch))
        return fake, {"d_loss": d_loss,
                      "d_real": torch.sigmoid(real_logits).mean(),
                      "d_fake": torch.sigmoid(fake_logits).mean()}

    def g_loss(self, fake: torch.Tensor, batch) -> torch.Tensor:
        """G's loss: make D call the fakes real."""
        with autocast(self.device, self.amp):
            fake_logits = self.discriminate(fake, batch)
            return (generator_loss(fake_logits, self.generator_loss)
                    + self.extra_loss(fake, batch))

    def train_step(self, batch):
        """One update of D, then one of G against the updated D."""
        fake, metrics = self.d_metrics(batch)  # 1. D
        self.optimize(metrics["d_loss"], self.optimizers["discriminator"])
        metrics["g_loss"] = self.g_loss(fake, batch)  # 2. G
        self.optimize(metrics["g_loss"], self.optimizers["generator"])
        return metrics

    @torch.no_grad()
    def eval_step(self, batch):
        fake, metrics = self.d_metrics(batch)
        metrics["g_loss"] = self.g_loss(fake, batch)
        return metrics


# ----- networks ---------------------------------------------------------------------------------
def mlp_generator(latent_dim: int = 2, width: int = 128, out_dim: int = 2) -> nn.Sequential:
    """A small MLP generator for 2-D toy data."""
    return nn.Sequential(nn.Linear(latent_dim, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, out_dim))


def mlp_discriminator(in_dim: int = 2, width: int = 128, pack: int = 1,
                      minibatch_std: bool = False) -> nn.Sequential:
    """A small MLP discriminator; pack > 1 makes it judge ``pack`` samples at once (PacGAN);
    minibatch_std adds the batch's spread as a feature (Karras et al., 2018)."""
    first = [Pack(pack)] if pack > 1 else []
    mid = [MinibatchStd()] if minibatch_std else []
    return nn.Sequential(*first, nn.Linear(in_dim * pack, width), nn.LeakyReLU(0.2), *mid,
                         nn.Linear(width + len(mid), width), nn.LeakyReLU(0.2),
                         nn.Linear(width, 1), nn.Flatten(0))  # (B / pack,) logits


class MinibatchStd(nn.Module):
    """Append one feature to every row: the batch's standard deviation,
    averaged over features. A collapsed batch has a small spread, which D can
    then see and punish."""

    def forward(self, h: torch.Tensor) -> torch.Tensor:  # (B, k) -> (B, k + 1)
        spread = h.std(dim=0).mean().expand(len(h), 1)
        return torch.cat([h, spread], 1)


class Pack(nn.Module):
    """PacGAN: concatenate ``m`` samples into one input, (B, d) -> (B / m, m d).

    D then sees a set of m samples that are all real or all fake; a collapsed generator's
    sets look alike, so D can tell them apart, and G is pushed to spread out."""

    def __init__(self, m: int):
        super().__init__()
        self.m = positive_int("m", m)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if len(x) % self.m:
            raise ValueError(f"batch of {len(x)} is not a multiple of pack m={self.m}")
        return x.reshape(len(x) // self.m, -1)  # (B / m, m * d)


class DCGANGenerator(nn.Sequential):
    """z -> 7x7 -> 14x14 -> 28x28 with transposed convolutions, batch norm, ReLU; tanh output."""

    def __init__(self, latent_dim: int = 64, channels: int = 64):
        c = channels
        super().__init__(
            nn.Linear(latent_dim, 2 * c * 7 * 7, bias=False), nn.Unflatten(1, (2 * c, 7, 7)),
            nn.BatchNorm2d(2 * c), nn.ReLU(),
            nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1, bias=False),  # 7x7 => 14x14
            nn.BatchNorm2d(c), nn.ReLU(),
            nn.ConvTranspose2d(c, 1, 4, stride=2, padding=1),  # 14x14 => 28x28
            nn.Tanh(), nn.Flatten())  # (B, 784) in [-1, 1]


class DCGANDiscriminator(nn.Sequential):
    """28x28 -> 14x14 -> 7x7 with strided convolutions (no pooling), batch norm, LeakyReLU."""

    def __init__(self, channels: int = 64):
        c = channels
        super().__init__(
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # 28x28 => 14x14
            nn.Conv2d(c, 2 * c, 4, stride=2, padding=1, bias=False),  # 14x14 => 7x7
            nn.BatchNorm2d(2 * c), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * c * 7 * 7, 1), nn.Flatten(0))  # (B,) logits


def dcgan_init_(gan: nn.Module) -> nn.Module:
    """The DCGAN paper's initialisation, in place: convolution and linear
    weights N(0, 0.02) with zero biases, batch-norm scales N(1, 0.02); other
    layers (embeddings) are left alone."""
    for module in gan.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(module.weight, 0.0, 0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.normal_(module.weight, 1.0, 0.02)
            nn.init.zeros_(module.bias)
    return gan


def dcgan(latent_dim: int = 64, channels: int = 64) -> GAN:
    """A DCGAN for (B, 784) images scaled to [-1, 1], with the paper's
    N(0, 0.02) init."""
    gan = GAN(DCGANGenerator(latent_dim, channels),
              DCGANDiscriminator(channels), latent_dim)
    return dcgan_init_(gan)


def slerp(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """Spherical interpolation between two (d,) latents: (steps, d) points
    on the great circle from z0 to z1 (White, 2016)."""
    steps = positive_int("steps", steps)
    t = torch.linspace(0, 1, steps, device=z0.device)[:, None]  # (steps, 1)
    cos = F.cosine_similarity(z0, z1, dim=0)
    omega = torch.arccos(torch.clamp(cos, -1 + 1e-7, 1 - 1e-7))  # the angle
    return (torch.sin((1 - t) * omega) * z0
            + torch.sin(t * omega) * z1) / torch.sin(omega)

