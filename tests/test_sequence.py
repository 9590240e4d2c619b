import pytest
import torch
from torch import nn

from course_utils.sequence import LSTMAutoencoder, bernoulli_loss, images_to_rows, per_sequence_error


def test_images_to_rows_makes_row_t_step_t():
    x = torch.arange(2 * 16, dtype=torch.float32).reshape(2, 16)  # two 4x4 images
    seq = images_to_rows(x)
    assert seq.shape == (2, 4, 4)
    assert torch.equal(seq[1, 2], x[1, 8:12])  # step 2 of image 1 = its row 2
    assert torch.equal(seq.reshape(2, 16), x)  # nothing lost
    assert images_to_rows(seq) is seq  # (N, H, W) is already a sequence


@pytest.mark.parametrize("bad", [torch.zeros(3, 10), torch.zeros(5), torch.zeros(1, 2, 3, 4),
                                 [1.0]])
def test_images_to_rows_rejects_what_is_not_square_images(bad):
    with pytest.raises(ValueError, match="x"):
        images_to_rows(bad)


def test_lstm_autoencoder_shapes_and_any_length_encoding():
    torch.manual_seed(0)
    model = LSTMAutoencoder(input_size=3, hidden_size=8, code_dim=4, steps=6)
    x = torch.rand(5, 6, 3)
    assert model.encode(x).shape == (5, 4)
    assert model(x).shape == (5, 6, 3)
    assert torch.equal(model(x), model.decode(model.encode(x)))
    assert model.encode(torch.rand(2, 11, 3)).shape == (2, 4)  # longer sequences too


def test_the_code_matches_an_lstm_cell_unrolled_by_hand():
    torch.manual_seed(1)
    model = LSTMAutoencoder(input_size=3, hidden_size=5, code_dim=2, steps=4)
    cell = nn.LSTMCell(3, 5)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):  # the encoder's weights
        getattr(cell, name).data = getattr(model.encoder, f"{name}_l0").data
    x = torch.rand(7, 4, 3)
    h, c = torch.zeros(7, 5), torch.zeros(7, 5)
    for t in range(4):
        h, c = cell(x[:, t], (h, c))
    expected = model.to_code(torch.cat([h, c], dim=1))
    assert torch.allclose(model.encode(x), expected, atol=1e-6)


def test_order_matters_and_the_decoder_knows_the_step():
    torch.manual_seed(2)
    model = LSTMAutoencoder(input_size=3, hidden_size=8, code_dim=4, steps=5)
    x = torch.rand(4, 5, 3)
    assert not torch.allclose(model.encode(x), model.encode(x.flip(1)))  # not a bag of steps
    out = model.decode(torch.zeros(1, 4))  # the same code, yet the steps differ
    assert not torch.allclose(out[0, 0], out[0, 1])


def test_lstm_autoencoder_learns_to_reconstruct_a_few_sequences():
    torch.manual_seed(3)
    model = LSTMAutoencoder(input_size=4, hidden_size=24, code_dim=8, steps=5)
    x = (torch.rand(6, 5, 4) > 0.5).float()
    before = per_sequence_error(model, x, "cpu").mean().item()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-2)
    for _ in range(150):
        loss = nn.functional.binary_cross_entropy_with_logits(model(x), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    after = per_sequence_error(model, x, "cpu").mean().item()
    assert after < 0.1 * before, (before, after)


@pytest.mark.parametrize("kwargs, name", [
    (dict(input_size=0, hidden_size=4, code_dim=2, steps=3), "input_size"),
    (dict(input_size=3, hidden_size=2.5, code_dim=2, steps=3), "hidden_size"),
    (dict(input_size=3, hidden_size=4, code_dim=-1, steps=3), "code_dim"),
    (dict(input_size=3, hidden_size=4, code_dim=2, steps=0), "steps"),
])
def test_lstm_autoencoder_rejects_bad_sizes_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        LSTMAutoencoder(**kwargs)


def test_encode_rejects_wrong_shapes():
    model = LSTMAutoencoder(input_size=3, hidden_size=4, code_dim=2, steps=3)
    with pytest.raises(ValueError, match="x: expected 3 numbers per step"):
        model.encode(torch.rand(2, 3, 5))
    with pytest.raises(ValueError, match=r"x: expected sequences of shape \(N, T, D\)"):
        model.encode(torch.rand(2, 9))
    with pytest.raises(ValueError, match=r"code: expected shape \(N, 2\)"):
        model.decode(torch.rand(2, 3))


def test_per_sequence_error_is_the_squared_error_of_the_sigmoid_and_keeps_the_mode():
    torch.manual_seed(4)
    model = nn.Linear(6, 6).train()
    x = torch.rand(9, 2, 6)
    with torch.no_grad():
        expected = ((torch.sigmoid(model(x)) - x) ** 2).sum(dim=(1, 2))
    got = per_sequence_error(model, x, "cpu", batch_size=4)  # several batches
    assert got.shape == (9,) and torch.allclose(got, expected, atol=1e-6)
    assert model.training  # restored after evaluation
    flat = per_sequence_error(model, x[:, 0], "cpu")  # (N, D) works too: feed-forward models
    assert flat.shape == (9,)
    with pytest.raises(ValueError, match="x"):
        per_sequence_error(model, torch.rand(5), "cpu")
    with pytest.raises(ValueError, match="x: expected a non-empty batch"):
        per_sequence_error(model, torch.rand(0, 6), "cpu")
    with pytest.raises(ValueError, match="batch_size"):
        per_sequence_error(model, x, "cpu", batch_size=0)


def test_bernoulli_loss_is_the_negative_log_likelihood_summed_per_item():
    torch.manual_seed(5)
    model = nn.Linear(4, 4)
    x = torch.rand(6, 3, 4)  # sequences; intensities in [0, 1]
    with torch.no_grad():
        p = torch.sigmoid(model(x))
        expected = -(x * p.log() + (1 - x) * (1 - p).log()).sum(dim=(1, 2)).mean()
        assert torch.allclose(bernoulli_loss(model, (x,)), expected, atol=1e-5)
        flat = x[:, 0]  # (B, D) items work the same way
        q = torch.sigmoid(model(flat))
        expected_flat = -(flat * q.log() + (1 - flat) * (1 - q).log()).sum(dim=1).mean()
        assert torch.allclose(bernoulli_loss(model, (flat,)), expected_flat, atol=1e-5)
