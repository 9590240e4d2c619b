import pytest
import torch
from torch import nn

from course_utils.models import (Autoencoder, ConvDecoder, ConvEncoder, Reshape, conv_autoencoder,
                                 conv_block, mlp)


def test_mlp_layer_widths_and_activations():
    net = mlp([784, 100, 30])
    linears = [m for m in net if isinstance(m, nn.Linear)]
    assert [(l.in_features, l.out_features) for l in linears] == [(784, 100), (100, 30)]
    assert sum(isinstance(m, nn.ReLU) for m in net) == 1  # between layers, not after the last
    assert isinstance(mlp([4, 2], final_activation=nn.Sigmoid())[-1], nn.Sigmoid)


def test_mlp_with_batch_norm_normalises_every_hidden_layer_and_not_the_output():
    net = mlp([784, 1000, 500, 30], nn.GELU, batch_norm=True)
    kinds = [type(m) for m in net]
    assert kinds == [nn.Linear, nn.BatchNorm1d, nn.GELU, nn.Linear, nn.BatchNorm1d, nn.GELU,
                     nn.Linear]
    assert [m.num_features for m in net if isinstance(m, nn.BatchNorm1d)] == [1000, 500]
    net.train()
    h = net[:2](torch.randn(64, 784) * 5 + 3)  # the first hidden layer, normalised
    assert h.mean(0).abs().max() < 1e-4 and (h.std(0, unbiased=False) - 1).abs().max() < 1e-2
    with pytest.raises(TypeError, match="batch_norm="):
        mlp([4, 2], batch_norm="yes")


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


# ----- the convolutional encoder and decoder ------------------------------------------------

def test_reshape_keeps_the_batch_dimension():
    assert Reshape(1, 28, 28)(torch.zeros(3, 784)).shape == (3, 1, 28, 28)
    assert "1, 28, 28" in repr(Reshape(1, 28, 28))


def test_conv_block_is_conv_batchnorm_gelu():
    conv, norm, act = conv_block(3, 8, 4, stride=2, padding=1)
    assert isinstance(conv, nn.Conv2d) and conv.stride == (2, 2) and conv.out_channels == 8
    assert isinstance(norm, nn.BatchNorm2d) and norm.num_features == 8
    assert isinstance(act, nn.GELU)
    assert isinstance(conv_block(8, 3, 4, 2, 1, transposed=True)[0], nn.ConvTranspose2d)


@pytest.mark.parametrize("code_dim, channels", [(30, 32), (2, 8), (1, 1)])
def test_conv_encoder_and_decoder_shapes(code_dim, channels):
    torch.manual_seed(0)
    encoder, decoder = ConvEncoder(code_dim, channels), ConvDecoder(code_dim, channels)
    x = torch.rand(5, 784)
    h = encoder(x)
    assert h.shape == (5, code_dim)
    assert decoder(h).shape == (5, 784)
    assert encoder.code_dim == decoder.code_dim == code_dim


def test_conv_encoder_takes_flat_or_image_shaped_batches():
    torch.manual_seed(0)
    encoder = ConvEncoder(4, channels=4).eval()
    x = torch.rand(3, 784)
    assert torch.allclose(encoder(x), encoder(x.reshape(3, 1, 28, 28)))


def test_conv_autoencoder_round_trip_and_halves():
    torch.manual_seed(0)
    model = conv_autoencoder(6, channels=4).eval()
    x = torch.rand(4, 784)
    assert isinstance(model, Autoencoder)
    assert torch.equal(model(x), model.decode(model.encode(x)))
    assert model(x).shape == x.shape  # logits, one per pixel
    assert model.decode(torch.zeros(2, 6)).shape == (2, 784)


def test_conv_autoencoder_learns_to_reconstruct_a_few_images():
    torch.manual_seed(0)
    model = conv_autoencoder(8, channels=4)
    x = torch.rand(8, 784).round()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

    def loss():
        return nn.functional.binary_cross_entropy_with_logits(model(x), x)

    first = loss().item()
    for _ in range(30):
        optimizer.zero_grad()
        value = loss()
        value.backward()
        optimizer.step()
    assert loss().item() < 0.85 * first  # random binary images: slow to learn, but learning
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("factory", [ConvEncoder, ConvDecoder, conv_autoencoder])
@pytest.mark.parametrize("name, kwargs", [
    ("code_dim", {"code_dim": 0}), ("code_dim", {"code_dim": 2.5}), ("code_dim", {"code_dim": True}),
    ("channels", {"code_dim": 2, "channels": -1}), ("channels", {"code_dim": 2, "channels": "32"}),
])
def test_conv_parts_reject_bad_arguments_naming_them(factory, name, kwargs):
    with pytest.raises(ValueError, match=f"{name}="):
        factory(**kwargs)


@pytest.mark.parametrize("shape", [(2, 100), (2, 3, 28, 28), (784,)])
def test_conv_encoder_rejects_images_that_are_not_28x28(shape):
    with pytest.raises(ValueError, match=r"x: expected 28x28 images"):
        ConvEncoder(2, channels=2)(torch.zeros(shape))


@pytest.mark.parametrize("sizes", [[784, True, 3], [784, False], [True, 3], [784, -3]])
def test_mlp_rejects_bools_and_negative_sizes_naming_sizes(sizes):
    with pytest.raises(ValueError, match=r"sizes=\[.*\]: expected at least two positive ints \(not bools\)"):
        mlp(sizes)
