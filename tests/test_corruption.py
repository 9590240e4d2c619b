import pytest
import torch

from course_utils.corruption import gaussian_noise, masking_noise


def test_gaussian_noise_adds_zero_mean_noise_of_the_given_std():
    x = torch.full((20000, 10), 0.3)
    noisy = gaussian_noise(x, 0.5, generator=torch.Generator().manual_seed(0))
    noise = noisy - x
    assert noisy.shape == x.shape and noisy.dtype == x.dtype
    assert abs(noise.mean().item()) < 0.01
    assert noise.std().item() == pytest.approx(0.5, rel=0.01)
    assert noisy.min() < 0 and noisy.max() > 1  # not clipped


def test_gaussian_noise_takes_one_level_per_image():
    x = torch.zeros(3, 5000)
    std = torch.tensor([[0.0], [0.1], [1.0]])  # (3, 1)
    noise = gaussian_noise(x, std, generator=torch.Generator().manual_seed(1))
    assert torch.equal(noise[0], x[0])
    assert noise[1].std().item() == pytest.approx(0.1, rel=0.05)
    assert noise[2].std().item() == pytest.approx(1.0, rel=0.05)


def test_masking_noise_zeroes_a_fraction_p_and_keeps_the_rest():
    x = torch.rand(200, 784) + 0.5  # no zeros to start with
    masked = masking_noise(x, 0.25, generator=torch.Generator().manual_seed(0))
    zeroed = masked == 0
    assert zeroed.float().mean().item() == pytest.approx(0.25, abs=0.01)
    assert torch.equal(masked[~zeroed], x[~zeroed])
    assert torch.equal(masking_noise(x, 0.0), x)
    assert (masking_noise(x, 1.0) == 0).all()


def test_fresh_noise_each_call_same_noise_with_the_same_seed():
    x = torch.rand(4, 16)
    original = x.clone()
    for corrupt, level in ((gaussian_noise, 0.3), (masking_noise, 0.5)):
        assert not torch.equal(corrupt(x, level), corrupt(x, level))
        first = corrupt(x, level, generator=torch.Generator().manual_seed(7))
        again = corrupt(x, level, generator=torch.Generator().manual_seed(7))
        assert torch.equal(first, again)
    assert torch.equal(x, original)  # the input is never changed in place


@pytest.mark.parametrize("call, match", [
    (lambda x: gaussian_noise(x, -0.1), "std=-0.1"),
    (lambda x: gaussian_noise(x, torch.tensor([-1.0])), "std"),
    (lambda x: masking_noise(x, 1.5), "p=1.5"),
    (lambda x: masking_noise(x, True), "p=True"),
])
def test_bad_levels_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call(torch.zeros(2, 3))


def test_bad_inputs_are_named():
    with pytest.raises(TypeError, match="x: expected a floating-point tensor"):
        gaussian_noise(torch.zeros(2, 3, dtype=torch.long), 0.1)
    with pytest.raises(TypeError, match="generator"):
        masking_noise(torch.zeros(2, 3), 0.1, generator=0)


@pytest.mark.parametrize("call, match", [
    (lambda x: gaussian_noise(x, float("nan")), "std=nan: expected a non-negative finite number"),
    (lambda x: gaussian_noise(x, float("inf")), "std=inf: expected a non-negative finite number"),
    (lambda x: gaussian_noise(x, True), "std=True"),
    (lambda x: gaussian_noise(x, "0.1"), "std='0.1'"),
    (lambda x: gaussian_noise(x, torch.tensor([[0.1], [float("nan")]])), "std: expected non-negative finite"),
    (lambda x: masking_noise(x, float("nan")), "p=nan: expected a probability between 0 and 1"),
    (lambda x: masking_noise(x, -0.1), "p=-0.1: expected a probability between 0 and 1"),
])
def test_nan_infinite_and_other_bad_levels_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call(torch.zeros(2, 3))


def test_zero_noise_levels_are_valid_and_change_nothing():
    x = torch.rand(2, 3)
    assert torch.equal(gaussian_noise(x, 0.0), x)
    assert torch.equal(gaussian_noise(x, 0), x)
    assert torch.equal(gaussian_noise(x, torch.zeros(2, 1)), x)


def test_gaussian_noise_is_the_same_draw_as_before_the_checks():
    x = torch.rand(3, 4)
    expected = x + 0.3 * torch.randn(x.shape, generator=torch.Generator().manual_seed(5))
    assert torch.equal(gaussian_noise(x, 0.3, generator=torch.Generator().manual_seed(5)), expected)
