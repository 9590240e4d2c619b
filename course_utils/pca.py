"""PCA by eigendecomposition of the covariance, and principal angles between subspaces."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from course_utils.checks import float_tensor


@dataclass(frozen=True)
class PCA:
    """The data's mean, and its covariance's eigenvectors and eigenvalues;
    ``encode`` keeps the first k components."""

    mean: torch.Tensor        # (D,) the data mean
    components: torch.Tensor  # (D, D) eigenvectors as columns, by variance
    variances: torch.Tensor   # (D,) eigenvalues of the covariance, decreasing

    def explained_variance_ratio(self) -> torch.Tensor:
        """(D,) cumulative: the fraction of the variance the first k keep."""
        return torch.cumsum(self.variances, 0) / self.variances.sum()

    def encode(self, x: torch.Tensor, k: int) -> torch.Tensor:
        return (x - self.mean) @ self._basis(k)  # (N, D) -> (N, k)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:  # (N, k) -> (N, D)
        return codes @ self._basis(codes.shape[1]).T + self.mean

    def reconstruct(self, x: torch.Tensor, k: int) -> torch.Tensor:
        return self.decode(self.encode(x, k))

    def _basis(self, k: int) -> torch.Tensor:  # (D, k): the first k components
        d = self.components.shape[1]
        if not isinstance(k, int) or not 0 < k <= d:
            raise ValueError(f"k={k!r}: expected an int between 1 and {d}")
        return self.components[:, :k]


def fit_pca(x: torch.Tensor) -> PCA:
    """PCA of the rows of ``x`` (N, D), computed in float64 for accurate small
    eigenvalues."""
    _check_data(x)  # a finite floating-point (N, D) tensor, N >= 2
    x64 = x.double()
    mean = x64.mean(0)
    centred = x64 - mean
    covariance = centred.T @ centred / len(x)  # (D, D)
    variances, components = torch.linalg.eigh(covariance)  # ascending order
    variances = variances.flip(0).clamp(min=0)  # tiny negative round-off -> 0
    components = components.flip(1)
    return PCA(mean.to(x.dtype), components.to(x.dtype),
               variances.to(x.dtype))


def principal_angles(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Angles in degrees between the column spaces of ``a`` (D, k) and ``b``
    (D, m), ascending. Zero angles mean the spaces coincide; the columns need
    not be orthonormal."""
    _check_matrices(a, b)  # (D, k) and (D, m)
    qa, _ = torch.linalg.qr(a.double())  # orthonormal bases of the two spaces
    qb, _ = torch.linalg.qr(b.double())
    cosines = torch.linalg.svdvals(qa.T @ qb).clamp(-1, 1)  # descending
    return torch.rad2deg(torch.arccos(cosines)).to(a.dtype)


def _check_data(x) -> None:
    float_tensor("x", x)  # floating point, no NaN or inf
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"x: expected a (N, D) tensor with N >= 2, got shape {tuple(x.shape)}")


def _check_matrices(a, b) -> None:
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(f"a, b: expected (D, k) and (D, m) matrices, got {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
