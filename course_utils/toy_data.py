"""Small 2-D toy data sets: points on a curve and distances to it (the manifold chapter), and
mixtures of Gaussians on a ring or a grid with their mode counts (the GAN chapter)."""

from __future__ import annotations

import math
from dataclasses import dataclass

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


# ----- mixtures of 2-D Gaussians and their mode counts -------------------------------------------
def _check_points(name: str, x) -> None:
    """A ValueError naming ``name`` unless ``x`` is a (N, 2) tensor of points."""
    if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != 2:
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name}: expected shape (N, 2), got {got}")


@dataclass(frozen=True)
class Mixture2D:
    """Equal-weight 2-D Gaussians of one std around ``centers`` (a tuple of (x, y) pairs)."""
    centers: tuple  # ((x, y), ...), one per mode
    std: float  # of every Gaussian

    @property
    def modes(self) -> int:
        return len(self.centers)

    def center_tensor(self) -> torch.Tensor:
        return torch.tensor(self.centers, dtype=torch.float32)  # (modes, 2)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        which = torch.randint(self.modes, (positive_int("n", n),), generator=generator)
        noise = self.std * torch.randn(n, 2, generator=generator)
        return self.center_tensor()[which] + noise  # (n, 2)


def ring(modes: int = 8, radius: float = 2.0, std: float = 0.05) -> Mixture2D:
    """``modes`` Gaussians evenly spaced on a circle."""
    positive_int("modes", modes)  # before the loop: range(0) would accept 0 silently
    angles = [2 * math.pi * k / modes for k in range(modes)]
    return Mixture2D(tuple((radius * math.cos(a), radius * math.sin(a)) for a in angles), std)


def grid(side: int = 5, spacing: float = 1.0, std: float = 0.05) -> Mixture2D:
    """side x side Gaussians on a square grid centred at the origin."""
    positive_int("side", side)  # before the loop: range(-2) would accept -2 silently
    offsets = [spacing * (k - (side - 1) / 2) for k in range(side)]
    return Mixture2D(tuple((x, y) for x in offsets for y in offsets), std)


def count_modes(samples: torch.Tensor, mixture: Mixture2D,
                min_count: int = 20) -> dict:
    """Mode counts of ``samples`` (N, 2) on ``mixture``. Each sample goes to
    its nearest center, and is high quality within 3 std of that center.

    - ``modes_captured``: the VEEGAN and PacGAN papers' count, modes that are
      the nearest center of at least one high-quality sample.
    - ``modes_covered``: our stricter count, modes that are the nearest center
      of at least ``min_count`` high-quality samples (strays do not count).
    - ``visited``: quality aside, modes that are the nearest center of at
      least a quarter of their fair share, N / (4 modes), of the samples.
    - ``high_quality``: the fraction of samples that are high quality.
    - ``per_mode``: the number of high-quality samples of each mode.
    """
    _check_points("samples", samples)
    positive_int("min_count", min_count)
    centers = mixture.center_tensor()  # (modes, 2)
    dist = torch.cdist(samples.detach().cpu().float(), centers)  # (N, modes)
    nearest, which = dist.min(1)  # (N,), (N,)
    good = nearest < 3 * mixture.std  # (N,) high quality
    per_mode = torch.bincount(which[good], minlength=mixture.modes)
    share = torch.bincount(which, minlength=mixture.modes) / len(samples)
    return {"modes_captured": int((per_mode >= 1).sum()),
            "modes_covered": int((per_mode >= min_count).sum()),
            "high_quality": good.float().mean().item(),
            "visited": int((share >= 1 / (4 * mixture.modes)).sum()),
            "per_mode": per_mode.tolist()}
