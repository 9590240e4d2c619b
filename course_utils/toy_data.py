"""Small 2-D toy data sets for manifold chapters: points on a curve, and distances to it."""

from __future__ import annotations

import math

import torch

from course_utils.checks import positive_int


def _spiral(t: torch.Tensor) -> torch.Tensor:  # (N,) in [0, 1] -> (N, 2)
    angle = 3 * math.pi * t                      # one and a half turns
    radius = 0.25 + 0.75 * t                     # arms 0.5 apart
    return torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)


def _sine(t: torch.Tensor) -> torch.Tensor:  # (N,) in [0, 1] -> (N, 2)
    x = 2 * t - 1
    return torch.stack([x, 0.5 * torch.sin(math.pi * x)], dim=1)


CURVES = {"spiral": _spiral, "sine": _sine}  # name -> map from t in [0, 1] to the plane


def _curve_fn(curve: str):
    if curve not in CURVES:
        raise ValueError(f"curve={curve!r}: expected one of {', '.join(CURVES)}")
    return CURVES[curve]


def polyline(curve: str = "spiral", n: int = 1000) -> torch.Tensor:
    """(n, 2) points at evenly spaced parameters t in [0, 1]: the curve as a polyline."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 2:
        raise ValueError(f"n={n!r}: expected an int >= 2")
    return _curve_fn(curve)(torch.linspace(0, 1, n))


def points_on_curve(n: int, curve: str = "spiral", noise: float = 0.0,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """(n, 2) points at uniform random parameters t, plus Gaussian noise of std ``noise``."""
    positive_int("n", n)
    if not noise >= 0:
        raise ValueError(f"noise={noise!r}: expected a number >= 0")
    points = _curve_fn(curve)(torch.rand(n, generator=generator))
    return points + noise * torch.randn(n, 2, generator=generator)


def distance_to_curve(x: torch.Tensor, curve: str = "spiral", resolution: int = 4000) -> torch.Tensor:
    """(N,) distance of each row of ``x`` (N, 2) to the nearest of ``resolution`` curve points."""
    if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"x: expected a (N, 2) tensor, got {getattr(x, 'shape', type(x))}")
    dense = polyline(curve, resolution).to(x.dtype)  # (R, 2)
    return torch.cdist(x, dense).amin(dim=1)
