"""Restricted Boltzmann machines: a binary RBM, contrastive divergence (CD-k) and persistent
CD for the course Trainer, exact partition functions of small RBMs by enumeration, and a deep
belief network stacked greedily and unrolled into a deep autoencoder."""

from __future__ import annotations

import itertools

import torch
from torch import nn
from torch.nn import functional as F

from course_utils.checks import positive_int
from course_utils.models import Autoencoder
from course_utils.train import Trainer


class RBM(nn.Module):
    """Binary RBM with energy E(v, h) = -b.v - c.h - v.W.h;
    W (n_visible, n_hidden)."""

    def __init__(self, n_visible: int, n_hidden: int, init_std: float = 0.01):
        super().__init__()
        positive_int("n_visible", n_visible)
        positive_int("n_hidden", n_hidden)
        self.W = nn.Parameter(init_std * torch.randn(n_visible, n_hidden))
        self.b = nn.Parameter(torch.zeros(n_visible))  # visible biases
        self.c = nn.Parameter(torch.zeros(n_hidden))  # hidden biases

    @torch.no_grad()
    def init_visible_bias(self, x: torch.Tensor) -> "RBM":
        """b_i = log(p_i / (1 - p_i)), p_i the fraction of rows of x with
        v_i = 1: with W = 0 the RBM then already models each pixel's mean
        (Hinton's practical guide to RBMs)."""
        p = x.float().mean(0).clamp(0.01, 0.99).to(self.b)  # (n_visible,)
        self.b.copy_(torch.log(p / (1 - p)))
        return self

    def energy(self, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """E(v, h) for (N, n_visible) and (N, n_hidden) states -> (N,)."""
        return -(v @ self.b) - (h @ self.c) - ((v @ self.W) * h).sum(1)

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """F(v) = -log sum_h exp(-E(v, h))
        = -b.v - sum_j softplus(c_j + v.W_j) -> (N,)."""
        return -(v @ self.b) - F.softplus(v @ self.W + self.c).sum(1)

    def p_h_given_v(self, v: torch.Tensor) -> torch.Tensor:
        """P(h_j = 1 | v) = sigmoid(c_j + v.W_j):
        (N, n_visible) -> (N, n_hidden)."""
        return torch.sigmoid(v @ self.W + self.c)

    def p_v_given_h(self, h: torch.Tensor) -> torch.Tensor:
        """P(v_i = 1 | h) = sigmoid(b_i + W_i.h):
        (N, n_hidden) -> (N, n_visible)."""
        return torch.sigmoid(h @ self.W.T + self.b)

    @torch.no_grad()
    def gibbs(self, v: torch.Tensor, k: int = 1) -> torch.Tensor:
        """k steps of block Gibbs sampling from binary v: h ~ P(h|v), then
        v ~ P(v|h)."""
        for _ in range(k):
            h = torch.bernoulli(self.p_h_given_v(v))
            v = torch.bernoulli(self.p_v_given_h(h))
        return v

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        return self.p_h_given_v(v)  # the features a layer above sees


def cd_loss(k: int = 1):
    """A loss_fn for the Trainer whose gradient is the CD-k update:
    F(data) - F(model sample), the sample from k Gibbs steps started at the
    data and held fixed (no gradient through it)."""
    positive_int("k", k)

    def loss_fn(rbm: RBM, batch) -> dict:
        v = batch[0]  # (B, n_visible), binary
        v_model = rbm.gibbs(v, k)  # the negative sample: k steps from v
        return contrastive_metrics(rbm, v, v_model)

    return loss_fn


def contrastive_metrics(rbm: RBM, v: torch.Tensor,
                        v_model: torch.Tensor) -> dict:
    """{"loss": F(data) - F(model sample), "recon": squared error of one
    up-down pass}; v_model carries no gradient, so autograd differentiates
    the free energies only."""
    gap = rbm.free_energy(v).mean() - rbm.free_energy(v_model).mean()
    with torch.no_grad():
        v_recon = rbm.p_v_given_h(rbm.p_h_given_v(v))  # to watch, not to train
        recon = (v_recon - v).square().sum(1).mean()
    return {"loss": gap, "recon": recon}


class PCDTrainer(Trainer):
    """Persistent CD (Tieleman 2008): the negative sample comes from chains
    that are never reset to the data; each step moves them on by k Gibbs steps
    under the current weights."""

    def __init__(self, rbm: RBM, optimizer, *, device, n_chains: int = 100,
                 k: int = 1, **kw):
        super().__init__(rbm, optimizer, device=device, **kw)
        self.k = positive_int("k", k)
        n_chains = positive_int("n_chains", n_chains)
        start = torch.full((n_chains, rbm.W.shape[0]), 0.5)
        self.chains = torch.bernoulli(start).to(self.device)  # random binary

    def metrics(self, batch) -> dict:
        """The CD metrics with the chains as the negative sample; training
        moves the chains on first (evaluating leaves them where they are)."""
        if self.model.training:
            self.chains = self.model.gibbs(self.chains, self.k)
        return contrastive_metrics(self.model, batch[0], self.chains)

    def state_dict(self) -> dict:
        return {**super().state_dict(), "chains": self.chains}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.chains = state["chains"].to(self.device)


def binary_states(n: int) -> torch.Tensor:
    """All 2^n binary vectors of length n, as a (2^n, n) float tensor."""
    if positive_int("n", n) > 24:
        raise ValueError(f"n={n}: 2^n states is too many to enumerate (at most 24)")
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=n)))


@torch.no_grad()
def log_partition(rbm: RBM, chunk: int = 4096) -> float:
    """Exact log Z, summing over every hidden state h:
    log sum_h exp(c.h + sum_i softplus(b_i + W_i.h)). Costs 2^n_hidden terms,
    so only for RBMs with few hidden units."""
    states = binary_states(rbm.W.shape[1]).to(rbm.W)  # (2^n_hidden, n_hidden)
    terms = []
    for h in states.split(chunk):  # (chunk, n_hidden)
        terms.append(h @ rbm.c + F.softplus(h @ rbm.W.T + rbm.b).sum(1))
    return torch.logsumexp(torch.cat(terms).double(), 0).item()


@torch.no_grad()
def log_likelihood(rbm: RBM, v: torch.Tensor, log_z: float | None = None) -> float:
    """Mean exact log P(v) = -F(v) - log Z over the rows of v (nats per image)."""
    log_z = log_partition(rbm) if log_z is None else log_z
    return (-rbm.free_energy(v.to(rbm.W)).double().mean() - log_z).item()


def train_rbm(rbm: RBM, x: torch.Tensor, *, steps: int, device, k: int = 1,
              persistent: bool = False, lr: float = 1e-3, batch_size: int = 100,
              seed: int = 0) -> Trainer:
    """Train ``rbm`` on binary x (N, n_visible) with Adam on CD-k, or PCD-k with
    ``persistent=True``, for ``steps`` mini-batch steps; returns the Trainer (its history)."""
    optimizer = torch.optim.Adam(rbm.parameters(), lr=lr)
    common = dict(device=device, batch_size=batch_size, progress=False, seed=seed,
                  amp=False)  # float32: a free energy sums hundreds of terms
    if persistent:
        trainer = PCDTrainer(rbm, optimizer, n_chains=batch_size, k=k, **common)
    else:
        trainer = Trainer(rbm, optimizer, cd_loss(k), **common)
    trainer.fit(x, until_step=steps)
    return trainer


def greedy_stack(x: torch.Tensor, sizes: list[int], *, steps: int, device,
                 **kw) -> list[RBM]:
    """A deep belief network, trained greedily: an RBM on x, then an RBM on
    the first one's hidden probabilities P(h|x), and so on;
    sizes = [n_hidden of layer 1, layer 2, ...]; each layer trains ``steps``
    mini-batch steps."""
    rbms, inputs = [], x  # (N, 784) binary digits
    for n_hidden in sizes:
        rbm = RBM(inputs.shape[1], n_hidden).init_visible_bias(inputs)
        train_rbm(rbm, inputs, steps=steps, device=device, **kw)
        with torch.no_grad():  # (N, n_hidden): the next layer's data
            inputs = rbm.p_h_given_v(inputs.to(device))
        rbms.append(rbm)
    return rbms


def unroll(rbms: list[RBM]) -> Autoencoder:
    """The deep autoencoder of Hinton & Salakhutdinov (2006): encoder layers
    sigmoid(v W + c), decoder layers sigmoid(h W^T + b) in reverse order, all
    weights copied from the RBMs."""
    encoder, decoder = [], []
    for rbm in rbms:
        n_visible, n_hidden = rbm.W.shape
        up = nn.Linear(n_visible, n_hidden)
        down = nn.Linear(n_hidden, n_visible)
        with torch.no_grad():
            up.weight.copy_(rbm.W.T)
            up.bias.copy_(rbm.c)
            down.weight.copy_(rbm.W)
            down.bias.copy_(rbm.b)
        encoder += [up, nn.Sigmoid()]
        decoder = [down, nn.Sigmoid()] + decoder
    return Autoencoder(nn.Sequential(*encoder), nn.Sequential(*decoder))
