"""The variational autoencoder: a Gaussian encoder, a Bernoulli decoder, the reparameterization
trick and the negative ELBO, for 28x28 images; used by the VAE chapter and the GAN chapter."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from torch.distributions import Normal

from course_utils.checks import positive_int, shaped
from course_utils.likelihood import discretized_logistic_log_prob
from course_utils.models import ConvDecoder, ConvEncoder
from course_utils.train import eval_mode


def _shape(t) -> str:
    return str(tuple(t.shape)) if isinstance(t, torch.Tensor) else type(t).__name__


def _check_gaussian(mu: torch.Tensor, logvar: torch.Tensor) -> None:
    if not isinstance(mu, torch.Tensor) or mu.ndim != 2:
        raise ValueError(f"mu: expected a tensor of shape (N, latent_dim), got {_shape(mu)}")
    if not isinstance(logvar, torch.Tensor) or logvar.shape != mu.shape:
        raise ValueError(f"logvar: expected the shape of mu, {tuple(mu.shape)}, "
                         f"got {_shape(logvar)}")


def _images(batch) -> torch.Tensor:
    """The images of a batch (a tensor, or a tuple with the images first): (B, 784)."""
    x = batch[0] if isinstance(batch, (tuple, list)) else batch
    return shaped("batch", x, (None, 784))


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, diag exp(logvar)) || N(0, I) ) in nats, one value per row:
    (N, d) -> (N,). Per dimension, KL = (mu^2 + sigma^2 - 1 - log sigma^2) / 2;
    the dimensions add up."""
    _check_gaussian(mu, logvar)
    return 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(dim=1)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """A sample z ~ N(mu, diag exp(logvar)) written as z = mu + sigma * eps,
    eps ~ N(0, I): the randomness is in eps alone, so gradients flow to mu and
    logvar. (N, d) -> (N, d)."""
    _check_gaussian(mu, logvar)
    where = generator.device if generator is not None else mu.device
    eps = torch.randn(mu.shape, generator=generator, device=where,
                      dtype=mu.dtype)  # (N, d)
    return mu + torch.exp(0.5 * logvar) * eps.to(mu.device)


class VAE(nn.Module):
    """q(z|x) = N(mu(x), diag sigma^2(x)) by a ConvEncoder with 2 * latent_dim
    outputs; p(x|z) = Bernoulli(sigmoid(logits(z))) per pixel by a ConvDecoder;
    p(z) = N(0, I)."""

    def __init__(self, latent_dim: int, channels: int = 32):
        super().__init__()
        self.latent_dim = positive_int("latent_dim", latent_dim)
        # x (N, 784) -> (N, 2d), and z (N, d) -> logits (N, 784)
        self.encoder = ConvEncoder(2 * latent_dim, channels)
        self.decoder = ConvDecoder(latent_dim, channels)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (N, 784) in [0, 1] -> mu, logvar, each (N, latent_dim)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, latent_dim) -> pixel logits (N, 784); sigmoid gives the
        Bernoulli means."""
        shaped("z", z, (None, self.latent_dim))
        return self.decoder(z)

    def log_likelihood(self, x: torch.Tensor,
                       logits: torch.Tensor) -> torch.Tensor:
        """log p(x|z) in nats, summed over pixels, of Bernoulli pixels
        with means sigmoid(logits): (N,)."""
        return -F.binary_cross_entropy_with_logits(
            logits.float(), x.float(), reduction="none").sum(dim=1)

    def forward(self, x: torch.Tensor):
        """x (N, 784) -> (logits (N, 784), mu, logvar), z drawn from q(z|x)."""
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar)), mu, logvar

    @torch.no_grad()
    def sample(self, n: int,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """n images (n, 784) in [0, 1]: the decoder's pixel means at
        z ~ N(0, I), in eval mode."""
        n = positive_int("n", n)
        device = next(self.parameters()).device
        where = generator.device if generator is not None else device
        z = torch.randn(n, self.latent_dim, generator=generator,
                        device=where)  # (n, d)
        with eval_mode(self):
            return torch.sigmoid(self.decode(z.to(device)).float())


def vae_loss(model: VAE, batch) -> dict[str, torch.Tensor]:
    """The negative ELBO per image in nats,
    -E_q[log p(x|z)] + KL(q(z|x) || p(z)), with one z per image; batch means of
    it and its two parts. Usable as a Trainer's loss_fn."""
    x = _images(batch)  # (B, 784): in [0, 1], or levels for a LevelsVAE
    logits, mu, logvar = model(x)
    reconstruction = -model.log_likelihood(x, logits)  # -log p(x|z): (B,)
    kl = gaussian_kl(mu.float(), logvar.float())  # (B,)
    return {"loss": (reconstruction + kl).mean(),
            "reconstruction": reconstruction.mean(), "kl": kl.mean()}


def importance_weighted_bound(model: VAE, x: torch.Tensor, k: int,
                              generator: torch.Generator | None = None):
    """The importance-weighted lower bound on log p(x) in nats, one value per
    image (N,): log (1/k) sum_i p(x, z_i) / q(z_i|x) with z_1..z_k ~ q(z|x).
    k=1 is the ELBO (one sample); it rises towards log p(x) as k grows
    (Burda et al. 2016)."""
    k = positive_int("k", k)
    mu, logvar = model.encode(x)                          # (N, d) each
    q, prior = Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)
    log_weights = []
    for _ in range(k):
        z = reparameterize(mu, logvar, generator)         # (N, d)
        log_px_z = model.log_likelihood(x, model.decode(z))  # (N,) log p(x|z)
        log_pz = prior.log_prob(z).sum(dim=1)             # (N,) log p(z)
        log_qz = q.log_prob(z).sum(dim=1)                 # (N,) log q(z|x)
        log_weights.append(log_px_z + log_pz - log_qz)
    log_weights = torch.stack(log_weights)                # (k, N)
    return torch.logsumexp(log_weights, dim=0) - math.log(k)  # (N,)


class LevelsVAE(VAE):
    """A VAE for 8-bit digits, x (N, 784) of levels 0..levels-1: the
    encoder sees x / (levels - 1); p(x|z) is a discretized logistic per
    pixel, its mean the sigmoid of the decoder's output, its log-scale one
    learned number per pixel. log p(x|z) is a discrete probability, so the
    ELBO bounds log P(x) of the digit's levels."""

    def __init__(self, latent_dim: int, channels: int = 32,
                 levels: int = 256):
        super().__init__(latent_dim, channels)
        self.levels = positive_int("levels", levels)
        self.log_scale = nn.Parameter(torch.full((784,), -3.0))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return super().encode(x / (self.levels - 1))

    def log_likelihood(self, x: torch.Tensor,
                       logits: torch.Tensor) -> torch.Tensor:
        mean = torch.sigmoid(logits.float())
        return discretized_logistic_log_prob(
            x.float(), mean, self.log_scale, self.levels).sum(dim=1)
