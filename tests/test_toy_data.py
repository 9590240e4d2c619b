"""Toy data on curves: shapes, reproducibility, distances, and bad input."""

import math

import pytest
import torch

from course_utils.toy_data import CURVES, distance_to_curve, points_on_curve, polyline


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
])
def test_bad_input_raises_naming_the_argument(call, argument):
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        call()
