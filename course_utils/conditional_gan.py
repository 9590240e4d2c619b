"""Class-conditional GANs for digits: a generator G(z, y) and a projection
discriminator D(x, y), their trainer (the GAN step with labels), the share of
samples a classifier reads as the requested digit, and linear latent directions
fitted to measured attributes of the samples.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from course_utils.checks import class_labels, positive_int, shaped
from course_utils.classifier import classify
from course_utils.device import seeded
from course_utils.gan import GAN, DCGANGenerator, GANTrainer, dcgan_init_
from course_utils.train import eval_mode

# what digit_attributes measures, in order
ATTRIBUTES = ("ink", "slant", "width", "height")


# ----- networks ---------------------------------------------------------------
class ConditionalGenerator(nn.Module):
    """G(z, y): the label's learned embedding is concatenated with z, then a
    DCGAN generator."""

    def __init__(self, latent_dim: int = 32, n_classes: int = 10,
                 channels: int = 32, embed_dim: int = 16):
        super().__init__()
        self.embed = nn.Embedding(n_classes, embed_dim)  # label -> (embed_dim,)
        # (B, latent_dim + embed_dim) -> (B, 784) in [-1, 1]
        self.body = DCGANGenerator(latent_dim + embed_dim, channels)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([z, self.embed(y)], 1))  # (B, 784)


class ProjectionDiscriminator(nn.Module):
    """D(x, y) = psi(phi(x)) + embed(y) . phi(x) (Miyato & Koyama, 2018): an
    unconditional "is it real" score plus the inner product of the image's
    features with its class's vector."""

    def __init__(self, n_classes: int = 10, channels: int = 32):
        super().__init__()
        c = channels
        self.phi = nn.Sequential(  # (B, 784) -> (B, 2c) features
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, c, 4, stride=2, padding=1),  # 28x28 => 14x14
            nn.LeakyReLU(0.2),
            nn.Conv2d(c, 2 * c, 4, stride=2, padding=1),  # 14x14 => 7x7
            nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * c * 7 * 7, 2 * c), nn.LeakyReLU(0.2))
        self.psi = nn.Linear(2 * c, 1)  # unconditional part
        self.embed = nn.Embedding(n_classes, 2 * c)  # one vector per class

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.phi(x)  # (B, 2c)
        return self.psi(h).squeeze(1) + (self.embed(y) * h).sum(1)  # (B,)

    def class_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The class vectors read as a classifier's weights: (B, n_classes)
        scores embed(k) . phi(x), the projection term for every class k."""
        return self.phi(x) @ self.embed.weight.T  # (B, 2c) @ (2c, n_classes)


class ConditionalGAN(GAN):
    """A GAN whose networks take labels: generator(z, y) and
    discriminator(x, y)."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module,
                 latent_dim: int, n_classes: int = 10):
        super().__init__(generator, discriminator, latent_dim)
        self.n_classes = positive_int("n_classes", n_classes)

    @torch.no_grad()
    def sample(self, labels: torch.Tensor,
               generator: torch.Generator | None = None,
               z: torch.Tensor | None = None) -> torch.Tensor:
        """One sample per requested label (N,) in eval mode, (N, 784) in
        [-1, 1]; z (N, latent) may be given (to keep a style fixed), else it is
        drawn with ``generator``."""
        labels = class_labels("labels", labels, self.n_classes)
        z = (self.noise(len(labels), generator) if z is None
             else self.check_latents(z, len(labels)))
        device = next(self.parameters()).device
        with eval_mode(self):
            return self.generator(z.to(device), labels.to(device))


def conditional_dcgan(latent_dim: int = 32, n_classes: int = 10,
                      channels: int = 32) -> ConditionalGAN:
    """A small class-conditional DCGAN with the DCGAN paper's N(0, 0.02)
    initialisation; the label embeddings keep PyTorch's N(0, 1), so that the
    label matters from the first step."""
    return dcgan_init_(ConditionalGAN(
        ConditionalGenerator(latent_dim, n_classes, channels),
        ProjectionDiscriminator(n_classes, channels), latent_dim, n_classes))


class ConditionalGANTrainer(GANTrainer):
    """GANTrainer on (images, labels) batches: fakes are made for the batch's
    own labels, and D judges every image together with its label. With
    aux_weight > 0 both players also get an auxiliary classification loss (as
    in AC-GAN, Odena et al., 2017) on D's class_logits: D learns to classify
    real images, G to make fakes that D classifies as requested."""

    def __init__(self, gan: ConditionalGAN, optimizers: dict, *, device,
                 aux_weight: float = 1.0, **kwargs):
        if not isinstance(gan, ConditionalGAN):
            raise TypeError(f"gan: expected a ConditionalGAN, got "
                            f"{type(gan).__name__}")
        if (not isinstance(aux_weight, (int, float))
                or isinstance(aux_weight, bool) or aux_weight < 0):
            raise ValueError(f"aux_weight={aux_weight!r}: expected a number "
                             ">= 0")
        if aux_weight and not hasattr(gan.discriminator, "class_logits"):
            raise TypeError("gan: aux_weight > 0 needs a discriminator with "
                            "class_logits(x)")
        super().__init__(gan, optimizers, device=device, **kwargs)
        self.aux_weight = float(aux_weight)

    def generate(self, batch) -> torch.Tensor:
        """Fakes for this batch: G(z, y) for the batch's own labels y."""
        images, labels = batch
        z = torch.randn(len(images), self.model.latent_dim, device=self.device)
        return self.model.generator(z, labels)

    def discriminate(self, x: torch.Tensor, batch) -> torch.Tensor:
        """D(x, y): each image, real or fake, is judged with its label."""
        return self.model.discriminator(x, batch[1])

    def extra_loss(self, x: torch.Tensor, batch) -> torch.Tensor | float:
        """AC-GAN's auxiliary loss, added to D's loss on the real x and to G's
        on the fakes: cross-entropy of D's class_logits(x) against the
        labels."""
        if not self.aux_weight:
            return 0.0
        class_logits = self.model.discriminator.class_logits(x)  # (B, classes)
        return self.aux_weight * F.cross_entropy(class_logits, batch[1])


def train_conditional_gan(x: torch.Tensor, labels: torch.Tensor, *, device,
                          steps: int, seed: int = 0, aux_weight: float = 1.0,
                          batch_size: int = 64):
    """(gan, trainer): a conditional DCGAN trained on images x (N, 784) in
    [0, 1] with their labels (N,) for ``steps`` batches, with the DCGAN paper's
    Adam (2e-4, beta1 = 0.5); all its random draws come from ``seed``, the
    caller's random stream is left alone."""
    with seeded(seed):
        gan = conditional_dcgan(latent_dim=32, channels=32)
        optimizers = {name: torch.optim.Adam(net.parameters(), lr=2e-4,
                                             betas=(0.5, 0.999))
                      for name, net in [("discriminator", gan.discriminator),
                                        ("generator", gan.generator)]}
        trainer = ConditionalGANTrainer(gan, optimizers, device=device,
                                        batch_size=batch_size,
                                        aux_weight=aux_weight, seed=seed,
                                        progress=False)
        # real digits in [-1, 1], the range of the generator's tanh
        trainer.fit((x * 2 - 1, labels), until_step=steps)
    return gan, trainer


# ----- "ask for a digit, get it" ---------------------------------------------
def _check_requests(predicted, requested, n_classes: int) -> None:
    class_labels("predicted", predicted, n_classes)
    class_labels("requested", requested, n_classes)
    if predicted.shape != requested.shape:
        raise ValueError(f"predicted and requested: shapes differ, "
                         f"{tuple(predicted.shape)} vs "
                         f"{tuple(requested.shape)}")


def requested_accuracy(predicted: torch.Tensor, requested: torch.Tensor,
                       n_classes: int = 10) -> tuple[float, torch.Tensor]:
    """(overall, per_class (n_classes,)): the share of samples classified as
    the digit that was requested, over all samples and among the samples
    requested for each class."""
    _check_requests(predicted, requested, n_classes)
    hit = (predicted == requested).float()  # (N,)
    asked = torch.bincount(requested, minlength=n_classes).float()  # (classes,)
    hits = torch.bincount(requested, weights=hit, minlength=n_classes)
    return hit.mean().item(), hits / asked.clamp(min=1)


def conditional_samples(gan: ConditionalGAN, per_class: int, seed: int = 0):
    """(images (10 per_class, 784) in [0, 1] on the CPU, requested labels):
    per_class samples of each digit, drawn with a fixed seed."""
    requested = torch.arange(gan.n_classes).repeat_interleave(
        positive_int("per_class", per_class))
    images = gan.sample(requested, torch.Generator().manual_seed(seed)).cpu()
    return (images + 1) / 2, requested


def class_accuracy(gan: ConditionalGAN, classifier: nn.Module, device,
                   per_class: int = 100,
                   seed: int = 0) -> tuple[float, torch.Tensor]:
    """requested_accuracy of ``per_class`` samples per digit, as read by
    ``classifier``."""
    images, requested = conditional_samples(gan, per_class, seed)
    predicted = classify(classifier, images, device)
    return requested_accuracy(predicted, requested, gan.n_classes)


def _check_spread(images, labels, n_classes: int) -> None:
    class_labels("labels", labels, n_classes)
    if (not isinstance(images, torch.Tensor) or images.ndim != 2
            or len(images) != len(labels)):
        raise ValueError(f"images: expected shape (N, D) with N = "
                         f"{len(labels)} labels, got "
                         f"{getattr(images, 'shape', type(images).__name__)}")
    counts = torch.bincount(labels, minlength=n_classes)
    if counts.min() < 2:
        raise ValueError(f"labels: expected at least 2 images of every class, "
                         f"got counts {counts.tolist()}")


def class_spread(images: torch.Tensor, labels: torch.Tensor,
                 n_classes: int = 10, per_class: int = 100) -> torch.Tensor:
    """(n_classes,): for each class, the mean pixel distance between two of its
    first ``per_class`` images, a measure of variety (compare samples with real
    digits)."""
    _check_spread(images, labels, n_classes)
    images = images.float()
    return torch.stack([torch.pdist(images[labels == k][:per_class]).mean()
                        for k in range(n_classes)])  # pdist: every pair


# ----- measured attributes and latent directions -----------------------------
def digit_attributes(images: torch.Tensor) -> torch.Tensor:
    """(N, 4) attributes of (N, 784) images in [0, 1], in the order of
    ATTRIBUTES: ink (mean intensity, a proxy for stroke thickness), slant
    (shear of the ink: cov(x, y) / var(y), positive when the top leans right),
    width and height (2 std of the ink along x and y)."""
    shaped("images", images, (None, 784))
    w = images.reshape(-1, 28, 28).float().clamp(min=0)  # ink weights
    mass = w.sum((1, 2)).clamp(min=1e-6)  # (N,)
    grid = torch.arange(28, dtype=w.dtype, device=w.device)
    xs, ys = grid[None, None, :], -grid[None, :, None]  # y points up
    mx = (w * xs).sum((1, 2)) / mass
    my = (w * ys).sum((1, 2)) / mass
    dx, dy = xs - mx[:, None, None], ys - my[:, None, None]  # (N, 28, 28)
    vxx = (w * dx * dx).sum((1, 2)) / mass
    vyy = (w * dy * dy).sum((1, 2)) / mass
    vxy = (w * dx * dy).sum((1, 2)) / mass
    return torch.stack([w.mean((1, 2)), vxy / vyy.clamp(min=1e-6),
                        2 * vxx.sqrt(), 2 * vyy.sqrt()], 1)  # (N, 4)


def _check_fit(z, values, labels, n_classes: int) -> None:
    if not isinstance(z, torch.Tensor) or z.ndim != 2:
        raise ValueError(f"z: expected a (N, d) tensor, got "
                         f"{getattr(z, 'shape', type(z).__name__)}")
    if not isinstance(values, torch.Tensor) or values.shape != (len(z),):
        raise ValueError(f"values: expected shape ({len(z)},), got "
                         f"{getattr(values, 'shape', type(values).__name__)}")
    if labels is not None:
        class_labels("labels", labels, n_classes)
        if len(labels) != len(z):
            raise ValueError(f"labels: expected {len(z)} labels, got "
                             f"{len(labels)}")


def fit_direction(z: torch.Tensor, values: torch.Tensor,
                  labels: torch.Tensor | None = None,
                  n_classes: int = 10) -> torch.Tensor:
    """The unit (d,) direction in z-space along which ``values`` (N,) grow
    fastest under a least-squares linear fit values ~ z w + b (as in
    InterFaceGAN, Shen et al., 2020); with ``labels`` (N,), b is one intercept
    per class, so w explains only variation within a class."""
    _check_fit(z, values, labels, n_classes)
    if labels is None:
        offsets = torch.ones(len(z), 1)  # (N, 1): one intercept
    else:  # (N, n_classes): one intercept per class
        offsets = F.one_hot(labels.cpu().long(), n_classes).float()
    design = torch.cat([z.cpu(), offsets], 1).double()  # (N, d + intercepts)
    fit = torch.linalg.lstsq(design, values.cpu().double()[:, None])
    w = fit.solution[:z.shape[1], 0]  # (d,): the slopes on z
    return (w / w.norm()).float()


@torch.no_grad()
def walk(gan: ConditionalGAN, z: torch.Tensor, labels: torch.Tensor,
         direction: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
    """Images (len(steps), N, 784) in [0, 1] of z + t direction for each t in
    ``steps``."""
    if direction.shape != (gan.latent_dim,):
        raise ValueError(f"direction: expected shape ({gan.latent_dim},), "
                         f"got {tuple(direction.shape)}")
    return torch.stack([(gan.sample(labels, z=z + t * direction).cpu() + 1) / 2
                        for t in steps])
