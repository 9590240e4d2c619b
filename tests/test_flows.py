"""course_utils.flows: every layer inverts, and its log-determinant matches the one
torch.autograd.functional.jacobian gives on small inputs; the RealNVP's likelihood bound is
finite and its samples are images."""

from __future__ import annotations

import pytest
import torch
from torch.autograd.functional import jacobian

from course_utils.flows import (Coupling, FlowSequence, LogitTransform, MixtureCDF, RealNVP,
                                channel_mask,
                                checkerboard, coupling_net, flow_log_prob, flow_nll,
                                mlp_coupling_net, squeeze, unsqueeze)


def randomize(module, std=0.3):
    """Nonzero weights everywhere (the last layer of each coupling net starts at zero)."""
    torch.manual_seed(0)
    for p in module.parameters():
        torch.nn.init.normal_(p, std=std)
    return module


def jacobian_logdet(layer, x):
    """log |det| of the Jacobian of layer(x)[0] for one input x (C, H, W), by autograd."""
    def f(flat):
        return layer(flat.view(1, *x.shape))[0].flatten()
    J = jacobian(f, x.flatten())
    return torch.linalg.slogdet(J)[1]


@pytest.mark.parametrize("mask", [checkerboard(4, 4, 0), checkerboard(4, 4, 1),
                                  channel_mask(2, 0) * torch.ones(1, 2, 4, 4)])
def test_coupling_log_det_matches_autograd_and_it_inverts(mask):
    channels = mask.shape[1]
    layer = randomize(Coupling(coupling_net(channels, 8), mask)).double()
    x = torch.randn(channels, 4, 4, dtype=torch.double)
    y, logdet = layer(x[None])
    assert logdet.item() == pytest.approx(jacobian_logdet(layer, x).item(), abs=1e-8)
    assert logdet.abs().item() > 0.1  # a coupling that is not volume-preserving
    assert torch.allclose(layer.inverse(y)[0], x, atol=1e-10)
    kept = mask[0].bool().expand_as(x)
    assert torch.equal(y[0][kept], x[kept])  # the masked pixels pass unchanged


def test_a_new_coupling_is_the_identity():
    layer = Coupling(coupling_net(1, 8), checkerboard(4, 4, 0))
    x = torch.randn(3, 1, 4, 4)
    y, logdet = layer(x)
    assert torch.equal(y, x) and torch.equal(logdet, torch.zeros(3))


def test_logit_transform_log_det_matches_autograd_and_it_inverts():
    layer = LogitTransform(0.05).double()
    y = torch.rand(1, 3, 3, dtype=torch.double)
    z, logdet = layer(y[None])
    assert logdet.item() == pytest.approx(jacobian_logdet(layer, y).item(), abs=1e-8)
    assert torch.allclose(layer.inverse(z)[0], y, atol=1e-12)
    with pytest.raises(ValueError, match="alpha"):
        LogitTransform(1.5)


def test_squeeze_moves_2x2_blocks_into_channels_and_back():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    s = squeeze(x)
    assert s.shape == (1, 4, 2, 2)
    assert s[0, :, 0, 0].tolist() == [0.0, 1.0, 4.0, 5.0]  # the top-left 2x2 block
    assert torch.equal(unsqueeze(s), x)


def test_realnvp_log_det_matches_autograd_on_a_whole_digit_and_it_inverts():
    flow = randomize(RealNVP(hidden=4, couplings=2), std=0.1).double()
    y = torch.rand(1, 28, 28, dtype=torch.double) * 0.98 + 0.01
    z, logdet = flow(y[None])
    assert z.shape == (1, 784)
    assert logdet.item() == pytest.approx(jacobian_logdet(flow, y).item(), rel=1e-6)
    assert torch.allclose(flow.inverse(z)[0], y, atol=1e-8)


def test_flow_nll_adds_the_dequantization_term():
    flow = RealNVP(hidden=4, couplings=2)
    y = torch.rand(2, 1, 28, 28)
    z, logdet = flow(y)
    expected = 0.5 * (z ** 2).sum(1) + 392 * torch.log(torch.tensor(2 * torch.pi)) - logdet
    expected = expected + 784 * torch.log(torch.tensor(256.0))
    assert torch.allclose(flow_nll(flow, y), expected, rtol=1e-5)


def two_d_flow():
    masks = [torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])]
    return randomize(FlowSequence(*[Coupling(mlp_coupling_net(2, 16), masks[k % 2])
                                    for k in range(4)]), std=0.4)


def test_a_flow_sequence_adds_log_dets_and_inverts():
    flow = two_d_flow().double()
    x = torch.randn(5, 2, dtype=torch.double)
    z, logdet = flow(x)
    for i in range(5):
        J = jacobian(lambda v: flow(v[None])[0][0], x[i])
        assert logdet[i].item() == pytest.approx(torch.linalg.slogdet(J)[1].item(), rel=1e-8)
    assert torch.allclose(flow.inverse(z), x, atol=1e-10)


def test_a_2d_flow_density_integrates_to_one():
    """The change of variables gives a normalised density: its integral over a fine grid
    wide enough to hold the mass is 1."""
    flow = two_d_flow()
    grid = torch.linspace(-8, 8, 801)
    xs, ys = torch.meshgrid(grid, grid, indexing="xy")
    with torch.no_grad():
        p = flow_log_prob(flow, torch.stack([xs.flatten(), ys.flatten()], 1)).exp()
    assert (p.sum() * (grid[1] - grid[0]) ** 2).item() == pytest.approx(1.0, abs=2e-3)


def test_mixture_cdf_log_det_matches_autograd_and_it_inverts():
    layer = MixtureCDF(shape=(1, 3, 3), components=4).double()
    torch.manual_seed(0)
    with torch.no_grad():
        layer.logits.normal_()
        layer.means.uniform_(0, 1)
        layer.log_scales.uniform_(-4, -1)
    y = torch.rand(1, 3, 3, dtype=torch.double)
    z, logdet = layer(y[None])
    assert logdet.item() == pytest.approx(jacobian_logdet(layer, y).item(), rel=1e-8)
    assert torch.allclose(layer.inverse(z)[0], y, atol=1e-9)


def test_mixture_cdf_starts_at_the_data_frequencies_of_black_white_and_grey():
    levels = torch.tensor([0.0, 0, 255, 7]).view(4, 1, 1, 1)  # half black, a quarter each
    layer = MixtureCDF(shape=(1, 1, 1), components=4).init_from(levels)
    weights = torch.softmax(layer.logits, -1).flatten()
    want = torch.tensor([0.51, 0.26, 0.13, 0.13]) / 1.03
    assert torch.allclose(weights, want, atol=1e-6)
    with pytest.raises(ValueError, match="components"):
        MixtureCDF(components=2)


def test_realnvp_with_a_mixture_cdf_first_layer_inverts_and_its_log_det_is_exact():
    flow = randomize(RealNVP(hidden=4, couplings=2, components=3), std=0.1).double()
    y = torch.rand(1, 28, 28, dtype=torch.double) * 0.98 + 0.01
    z, logdet = flow(y[None])
    assert logdet.item() == pytest.approx(jacobian_logdet(flow, y).item(), rel=1e-6)
    assert torch.allclose(flow.inverse(z)[0], y, atol=1e-7)
