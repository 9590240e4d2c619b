"""Semi-supervised and active learning with few labels (chapter 12 and its
benchmark): the Gamma-model of Rasmus et al. (2015), its loss and trainer, and
pool-based active learning with an uncertainty score against random choice."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from course_utils.checks import positive_float, positive_int
from course_utils.device import seeded
from course_utils.train import Trainer


class VanillaCombinator(nn.Module):
    """Rasmus et al.'s "vanilla" denoising function g(z_noisy, u), ten
    parameters per unit: z_hat = (z_noisy - mu(u)) * v(u) + mu(u), with mu and
    v each a sigmoid plus a line in u."""

    def __init__(self, units: int):
        super().__init__()
        a = torch.zeros(10, positive_int("units", units))  # a1..a10 per unit
        a[1] = a[6] = 1.0  # the slopes inside the two sigmoids start at one
        self.a = nn.Parameter(a)

    def forward(self, z_noisy, u):  # (B, K), (B, K) -> (B, K)
        a = self.a
        mu = a[0] * torch.sigmoid(a[1] * u + a[2]) + a[3] * u + a[4]
        v = a[5] * torch.sigmoid(a[6] * u + a[7]) + a[8] * u + a[9]
        return (z_noisy - mu) * v + mu


def batch_normalize(h, eps: float = 1e-5):  # (B, K): columns to mean 0, var 1
    return (h - h.mean(0)) / torch.sqrt(h.var(0, unbiased=False) + eps)


def _check_gamma_model(widths, noise_std) -> None:
    if len(widths) < 2:
        raise ValueError(f"widths={widths!r}: expected at least input and "
                         "output sizes")
    positive_float("noise_std", noise_std, allow_zero=True)


class GammaModel(nn.Module):
    """An MLP whose every layer is Linear -> batch norm -> (+ noise) -> shift,
    scale -> ReLU (softmax logits on top). ``path(x, noise_std)`` runs the
    clean (0) or noisy encoder; ``forward`` is the clean path, the classifier
    used at test time."""

    def __init__(self, widths=(784, 500, 250, 10), noise_std: float = 0.3):
        super().__init__()
        _check_gamma_model(widths, noise_std)
        self.noise_std = noise_std
        pairs = list(zip(widths[:-1], widths[1:]))
        self.linears = nn.ModuleList(nn.Linear(a, b, bias=False)
                                     for a, b in pairs)
        self.norms = nn.ModuleList(nn.BatchNorm1d(b, affine=False)
                                   for _, b in pairs)
        self.beta = nn.ParameterList(nn.Parameter(torch.zeros(b))
                                     for _, b in pairs)
        self.gamma = nn.ParameterList(nn.Parameter(torch.ones(b))
                                      for _, b in pairs)
        self.combinator = VanillaCombinator(widths[-1])

    def path(self, x, noise_std: float, n_labeled: int = 0):
        # x (B, 784) -> top z (B, K), logits (B, K). In training, the first
        # n_labeled rows and the rest are batch-normalised separately, as in
        # Rasmus et al.'s code.
        h = x + noise_std * torch.randn_like(x)
        for i, (linear, norm) in enumerate(zip(self.linears, self.norms)):
            z = linear(h)  # (B, width) pre-activation
            if noise_std > 0:  # noisy: batch statistics, running ones unused
                z = split_apply(batch_normalize, z, n_labeled)
                z = z + noise_std * torch.randn_like(z)
            elif self.training:  # clean: updates the running statistics
                z = split_apply(norm, z, n_labeled)
            else:  # clean, at test time: the running statistics
                z = norm(z)
            pre = self.gamma[i] * (z + self.beta[i])
            h = torch.relu(pre) if i < len(self.linears) - 1 else pre
        # z: the normalised (and corrupted) top pre-activation; h: the logits
        return z, h

    def forward(self, x):
        return self.path(x, 0.0)[1]


def split_apply(f, z, n: int):  # f on z[:n] and z[n:] apart, skips empty ones
    parts = [part for part in (z[:n], z[n:]) if len(part)]
    return torch.cat([f(part) for part in parts])


def gamma_loss(model: GammaModel, x_labeled, y_labeled, x_unlabeled,
               lam: float) -> dict:
    """Cross-entropy of the noisy path on the labeled digits plus ``lam`` times
    the squared error between the denoised top layer z_hat and the clean top
    layer z, on all digits."""
    x = torch.cat([x_labeled, x_unlabeled])                    # (L + U, 784)
    n = len(x_labeled)
    z_noisy, logits_noisy = model.path(x, model.noise_std, n)  # noisy encoder
    z_clean, _ = model.path(x, 0.0, n)                         # clean encoder
    u = batch_normalize(torch.softmax(logits_noisy, dim=1))  # top-down signal
    z_hat = model.combinator(z_noisy, u)                     # (L + U, K)
    ce = F.cross_entropy(logits_noisy[:n], y_labeled)
    denoise = (z_hat - z_clean).square().mean()
    return {"loss": ce + lam * denoise, "ce": ce, "denoise": denoise}


class GammaTrainer(Trainer):
    """Fits on the unlabeled digits; every step also draws ``labeled_batch``
    labeled digits (held on the device) and takes one Adam step on
    ``gamma_loss``. With ``lam=0`` the unlabeled batch is left out: the same
    network, trained on the labels alone."""

    def __init__(self, model, optimizer, x_labeled, y_labeled, *, lam: float,
                 labeled_batch: int = 100, **kwargs):
        super().__init__(model, optimizer, **kwargs)
        if len(x_labeled) != len(y_labeled) or len(x_labeled) == 0:
            raise ValueError("x_labeled, y_labeled: expected the same non-zero "
                             f"length, got {len(x_labeled)} and "
                             f"{len(y_labeled)}")
        self.lam = positive_float("lam", lam, allow_zero=True)
        self.x_labeled = x_labeled.to(self.device)
        self.y_labeled = y_labeled.to(self.device)
        self.labeled_batch = min(positive_int("labeled_batch", labeled_batch),
                                 len(x_labeled))

    def train_step(self, batch):
        (x_unlabeled,) = batch  # (B, 784)
        pick = torch.randperm(len(self.x_labeled), generator=self.generator)
        pick = pick[:self.labeled_batch].to(self.device)
        if self.lam == 0:  # supervised baseline: no unlabeled digit is used
            x_unlabeled = x_unlabeled[:0]
        metrics = gamma_loss(self.model, self.x_labeled[pick],
                             self.y_labeled[pick], x_unlabeled, self.lam)
        self.optimize(metrics["loss"], self.optimizer)
        return metrics

    @torch.no_grad()
    def eval_step(self, batch):
        """On labeled (x, y) batches: the clean path's cross-entropy and
        accuracy."""
        x, y = batch
        logits = self.model(x)  # (B, classes)
        return {"loss": F.cross_entropy(logits, y),
                "accuracy": (logits.argmax(1) == y).float().mean()}


def train_gamma(x_labeled, y_labeled, x_unlabeled, *, lam: float, steps: int,
                device, seed: int = 0, lr: float = 2e-3, batch_size: int = 100,
                widths=(784, 500, 250, 10),
                noise_std: float = 0.3) -> GammaTrainer:
    """A fresh ``GammaModel`` trained for ``steps`` steps over the unlabeled
    digits, the learning rate falling linearly to zero; returns the trainer.
    Its random draws come from ``seed``; the caller's random stream is left
    alone."""
    with seeded(seed):
        model = GammaModel(widths, noise_std)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        scheduler = torch.optim.lr_scheduler.LinearLR(
            optimizer, 1.0, 0.0, total_iters=positive_int("steps", steps))
        trainer = GammaTrainer(model, optimizer, x_labeled, y_labeled, lam=lam,
                               labeled_batch=batch_size, device=device,
                               batch_size=batch_size, scheduler=scheduler,
                               progress=False, seed=seed, amp=False)
        trainer.fit(x_unlabeled, until_step=steps)
    return trainer


# ----- active learning --------------------------------------------------------
def _check_probs(probs) -> None:
    is_tensor = isinstance(probs, torch.Tensor)
    if not is_tensor or probs.ndim != 2 or probs.shape[1] < 2:
        got = tuple(probs.shape) if isinstance(probs, torch.Tensor) else probs
        raise ValueError("probs: expected class probabilities of shape "
                         f"(N, C >= 2), got {got!r}")


def margin_uncertainty(probs: torch.Tensor) -> torch.Tensor:
    """Uncertainty of each row of class probabilities (N, C): minus the margin
    between the two most probable classes, so that the highest score is the
    closest call."""
    _check_probs(probs)
    top2 = probs.topk(2, dim=1).values  # (N, 2)
    return -(top2[:, 0] - top2[:, 1])


def fit_logistic(x, y, C: float = 1.0):
    """A logistic regression (scikit-learn) on the rows of ``x`` (n, d) and
    labels ``y``."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():  # a few labels: lbfgs may stop short
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegression(C=C, max_iter=1000).fit(x.double().numpy(),
                                                          y.numpy())


def class_probabilities(classifier, x, n_classes: int = 10) -> torch.Tensor:
    """(N, n_classes) probabilities; classes the classifier never saw get
    probability 0."""
    probs = torch.zeros(len(x), n_classes, dtype=torch.float64)
    probs[:, torch.as_tensor(classifier.classes_)] = torch.from_numpy(
        classifier.predict_proba(x.double().numpy()))
    return probs


def _check_curve(strategy, x_pool, y_pool, x_test, y_test, start, step,
                 budget) -> None:
    if strategy not in ("uncertainty", "random"):
        raise ValueError(f"strategy={strategy!r}: expected 'uncertainty' or "
                         "'random'")
    for name, value in (("start", start), ("step", step), ("budget", budget)):
        positive_int(name, value)
    if not start <= budget <= len(x_pool):
        raise ValueError(f"budget={budget}: expected between start={start} "
                         f"and the pool size {len(x_pool)}")
    if len(x_pool) != len(y_pool) or len(x_test) != len(y_test):
        raise ValueError("x_pool, y_pool / x_test, y_test: expected matching "
                         "lengths")


def active_learning_curve(strategy: str, x_pool, y_pool, x_test, y_test, *,
                          start: int = 20, step: int = 10, budget: int = 200,
                          seed: int = 0, score=None):
    """Pool-based active learning: label ``start`` random pool examples, then
    repeatedly fit a logistic regression and label ``step`` more, the most
    uncertain by ``score`` (default ``margin_uncertainty``) or random ones,
    until ``budget``. Returns the label counts, the test accuracy at each, and
    the pool indices in the order they were labeled."""
    _check_curve(strategy, x_pool, y_pool, x_test, y_test, start, step, budget)
    score = margin_uncertainty if score is None else score
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(x_pool), generator=generator)
    labeled = order[:start].tolist()
    counts, accuracies = [], []
    while True:
        classifier = fit_logistic(x_pool[labeled], y_pool[labeled])
        counts.append(len(labeled))
        accuracies.append(float(classifier.score(x_test.double().numpy(),
                                                 y_test.numpy())))
        if len(labeled) >= budget:
            return counts, accuracies, torch.tensor(labeled)
        n_new = min(step, budget - len(labeled))
        unlabeled = torch.ones(len(x_pool), dtype=torch.bool)
        unlabeled[labeled] = False
        candidates = torch.nonzero(unlabeled).flatten()  # (M,)
        if strategy == "random":
            shuffled = torch.randperm(len(candidates), generator=generator)
            picked = candidates[shuffled[:n_new]]
        else:
            probs = class_probabilities(classifier, x_pool[candidates])
            picked = candidates[score(probs).topk(n_new).indices]  # (n_new,)
        labeled += picked.tolist()
