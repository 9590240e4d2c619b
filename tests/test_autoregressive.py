"""course_utils.autoregressive: every output depends only on the inputs before it, checked with
autograd; masks as the papers define them; clear errors for bad arguments."""

from __future__ import annotations

import pytest
import torch
from torch.autograd.functional import jacobian

from course_utils.autoregressive import MADE, MaskedConv2d, made_degrees


@pytest.mark.parametrize("hidden", [(), (20,), (16, 16)])
@pytest.mark.parametrize("random_order", [False, True])
def test_made_output_d_depends_only_on_inputs_of_smaller_order(hidden, random_order):
    torch.manual_seed(0)
    dim = 7
    order = torch.randperm(dim) + 1 if random_order else None
    made = MADE(dim, hidden, order=order, seed=3)
    x = torch.rand(dim)
    J = jacobian(made, x)  # J[d, e]: d output_d / d input_e
    o = made.order
    forbidden = o[None, :] >= o[:, None]  # input e at or after output d in the order
    assert J[forbidden].abs().max() == 0
    allowed = ~forbidden
    assert (J[allowed] != 0).float().mean() > 0.5, "most allowed connections should be used"
    first = int(torch.argmin(o))
    assert J[first].abs().max() == 0  # the first output is a constant: p(x_first)


def test_without_hidden_layers_made_is_the_fully_visible_logistic_model():
    torch.manual_seed(1)
    made = MADE(5, hidden=())
    J = jacobian(made, torch.rand(5))
    weight = made.net[0].weight * made.net[0].mask
    assert torch.allclose(J, weight)  # linear: the Jacobian is the masked weight
    assert torch.equal(made.net[0].mask, torch.tril(torch.ones(5, 5), diagonal=-1))


def test_made_degrees_cover_every_hidden_degree_and_check_their_order():
    degrees = made_degrees(4, [9], seed=0)
    assert degrees[0].tolist() == [1, 2, 3, 4]
    assert sorted(set(degrees[1].tolist())) == [1, 2, 3]
    with pytest.raises(ValueError, match="permutation of 1..4"):
        made_degrees(4, [8], order=torch.tensor([1, 1, 2, 3]))
    with pytest.raises(ValueError, match="dim=1: expected at least 2"):
        MADE(1)


@pytest.mark.parametrize("kernel_size", [3, 5])
def test_pixelcnn_stack_sees_only_pixels_before_in_raster_order(kernel_size):
    torch.manual_seed(0)
    stack = torch.nn.Sequential(MaskedConv2d("A", 1, 8, kernel_size), torch.nn.ReLU(),
                                MaskedConv2d("B", 8, 8, kernel_size), torch.nn.ReLU(),
                                MaskedConv2d("B", 8, 1, kernel_size))
    x = torch.rand(1, 1, 9, 9, requires_grad=True)
    i, j = 6, 4
    stack(x)[0, 0, i, j].backward()
    seen = x.grad[0, 0] != 0
    rows, cols = torch.meshgrid(torch.arange(9), torch.arange(9), indexing="ij")
    before = (rows < i) | ((rows == i) & (cols < j))
    assert not seen[~before].any(), "a pixel at or after the output's own was seen"
    assert seen[i, j - 1] and seen[i - 1, j]
    assert not seen[before].all(), "no blind spot: some pixels above and right are never seen"


def test_masked_conv_masks_and_errors():
    a, b = MaskedConv2d("A", 1, 1, 3).mask[0, 0], MaskedConv2d("B", 1, 1, 3).mask[0, 0]
    assert a.tolist() == [[1, 1, 1], [1, 0, 0], [0, 0, 0]]
    assert b.tolist() == [[1, 1, 1], [1, 1, 0], [0, 0, 0]]
    with pytest.raises(ValueError, match="mask_type='C'"):
        MaskedConv2d("C", 1, 1, 3)
    with pytest.raises(ValueError, match="kernel_size=4: expected an odd number"):
        MaskedConv2d("A", 1, 1, 4)
