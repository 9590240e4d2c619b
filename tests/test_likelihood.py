"""course_utils.likelihood: binarization and quantization of grey levels, uniform
dequantization (which bounds the discrete likelihood), the discretized logistic, and the unit
conversion."""

from __future__ import annotations

import math

import pytest
import torch

from course_utils.likelihood import (binarize, bits_per_dim, dequantize,
                                     discretized_logistic_log_prob, independent_pixels_nll,
                                     quantize)


def test_binarize_draws_each_pixel_with_its_grey_level_once_per_seed():
    x = torch.tensor([0.0, 1.0, 0.25]).repeat(20_000, 1)
    b = binarize(x, seed=3)
    assert set(b.unique().tolist()) == {0.0, 1.0}
    assert b[:, 0].sum() == 0 and b[:, 1].min() == 1
    assert b[:, 2].mean().item() == pytest.approx(0.25, abs=0.01)
    assert torch.equal(b, binarize(x, seed=3)) and not torch.equal(b, binarize(x, seed=4))


def test_quantize_maps_grey_levels_to_integer_levels():
    x = torch.tensor([0.0, 1 / 255, 0.5, 254 / 255, 1.0])
    assert quantize(x).tolist() == [0, 1, 128, 254, 255]
    assert quantize(x, levels=2).tolist() == [0, 0, 0, 1, 1]


@pytest.mark.parametrize("bad", [torch.tensor([1.5]), torch.tensor([-0.1])])
def test_grey_levels_outside_0_1_are_refused(bad):
    with pytest.raises(ValueError, match=r"x: expected grey levels in \[0, 1\]"):
        quantize(bad)
    with pytest.raises(ValueError, match=r"x: expected grey levels in \[0, 1\]"):
        binarize(bad)


def test_dequantized_values_stay_in_their_own_bin():
    k = torch.randint(0, 256, (1000, 10)).float()
    y = dequantize(k, generator=torch.Generator().manual_seed(0))
    assert torch.equal(torch.floor(y * 256), k)  # each value in [k/256, (k+1)/256)
    assert y.min() >= 0 and y.max() < 1


def test_a_density_on_dequantized_values_bounds_the_discrete_likelihood():
    """Jensen: E_u[log p((k + u) / L)] - log L <= log P(k), P(k) = integral of p over bin k,
    for a density that is not flat within bins (a Gaussian on [0, 1])."""
    levels = 4
    density = torch.distributions.Normal(0.3, 0.2)
    k = torch.arange(levels).float()
    prob = density.cdf((k + 1) / levels) - density.cdf(k / levels)  # P(k) before renormalising
    u = torch.rand(200_000, levels, generator=torch.Generator().manual_seed(1))
    bound = density.log_prob((k + u) / levels).mean(0) - math.log(levels)
    assert (bound <= prob.log() + 1e-3).all(), (bound, prob.log())
    assert (prob.log() - bound).max() > 0.01  # and not an equality


def test_bits_per_dim_converts_nats_per_image():
    assert bits_per_dim(784 * math.log(2), 784) == pytest.approx(1.0)
    assert bits_per_dim(torch.tensor([0.0, 2 * math.log(2)]), 2).tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="dims"):
        bits_per_dim(1.0, 0)


@pytest.mark.parametrize("mean,log_scale", [(0.3, -3.0), (0.0, -6.0), (1.0, -1.0), (0.5, -8.0),
                                            (-0.2, -2.0), (1.3, 0.5)])
def test_the_discretized_logistic_sums_to_one_over_the_levels(mean, log_scale):
    levels = torch.arange(256.0)
    log_p = discretized_logistic_log_prob(levels, torch.tensor(mean), torch.tensor(log_scale))
    assert torch.isfinite(log_p).all() and (log_p <= 1e-6).all()
    assert torch.logsumexp(log_p.double(), 0).item() == pytest.approx(0.0, abs=1e-4)


def test_the_discretized_logistic_is_the_logistic_mass_of_each_bin():
    mean, scale = torch.tensor(0.4), 0.05
    logistic = torch.distributions.TransformedDistribution(
        torch.distributions.Uniform(0.0, 1.0),
        [torch.distributions.transforms.SigmoidTransform().inv,
         torch.distributions.transforms.AffineTransform(mean, scale)])
    cdf = lambda v: torch.sigmoid((v - mean) / scale)  # noqa: E731
    x = torch.tensor([0.0, 37.0, 102.0, 255.0])
    want = torch.stack([cdf(torch.tensor(0.5 / 255)),
                        cdf(torch.tensor(37.5 / 255)) - cdf(torch.tensor(36.5 / 255)),
                        cdf(torch.tensor(102.5 / 255)) - cdf(torch.tensor(101.5 / 255)),
                        torch.sigmoid((mean - 254.5 / 255) / scale)]).log()  # 1 - cdf
    got = discretized_logistic_log_prob(x, mean, torch.tensor(math.log(scale)))
    assert torch.allclose(got, want, atol=1e-4)
    # and the middle bins are close to the density times the bin width
    density = logistic.log_prob(torch.tensor(102.0 / 255)).exp()
    assert got[2].exp().item() == pytest.approx(density.item() / 255, rel=1e-3)


def test_independent_pixels_is_one_smoothed_histogram_per_pixel():
    train = torch.tensor([[0, 2], [0, 1], [1, 2]])        # 3 images of 2 pixels, 3 levels
    test = torch.tensor([[0, 2], [2, 0]])
    # pixel 1: counts (2, 1, 0) + 1 -> (3, 2, 1) / 6; pixel 2: (0, 1, 2) + 1 -> (1, 2, 3) / 6
    want = -torch.tensor([math.log(3 / 6) + math.log(3 / 6),
                          math.log(1 / 6) + math.log(1 / 6)])
    got = independent_pixels_nll(train, test, levels=3)
    assert torch.allclose(got, want.float())
    # images of any shape are flattened; the probabilities of each pixel sum to one
    all_images = torch.cartesian_prod(torch.arange(3), torch.arange(3))
    total = torch.logsumexp(-independent_pixels_nll(train[:, None], all_images, levels=3), 0)
    assert total.item() == pytest.approx(0.0, abs=1e-6)
