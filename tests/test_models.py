import pytest
import torch
from torch import nn

from course_utils.models import Autoencoder, mlp


def test_mlp_layer_widths_and_activations():
    net = mlp([784, 100, 30])
    linears = [m for m in net if isinstance(m, nn.Linear)]
    assert [(l.in_features, l.out_features) for l in linears] == [(784, 100), (100, 30)]
    assert sum(isinstance(m, nn.ReLU) for m in net) == 1  # between layers, not after the last
    assert isinstance(mlp([4, 2], final_activation=nn.Sigmoid())[-1], nn.Sigmoid)


def test_autoencoder_composes_its_halves():
    torch.manual_seed(0)
    model = Autoencoder(mlp([8, 3]), mlp([3, 8]))
    x = torch.randn(5, 8)
    assert torch.equal(model(x), model.decode(model.encode(x)))
    assert model.encode(x).shape == (5, 3)


@pytest.mark.parametrize("sizes", [[784], [784, 0], [784, 2.5], []])
def test_mlp_rejects_bad_sizes(sizes):
    with pytest.raises(ValueError, match="sizes="):
        mlp(sizes)
