"""course_utils.pixelcnn: each pixel's logits depend only on the pixels before it in raster
order (autograd), the plain model has a blind spot and the gated one none, the likelihood sums
to one over every image, and sampling draws from that likelihood."""

from __future__ import annotations

import itertools

import pytest
import torch

from course_utils.pixelcnn import (GatedPixelCNN, MaskedConv2d, PixelCNN, pixel_nll, raster_mask,
                                   sample)


def seen_by(model, i, j, size=12, levels=256):
    """Which input pixels the logits of pixel (i, j) depend on: (size, size) bools."""
    x = torch.randint(0, levels, (1, 1, size, size)).float().requires_grad_()
    model(x)[0, :, i, j].sum().backward()
    return x.grad[0, 0] != 0


def before(i, j, size=12):
    rows, cols = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    return (rows < i) | ((rows == i) & (cols < j))


@pytest.mark.parametrize("make", [lambda: PixelCNN(blocks=3), lambda: GatedPixelCNN()])
@pytest.mark.parametrize("pixel", [(0, 0), (0, 5), (6, 0), (7, 6), (11, 11)])
def test_logits_depend_only_on_pixels_before_in_raster_order(make, pixel):
    torch.manual_seed(0)
    seen = seen_by(make(), *pixel)
    assert not seen[~before(*pixel)].any(), "a pixel at or after the output's own was seen"
    i, j = pixel
    if j > 0:
        assert seen[i, j - 1]
    if i > 0:
        assert seen[i - 1, j]


@pytest.mark.parametrize("make", [PixelCNN, GatedPixelCNN])
def test_one_hot_inputs_are_categories_and_stay_causal(make):
    """With one_hot, changing a pixel at or after (i, j) leaves the logits of
    (i, j) alone, and changing the pixel just before changes them."""
    torch.manual_seed(4)
    model = make(levels=5, channels=8, one_hot=True)
    assert model(torch.zeros(2, 1, 7, 7)).shape == (2, 5, 7, 7)
    x = torch.randint(0, 5, (1, 1, 7, 7)).float()
    i, j = 3, 4
    later = x.clone()
    later[0, 0][~before(i, j, 7)] = (later[0, 0][~before(i, j, 7)] + 1) % 5
    assert torch.equal(model(x)[0, :, i, j], model(later)[0, :, i, j])
    earlier = x.clone()
    earlier[0, 0, i, j - 1] = (earlier[0, 0, i, j - 1] + 1) % 5
    assert not torch.equal(model(x)[0, :, i, j], model(earlier)[0, :, i, j])
    first = model.vertical_in if make is GatedPixelCNN else model.net[0]
    assert first.in_channels == 5          # one input channel per level


def test_plain_pixelcnn_has_a_blind_spot_and_the_gated_one_none():
    torch.manual_seed(0)
    i, j = 8, 4
    rows, cols = torch.meshgrid(torch.arange(12), torch.arange(12), indexing="ij")
    near = before(i, j) & (rows >= i - 4) & ((cols - j).abs() <= 7)  # just before (i, j)
    plain = seen_by(PixelCNN(blocks=4), i, j)
    gated = seen_by(GatedPixelCNN(), i, j)
    assert (near & ~plain).sum() >= 5, "expected unseen pixels above and to the right"
    assert not plain[i - 1, j + 5]  # up one row, five columns right: in the blind spot
    assert gated[near].all(), (near & ~gated).nonzero().tolist()


def test_masks_of_the_two_types_and_errors():
    assert raster_mask(3, "A").tolist() == [[1, 1, 1], [1, 0, 0], [0, 0, 0]]
    assert raster_mask(3, "B").tolist() == [[1, 1, 1], [1, 1, 0], [0, 0, 0]]
    assert raster_mask(5, "A")[2].tolist() == [1, 1, 0, 0, 0]
    with pytest.raises(ValueError, match="mask_type='C'"):
        raster_mask(3, "C")
    with pytest.raises(ValueError, match="kernel_size=4: expected an odd number"):
        raster_mask(4, "A")
    conv = MaskedConv2d(2, 3, raster_mask(5, "B"), dilation=2)
    assert conv(torch.rand(1, 2, 9, 7)).shape == (1, 3, 9, 7)


@pytest.mark.parametrize("make", [PixelCNN, GatedPixelCNN])
@pytest.mark.parametrize("one_hot", [False, True])
def test_likelihood_sums_to_one_over_every_image(make, one_hot):
    torch.manual_seed(1)
    levels, size = 3, 2
    model = make(levels=levels, channels=8, one_hot=one_hot)
    for p in model.parameters():  # large weights: far from uniform
        torch.nn.init.normal_(p, std=0.7)
    images = torch.tensor(list(itertools.product(range(levels), repeat=size * size)))
    x = images.float().view(-1, 1, size, size)  # all 81 images of 2x2 pixels with 3 levels
    log_p = -pixel_nll(model(x), x)
    assert torch.logsumexp(log_p, 0).exp().item() == pytest.approx(1.0, abs=1e-4)
    assert log_p.exp().max() > 5 / len(x)


def test_pixel_nll_is_the_sum_of_each_pixels_minus_log_softmax():
    torch.manual_seed(2)
    logits = torch.randn(3, 4, 5, 5)
    x = torch.randint(0, 4, (3, 1, 5, 5)).float()
    by_hand = -torch.log_softmax(logits, 1).gather(1, x.long()).sum(dim=(1, 2, 3))
    assert torch.allclose(pixel_nll(logits, x), by_hand, atol=1e-5)


def test_samples_follow_the_model_likelihood():
    torch.manual_seed(3)
    model = PixelCNN(levels=2, channels=8, blocks=1)
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.7)
    n = 20_000
    drawn = sample(model, n, size=2, device="cpu", generator=torch.Generator().manual_seed(0))
    assert drawn.shape == (n, 1, 2, 2) and set(drawn.unique().tolist()) <= {0.0, 1.0}
    codes = (drawn.view(n, 4) * torch.tensor([8.0, 4.0, 2.0, 1.0])).sum(1).long()
    frequency = torch.bincount(codes, minlength=16).float() / n
    images = torch.tensor(list(itertools.product(range(2), repeat=4))).float().view(16, 1, 2, 2)
    with torch.no_grad():
        p = torch.exp(-pixel_nll(model(images), images))
    error = (p * (1 - p) / n).sqrt()
    assert ((frequency - p).abs() <= 4 * error + 1e-3).all(), (frequency, p)
    again = sample(model, n, size=2, device="cpu", generator=torch.Generator().manual_seed(0))
    assert torch.equal(again, drawn)  # the generator alone decides the draw
