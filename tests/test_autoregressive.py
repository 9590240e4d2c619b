"""course_utils.autoregressive (MADE): every output depends only on the inputs before it, checked
with autograd; the probabilities of all inputs sum to one; clear errors for bad arguments."""

from __future__ import annotations

import pytest
import torch
from torch.autograd.functional import jacobian

from course_utils.autoregressive import MADE, made_degrees


@pytest.mark.parametrize("hidden", [(), (20,), (16, 16)])
@pytest.mark.parametrize("random_order", [False, True])
def test_made_output_d_depends_only_on_inputs_of_smaller_order(hidden, random_order):
    torch.manual_seed(0)
    dim = 7
    order = torch.randperm(dim) + 1 if random_order else None
    made = MADE(dim, hidden, order=order)
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
    degrees = made_degrees(4, [9])
    assert degrees[0].tolist() == [1, 2, 3, 4]
    assert sorted(set(degrees[1].tolist())) == [1, 2, 3]
    # a layer narrower than dim - 1 spreads its degrees over the whole range: no run of
    # outputs is left reading only the units of the first few pixels
    narrow = made_degrees(784, [500, 300])
    for layer in narrow[1:]:
        assert layer.min() == 1 and layer.max() >= 780
        assert layer.diff().max() <= 3, layer.diff().max()
    with pytest.raises(ValueError, match="permutation of 1..4"):
        made_degrees(4, [8], order=torch.tensor([1, 1, 2, 3]))
    with pytest.raises(ValueError, match="dim=1: expected at least 2"):
        MADE(1)


def test_made_probabilities_of_all_binary_vectors_sum_to_one():
    torch.manual_seed(2)
    dim = 10
    made = MADE(dim, hidden=(30,), order=torch.randperm(dim) + 1)
    for p in made.parameters():  # large weights: far from the uniform distribution
        torch.nn.init.normal_(p, std=1.0)
    codes = torch.arange(2 ** dim)
    x = ((codes[:, None] >> torch.arange(dim)) & 1).float()  # all 1,024 binary vectors
    log_p = -torch.nn.functional.binary_cross_entropy_with_logits(made(x), x, reduction="none").sum(1)
    assert torch.logsumexp(log_p, 0).exp().item() == pytest.approx(1.0, abs=1e-4)
    assert log_p.exp().max() > 20 / 2 ** dim  # not uniform
