"""Measures the chapters share: reconstruction error, PSNR, and precision@k of retrieval."""

from __future__ import annotations

import torch

from course_utils.checks import positive_float, same_length, same_shape


def squared_error_per_image(x: torch.Tensor, x_hat: torch.Tensor) -> float:
    """Squared error summed over pixels, averaged over images: the error Hinton & Salakhutdinov report."""
    same_shape("x, x_hat", x, x_hat)
    return ((x.float() - x_hat.float()) ** 2).flatten(1).sum(1).mean().item()


def psnr(x: torch.Tensor, x_hat: torch.Tensor, peak: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB, from the mean squared error over all pixels of all images."""
    same_shape("x, x_hat", x, x_hat)
    positive_float("peak", peak)
    mse = ((x.float() - x_hat.float()) ** 2).mean()
    return (10 * torch.log10(peak**2 / mse)).item()


def precision_at_k(query_codes: torch.Tensor, query_labels: torch.Tensor, base_codes: torch.Tensor,
                   base_labels: torch.Tensor, k: int = 10) -> float:
    """Mean fraction of each query's k nearest base items (Euclidean) that share its label."""
    if not isinstance(k, int) or not 0 < k <= len(base_codes):
        raise ValueError(f"k={k!r}: expected an int between 1 and {len(base_codes)}")
    if query_codes.shape[1:] != base_codes.shape[1:]:
        raise ValueError(f"query_codes, base_codes: dimensions differ, {tuple(query_codes.shape)} "
                         f"vs {tuple(base_codes.shape)}")
    same_length("query_codes, query_labels", query_codes, query_labels)
    same_length("base_codes, base_labels", base_codes, base_labels)
    distances = torch.cdist(query_codes.float().flatten(1), base_codes.float().flatten(1))  # (Q, B)
    nearest = distances.topk(k, dim=1, largest=False).indices  # (Q, k)
    return precision_of_neighbours(nearest, query_labels, base_labels)


def precision_of_neighbours(neighbours, query_labels, base_labels) -> float:
    """Mean fraction of each query's retrieved base items (Q, k indices) that share its label.

    Takes tensors or numpy arrays, so that any search (Euclidean, Hamming) can be scored."""
    neighbours, query_labels, base_labels = (torch.as_tensor(a).cpu()
                                             for a in (neighbours, query_labels, base_labels))
    if neighbours.ndim != 2 or len(neighbours) != len(query_labels):
        raise ValueError(f"neighbours: expected shape ({len(query_labels)}, k), got {tuple(neighbours.shape)}")
    if neighbours.numel() and not 0 <= neighbours.min() <= neighbours.max() < len(base_labels):
        raise ValueError(f"neighbours: expected indices into base_labels, 0 to {len(base_labels) - 1}, "
                         f"got {neighbours.min().item()} to {neighbours.max().item()}")
    return (base_labels[neighbours] == query_labels[:, None]).float().mean().item()
