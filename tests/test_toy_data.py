"""Toy data: points on curves (shapes, reproducibility, distances), mixtures of Gaussians on a
ring or a grid and their mode counts (the papers' captured count and the course's covered count),
and bad input."""

import math

import pytest
import torch

from course_utils.toy_data import (CURVES, count_modes, distance_to_curve, grid, points_on_curve,
                                   polyline, ring)


@pytest.mark.parametrize("curve", sorted(CURVES))
def test_clean_points_lie_on_the_curve_and_noise_moves_them_off(curve):
    clean = points_on_curve(500, curve, generator=torch.Generator().manual_seed(0))
    assert clean.shape == (500, 2) and clean.dtype == torch.float32
    assert distance_to_curve(clean, curve).max() < 2e-3
    noisy = points_on_curve(2000, curve, noise=0.05, generator=torch.Generator().manual_seed(0))
    # the mean distance of 2-D Gaussian noise to a line is sqrt(2/pi) * std ~ 0.04
    assert 0.025 < distance_to_curve(noisy, curve).mean() < 0.05


def test_same_generator_seed_gives_the_same_points():
    a = points_on_curve(10, noise=0.1, generator=torch.Generator().manual_seed(3))
    b = points_on_curve(10, noise=0.1, generator=torch.Generator().manual_seed(3))
    c = points_on_curve(10, noise=0.1, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_spiral_geometry_and_distances_of_known_points():
    line = polyline("spiral", 7)
    assert line.shape == (7, 2)
    assert torch.allclose(line[0], torch.tensor([0.25, 0.0]))  # t = 0: radius 0.25, angle 0
    end = torch.tensor([math.cos(3 * math.pi), math.sin(3 * math.pi)])  # t = 1: radius 1
    assert torch.allclose(line[-1], end, atol=1e-6)
    # the origin is 0.25 from the spiral's start, the nearest point of the curve
    assert torch.allclose(distance_to_curve(torch.zeros(1, 2)), torch.tensor([0.25]), atol=1e-3)
    far = torch.tensor([[3.0, 0.0]])  # nearest: the arm at angle 2 pi, radius 0.75
    assert torch.allclose(distance_to_curve(far), torch.tensor([2.25]), atol=1e-2)


def test_sine_curve_spans_minus_one_to_one():
    line = polyline("sine", 101)
    assert torch.allclose(line[[0, -1], 0], torch.tensor([-1.0, 1.0]))
    assert line[:, 1].abs().max() <= 0.5 + 1e-6


@pytest.mark.parametrize("call, argument", [
    (lambda: points_on_curve(0), "n"),
    (lambda: points_on_curve(5, noise=-1.0), "noise"),
    (lambda: points_on_curve(5, curve="circle"), "curve"),
    (lambda: polyline("spiral", 1), "n"),
    (lambda: distance_to_curve(torch.zeros(4, 3)), "x"),
    (lambda: distance_to_curve([[0.0, 0.0]]), "x"),
    (lambda: ring(0), "modes"),
    (lambda: ring(-3), "modes"),
    (lambda: ring(2.0), "modes"),
    (lambda: grid(-2), "side"),
    (lambda: grid(0), "side"),
    (lambda: count_modes(torch.zeros(5, 3), ring()), "samples"),
    (lambda: count_modes(torch.zeros(5, 2), ring(), min_count=0), "min_count"),
])
def test_bad_input_raises_naming_the_argument(call, argument):
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        call()


def test_ring_and_grid_geometry():
    mixture = ring(8, radius=2.0, std=0.05)
    assert mixture.modes == 8 and mixture.std == 0.05
    assert torch.allclose(mixture.center_tensor().norm(dim=1), torch.tensor(2.0))
    assert torch.allclose(mixture.center_tensor()[2], torch.tensor([0.0, 2.0]), atol=1e-6)
    square = grid(5, spacing=1.0).center_tensor()
    assert square.shape == (25, 2) and torch.allclose(square.mean(0), torch.zeros(2), atol=1e-6)
    assert square.min() == -2.0 and square.max() == 2.0
    assert ring(1).modes == 1 and grid(1).modes == 1
    a = mixture.sample(10, torch.Generator().manual_seed(3))
    b = mixture.sample(10, torch.Generator().manual_seed(3))
    assert a.shape == (10, 2) and torch.equal(a, b)


def test_mode_counts_on_real_collapsed_and_blurred_samples():
    mixture = ring(8, radius=2.0, std=0.05)
    full = count_modes(mixture.sample(2000, torch.Generator().manual_seed(0)), mixture)
    assert set(full) == {"modes_captured", "modes_covered", "high_quality", "visited",
                         "per_mode"}
    assert full["modes_captured"] == full["modes_covered"] == full["visited"] == 8
    assert full["high_quality"] > 0.98
    assert sum(full["per_mode"]) == round(2000 * full["high_quality"])
    collapsed = mixture.center_tensor()[:3].repeat(100, 1)  # every sample on 3 centers
    counts = count_modes(collapsed, mixture)
    assert counts["modes_captured"] == counts["modes_covered"] == counts["visited"] == 3
    assert counts["high_quality"] == 1.0 and counts["per_mode"] == [100] * 3 + [0] * 5
    noise = torch.randn(800, 2, generator=torch.Generator().manual_seed(0))
    blurred = mixture.center_tensor()[:1] + 0.4 * noise  # one wide blob
    assert count_modes(blurred, mixture)["visited"] <= 3
    assert count_modes(blurred, mixture)["modes_covered"] <= 1
    nowhere = count_modes(torch.zeros(50, 2), mixture)
    assert nowhere["high_quality"] == 0.0
    assert nowhere["modes_captured"] == nowhere["modes_covered"] == 0


def test_papers_count_captures_a_mode_with_one_good_sample_ours_needs_min_count():
    mixture = ring(8, radius=2.0, std=0.05)
    centers = mixture.center_tensor()
    # 2,493 samples on mode 0, one exactly on each other mode: a collapsed generator whose few
    # strays still "capture" every mode under the papers' definition
    samples = torch.cat([centers[:1].repeat(2493, 1), centers[1:]])
    counts = count_modes(samples, mixture)
    assert counts["modes_captured"] == 8 and counts["modes_covered"] == 1 and counts["visited"] == 1
    # a stray just outside 3 std of its nearest center is not high quality and captures nothing
    outside = centers[1] * (1 + 3.01 * mixture.std / 2.0)  # 3.01 std further out along the ray
    inside = centers[2] * (1 + 2.99 * mixture.std / 2.0)
    strays = torch.cat([centers[:1].repeat(100, 1), outside[None], inside[None]])
    counts = count_modes(strays, mixture)
    assert counts["per_mode"] == [100, 0, 1, 0, 0, 0, 0, 0] and counts["modes_captured"] == 2
    # min_count moves only our count; min_count=1 is the papers' definition
    assert count_modes(samples, mixture, min_count=1)["modes_covered"] == 8
    assert count_modes(samples, mixture, min_count=2494)["modes_covered"] == 0


def _papers_mode_coverage(points, means, std, threshold=3.0):
    """PacGAN's MetricLogger (fjxmlzn/PacGAN, synthetic_data_experiments/PacGAN/pacgan/
    extensions.py), written again point by point: assign a point to the mode of smallest
    standardised distance; count it when that distance is below 3; a mode is covered when
    at least one point is counted for it."""
    detail = [0] * len(means)
    for x in points.tolist():
        dists = [math.sqrt(((x[0] - m[0]) ** 2 + (x[1] - m[1]) ** 2) / std ** 2) for m in means]
        j = min(range(len(means)), key=dists.__getitem__)
        if dists[j] < threshold:
            detail[j] += 1
    return sum(d > 0 for d in detail), detail


@pytest.mark.parametrize("mixture, n", [(ring(8, std=0.02), 40), (grid(5, std=0.05), 150)],
                         ids=["ring", "grid"])
def test_captured_count_matches_the_papers_reference_loop(mixture, n):
    g = torch.Generator().manual_seed(11)
    # a blurred cloud, 4 std around random centers: some points are high quality, most are not
    points = mixture.center_tensor()[torch.randint(mixture.modes, (n,), generator=g)]
    points = points + 4 * mixture.std * torch.randn(n, 2, generator=g)
    captured, detail = _papers_mode_coverage(points, mixture.centers, mixture.std)
    counts = count_modes(points, mixture)
    assert counts["per_mode"] == detail and counts["modes_captured"] == captured
    assert 0 < captured < mixture.modes  # some modes missed: the comparison is not trivial
    assert counts["modes_covered"] == 0  # and no mode has 20 good samples
