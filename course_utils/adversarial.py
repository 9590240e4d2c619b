"""Adversarial examples (chapter 9 and its benchmark): the FGSM and PGD attacks, fooling a
network by a small optimised change, adversarial training as a Trainer loss, and
domain-adversarial training (gradient reversal, a shifted target domain)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from course_utils.checks import positive_float, positive_int, probability
from course_utils.models import ConvEncoder, Reshape, mlp
from course_utils.train import eval_mode


def _check_eps(eps) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not 0 <= eps <= 1:
        raise ValueError(f"eps={eps!r}: expected a number in [0, 1] (pixels lie in [0, 1])")
    return float(eps)


def _input_grad(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """d loss / d x of the cross-entropy, for a batch; the model's gradients are untouched."""
    with torch.enable_grad():  # also under torch.no_grad()
        x = x.detach().requires_grad_(True)
        loss = F.cross_entropy(model(x).float(), y)
        (grad,) = torch.autograd.grad(loss, x)
    return grad


def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
         eps: float) -> torch.Tensor:
    """Fast gradient sign method (Goodfellow et al. 2015): one step of size
    ``eps`` along the sign of the loss gradient,
    x' = clip(x + eps * sign(grad_x C(x, y)), 0, 1)."""
    eps = _check_eps(eps)
    return (x + eps * _input_grad(model, x, y).sign()).clamp(0, 1).detach()


def pgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float,
        steps: int = 10, step_size: float | None = None,
        random_start: bool = True) -> torch.Tensor:
    """Projected gradient descent (Madry et al. 2018): FGSM steps of
    ``step_size`` (default 2.5 eps / steps), each followed by projection back
    into the L-inf ball of radius eps around x and into [0, 1]; starts from a
    random point of the ball."""
    eps, steps = _check_eps(eps), positive_int("steps", steps)
    if eps == 0:
        return x.detach().clone()  # the ball is a single point
    step_size = 2.5 * eps / steps if step_size is None else step_size
    positive_float("step_size", step_size)
    x_adv = x + eps * (2 * torch.rand_like(x) - 1) if random_start else x
    for _ in range(steps):
        x_adv = x_adv.clamp(0, 1)
        x_adv = x_adv + step_size * _input_grad(model, x_adv, y).sign()
        x_adv = torch.min(torch.max(x_adv, x - eps), x + eps)  # into the ball
    return x_adv.clamp(0, 1).detach()


def fool(model: nn.Module, x: torch.Tensor, target: torch.Tensor,
         lam: float = 1.0, steps: int = 200, lr: float = 0.005) -> torch.Tensor:
    """Szegedy et al. (2014): the smallest-looking change delta that makes
    ``model`` say ``target``: minimise C(x + delta, target) + lam * ||delta||_2
    per image (Adam on delta), keeping x + delta in [0, 1].
    Returns x + delta."""
    lam = positive_float("lam", lam, allow_zero=True)
    steps = positive_int("steps", steps)
    delta = torch.zeros_like(x, requires_grad=True)
    optimizer = torch.optim.Adam([delta], lr=lr)
    for _ in range(steps):
        loss = (F.cross_entropy(model(x + delta), target, reduction="none")
                + lam * delta.flatten(1).norm(dim=1)).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            delta.copy_((x + delta).clamp(0, 1) - x)  # the box constraint
    return (x + delta).detach()


def fooling_images(model: nn.Module, x_start: torch.Tensor,
                   target: torch.Tensor, steps: int = 20,
                   step_size: float = 0.01) -> torch.Tensor:
    """Nguyen et al. (2015) by gradient ascent: from ``x_start`` (noise, say),
    signed steps up log p(target | x), x kept in [0, 1]; no bound on the
    change, but few small steps."""
    steps = positive_int("steps", steps)
    x = x_start.detach()
    for _ in range(steps):
        x = (x - step_size * _input_grad(model, x, target).sign()).clamp(0, 1)
    return x.detach()


def adversarial_training_loss(eps: float, attack=fgsm,
                              clean_weight: float = 0.5, **attack_args):
    """A Trainer loss_fn, the adversarial objective of Goodfellow et al.
    (2015): clean_weight * C(x, y) + (1 - clean_weight) * C(attack(x), y);
    ``attack`` is fgsm or pgd."""
    eps = _check_eps(eps)
    clean_weight = probability("clean_weight", clean_weight)

    def loss_fn(model: nn.Module, batch) -> dict[str, torch.Tensor]:
        x, y = batch
        # made on the fly, with the current weights
        x_adv = attack(model, x, y, eps, **attack_args)
        clean = F.cross_entropy(model(x), y)
        adv = F.cross_entropy(model(x_adv), y)
        return {"loss": clean_weight * clean + (1 - clean_weight) * adv,
                "clean_loss": clean.detach(), "adversarial_loss": adv.detach()}

    return loss_fn


def robust_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device,
                    attack=None, batch_size: int = 500, **attack_args) -> float:
    """Accuracy of ``model`` on ``attack(model, x, y, **attack_args)`` (clean if attack is None),
    computed in eval mode in batches on ``device``."""
    if len(x) != len(y):
        raise ValueError(f"x, y: expected the same length, got {len(x)} and {len(y)}")
    correct = 0
    with eval_mode(model):
        for i in range(0, len(x), positive_int("batch_size", batch_size)):
            xb, yb = x[i:i + batch_size].to(device), y[i:i + batch_size].to(device)
            if attack is not None:
                xb = attack(model, xb, yb, **attack_args)
            with torch.no_grad():
                correct += (model(xb).argmax(dim=1) == yb).sum().item()
    return correct / len(x)


def conv_classifier(channels: int = 16) -> nn.Sequential:
    """The chapter's small convnet for 28x28 digits: ConvEncoder, GELU, 10 logits."""
    return nn.Sequential(ConvEncoder(128, channels), nn.GELU(), nn.Linear(128, 10))


class GradientReversalFunction(torch.autograd.Function):
    """Identity on the way forward; multiplies the gradient by -lam on the way
    back."""

    @staticmethod
    def forward(ctx, x, lam):
        ctx.lam = lam
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return -ctx.lam * grad_output, None  # no gradient for lam


class GradientReversal(nn.Module):
    """Ganin & Lempitsky (2015): features pass unchanged to the domain classifier, but the
    features learn to make the domain classifier *worse* (lam: how much)."""

    def __init__(self, lam: float = 1.0):
        super().__init__()
        if isinstance(lam, bool) or not isinstance(lam, (int, float)) or lam < 0:
            raise ValueError(f"lam={lam!r}: expected a non-negative number")
        self.lam = float(lam)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return GradientReversalFunction.apply(x, self.lam)

    def extra_repr(self) -> str:
        return f"lam={self.lam}"


class DomainAdversarialNet(nn.Module):
    """features -> label head (what ``forward`` returns: class logits), and
    features -> gradient reversal -> domain head (source 0 vs target 1 logit)."""

    def __init__(self, features: nn.Module, label_head: nn.Module, domain_head: nn.Module,
                 lam: float = 1.0):
        super().__init__()
        self.features, self.label_head, self.domain_head = features, label_head, domain_head
        self.reverse = GradientReversal(lam)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.label_head(self.features(x))

    def domain_logit(self, x: torch.Tensor) -> torch.Tensor:
        return self.domain_head(self.reverse(self.features(x))).squeeze(1)


def ganin_mnist_net(lam: float = 0.1) -> DomainAdversarialNet:
    """Ganin & Lempitsky's MNIST architecture: two 5x5 conv + max-pool layers (768 features),
    a 100-100-10 label head and a 100-1 domain head (no BatchNorm: its statistics would mix
    the domains)."""
    features = nn.Sequential(
        Reshape(1, 28, 28),
        nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(2),   # (N, 32, 12, 12)
        nn.Conv2d(32, 48, 5), nn.ReLU(), nn.MaxPool2d(2),  # (N, 48, 4, 4)
        nn.Flatten(),                                      # (N, 768)
    )
    return DomainAdversarialNet(features, mlp([768, 100, 100, 10]), mlp([768, 100, 1]), lam)


def domain_adversarial_loss(model: DomainAdversarialNet,
                            batch) -> dict[str, torch.Tensor]:
    """A Trainer loss_fn on (labeled source x, y; unlabeled target x) batches:
    the label loss on the source plus the domain loss on both; through the
    reversal, the features learn to hide the domain while the domain head
    learns to find it."""
    x_source, y_source, x_target = batch
    label_loss = F.cross_entropy(model(x_source), y_source)
    logits = model.domain_logit(torch.cat([x_source, x_target]))  # (2B,)
    domains = torch.cat([torch.zeros(len(x_source)),  # source 0, target 1
                         torch.ones(len(x_target))]).to(logits)
    domain_loss = F.binary_cross_entropy_with_logits(logits.float(), domains)
    return {"loss": label_loss + domain_loss, "label_loss": label_loss.detach(),
            "domain_loss": domain_loss.detach()}


def _check_shift(x: torch.Tensor, seed: int, grid: int, brightness: float) -> None:
    if x.ndim != 2 or x.shape[1] != 784:
        raise ValueError(f"x: expected (N, 784) images, got shape {tuple(x.shape)}")
    positive_int("grid", grid)
    positive_int("seed", seed, allow_zero=True)
    if isinstance(brightness, bool) or not isinstance(brightness, (int, float)) \
            or not 0 <= brightness <= 1:
        raise ValueError(f"brightness={brightness!r}: expected a number in [0, 1]")


def shifted_domain(x: torch.Tensor, seed: int = 0, grid: int = 4,
                   brightness: float = 0.6) -> torch.Tensor:
    """A target domain in the spirit of MNIST-M, in grey: each (N, 784) digit
    blended with a random smooth background b in [0, brightness] as
    |b - digit| (b = 1 would invert it)."""
    _check_shift(x, seed, grid, brightness)
    generator = torch.Generator().manual_seed(seed)
    coarse = brightness * torch.rand(len(x), 1, grid, grid,
                                     generator=generator)  # (N, 1, grid, grid)
    background = F.interpolate(coarse, size=(28, 28), mode="bicubic",
                               align_corners=False)  # (N, 1, 28, 28)
    background = background.clamp(0, brightness).view(len(x), 784)
    return (background - x.cpu()).abs().to(x)
