"""Sequence autoencoders: an LSTM reads a sequence into one code vector, another LSTM writes the
sequence back from it; images become sequences by reading them row by row.

Used by the sequence autoencoder chapter and its benchmark. Sequences are batch-first,
(N, T, D): N sequences of T steps, D numbers per step (an MNIST digit is T = 28 rows of
D = 28 pixels).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from course_utils.checks import positive_int
from course_utils.train import predict


def _check_sequences(name: str, x, per_step: int | None = None) -> None:
    """A ValueError naming ``name`` unless x is a batch of sequences (N, T, D), with
    D = per_step numbers per step when it is given."""
    if not isinstance(x, torch.Tensor) or x.ndim != 3:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name}: expected sequences of shape (N, T, D), got {shape}")
    if per_step is not None and x.shape[2] != per_step:
        raise ValueError(f"{name}: expected {per_step} numbers per step, "
                         f"got shape {tuple(x.shape)}")


def _check_codes(name: str, code, code_dim: int) -> None:
    if not isinstance(code, torch.Tensor) or code.ndim != 2 or code.shape[1] != code_dim:
        got = tuple(code.shape) if isinstance(code, torch.Tensor) else code
        raise ValueError(f"{name}: expected shape (N, {code_dim}), got {got!r}")


def _check_images(name: str, x) -> None:
    """A ValueError naming ``name`` unless x is square images (N, H*W) or (N, H, W)."""
    if not isinstance(x, torch.Tensor) or x.ndim not in (2, 3):
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name}: expected images (N, H*W) or (N, H, W), got {got}")
    if x.ndim == 2 and math.isqrt(x.shape[1]) ** 2 != x.shape[1]:
        raise ValueError(f"{name}: rows of length {x.shape[1]} are not square images")


def _check_batch(name: str, x) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim < 2 or len(x) == 0:
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name}: expected a non-empty batch (N, ...), got {got}")


def _check_sizes(**sizes) -> None:
    for name, value in sizes.items():
        positive_int(name, value)


def images_to_rows(x: torch.Tensor) -> torch.Tensor:
    """Square images (N, H*W) or (N, H, W) to sequences of their rows,
    (N, H, W): step t is row t, read top to bottom."""
    _check_images("x", x)
    if x.ndim == 3:
        return x
    side = math.isqrt(x.shape[1])
    return x.reshape(len(x), side, side)


class LSTMAutoencoder(nn.Module):
    """Sequences (N, steps, D) -> codes (N, code_dim) -> logits (N, steps, D).

    Encoder (sequence to vector): an LSTM reads the steps in order; a linear
    layer maps its final hidden and cell states to the code. Decoder (vector to
    sequence): a linear layer maps the code to the initial hidden and cell state
    of a second LSTM; at every step that LSTM gets the code again and a one-hot
    step number (so that it need not count steps in its state), and a linear
    layer turns its hidden state into the step's logits.
    """

    def __init__(self, input_size: int, hidden_size: int, code_dim: int,
                 steps: int):
        super().__init__()
        _check_sizes(input_size=input_size, hidden_size=hidden_size,
                     code_dim=code_dim, steps=steps)
        self.input_size, self.code_dim, self.steps = input_size, code_dim, steps
        self.encoder = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.to_code = nn.Linear(2 * hidden_size, code_dim)
        self.to_state = nn.Linear(code_dim, 2 * hidden_size)
        self.decoder = nn.LSTM(code_dim + steps, hidden_size, batch_first=True)
        self.to_step = nn.Linear(hidden_size, input_size)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(N, T, D) -> (N, code_dim), from the final states (any length T)."""
        _check_sequences("x", x, self.input_size)
        _, (h, c) = self.encoder(x)  # final states, (1, N, hidden) each
        return self.to_code(torch.cat([h[-1], c[-1]], dim=1))  # (N, code_dim)

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        """(N, code_dim) -> logits (N, steps, D)."""
        _check_codes("code", code, self.code_dim)
        n = len(code)
        h0, c0 = self.to_state(code).tanh().chunk(2, dim=1)  # (N, hidden) each
        one_hot = torch.eye(self.steps, device=code.device, dtype=code.dtype)
        inputs = torch.cat([code[:, None, :].expand(-1, self.steps, -1),
                            one_hot[None].expand(n, -1, -1)],
                           dim=2)  # (N, steps, code_dim + steps)
        state = (h0[None].contiguous(), c0[None].contiguous())
        out, _ = self.decoder(inputs, state)  # (N, steps, hidden)
        return self.to_step(out)              # (N, steps, D)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def bernoulli_loss(model: nn.Module, batch) -> torch.Tensor:
    """Loss for the course Trainer: the Bernoulli negative log-likelihood of x
    under ``sigmoid(model(x))``, summed over each item's values, averaged over
    the batch. Works for sequences (B, T, D) and for images (B, 784) alike."""
    (x,) = batch       # (B, T, D) or (B, 784), in [0, 1]
    logits = model(x)  # same shape
    per_value = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return per_value.flatten(1).sum(dim=1).mean()


def per_sequence_error(model: nn.Module, x: torch.Tensor, device,
                       batch_size: int = 500) -> torch.Tensor:
    """Squared error of ``sigmoid(model(x))`` against x, summed over all but the
    first dimension: one reconstruction error per item, (N, ...) -> (N,), on the
    CPU. The model returns logits of x's shape (sequences (N, T, D), or images
    (N, 784) for a feed-forward autoencoder). An anomaly score: large where the
    model cannot reconstruct."""
    _check_batch("x", x)
    logits = predict(model, x, device, batch_size)  # (N, ...) on the CPU
    recon = torch.sigmoid(logits.float())
    return ((recon - x.cpu()) ** 2).flatten(1).sum(1)
