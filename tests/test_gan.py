"""Tests of course_utils.gan: the losses against their formulas, GANTrainer (both optimizers step,
metrics recorded, checkpoint resume), the DCGAN shapes, packing, and slerp. The ring data and
the mode counts live in course_utils.toy_data (tests/test_toy_data.py)."""

import math

import pytest
import torch
from torch import nn

from course_utils.gan import (GAN, GANTrainer, MinibatchStd, Pack, dcgan, dcgan_init_,
                              discriminator_loss, generator_loss, mlp_discriminator,
                              mlp_generator, slerp)
from course_utils.toy_data import ring


def test_losses_match_their_formulas():
    real, fake = torch.tensor([2.0, -1.0, 0.5]), torch.tensor([-3.0, 0.0, 1.0])
    d = torch.sigmoid
    expected_d = -(d(real).log().mean() + (1 - d(fake)).log().mean())
    assert discriminator_loss(real, fake).item() == pytest.approx(expected_d.item(), rel=1e-6)
    assert generator_loss(fake, "saturating").item() == pytest.approx(
        (1 - d(fake)).log().mean().item(), rel=1e-6)
    assert generator_loss(fake, "non_saturating").item() == pytest.approx(
        -d(fake).log().mean().item(), rel=1e-6)
    with pytest.raises(ValueError, match="kind"):
        generator_loss(fake, "wasserstein")


def test_saturating_gradient_vanishes_when_d_is_confident():
    logit = torch.tensor([-8.0], requires_grad=True)  # D(G(z)) ~ 3e-4: fake clearly spotted
    sat, = torch.autograd.grad(generator_loss(logit, "saturating"), logit)
    non, = torch.autograd.grad(generator_loss(logit, "non_saturating"), logit)
    assert abs(sat.item()) < 1e-3 and abs(non.item()) > 0.99


def ring_gan(seed=0):
    torch.manual_seed(seed)
    gan = GAN(mlp_generator(2, 16), mlp_discriminator(2, 16), latent_dim=2)
    opts = {"discriminator": torch.optim.Adam(gan.discriminator.parameters(), 1e-3),
            "generator": torch.optim.Adam(gan.generator.parameters(), 1e-3)}
    return gan, opts


def test_gan_trainer_steps_both_optimizers_and_records_metrics():
    gan, opts = ring_gan()
    before = {name: [p.clone() for p in getattr(gan, name).parameters()]
              for name in ("generator", "discriminator")}
    trainer = GANTrainer(gan, opts, device="cpu", batch_size=32, progress=False)
    data = ring().sample(64, torch.Generator().manual_seed(0))
    history = trainer.fit(data, until_epoch=2)
    for name, params in before.items():
        after = list(getattr(gan, name).parameters())
        assert all(not torch.equal(a, b) for a, b in zip(params, after)), name
        assert opts[name].state, f"{name} optimizer never stepped"
    assert [h["epoch"] for h in history] == [1, 2]
    for key in ("train_d_loss", "train_g_loss", "train_d_real", "train_d_fake"):
        assert math.isfinite(history[-1][key]), key
    assert 0 <= history[-1]["train_d_real"] <= 1


def test_gan_trainer_rejects_bad_arguments():
    gan, opts = ring_gan()
    with pytest.raises(ValueError, match="optimizers"):
        GANTrainer(gan, {"generator": opts["generator"]}, device="cpu")
    with pytest.raises(TypeError, match="gan"):
        GANTrainer(gan.generator, opts, device="cpu")
    with pytest.raises(ValueError, match="generator_loss"):
        GANTrainer(gan, opts, device="cpu", generator_loss="minimax")


def test_gan_checkpoint_resume_matches_an_uninterrupted_run(tmp_path):
    data = ring().sample(96, torch.Generator().manual_seed(1))
    gan, opts = ring_gan(seed=3)
    straight = GANTrainer(gan, opts, device="cpu", batch_size=32, progress=False, seed=5)
    straight.fit(data, until_epoch=4)

    path = tmp_path / "gan.pt"
    gan_a, opts_a = ring_gan(seed=3)
    GANTrainer(gan_a, opts_a, device="cpu", batch_size=32, progress=False, seed=5,
               checkpoint_path=path).fit(data, until_epoch=2)
    torch.manual_seed(1234)  # a fresh process: other random state, other initial weights
    gan_b, opts_b = ring_gan(seed=9)
    resumed = GANTrainer(gan_b, opts_b, device="cpu", batch_size=32, progress=False, seed=5,
                         checkpoint_path=path)
    resumed.fit(data, until_epoch=4)
    assert resumed.step == 4 * 3 and len(resumed.history) == 4
    for a, b in zip(gan.state_dict().values(), gan_b.state_dict().values()):
        assert torch.allclose(a.float(), b.float(), atol=1e-6)
    assert resumed.history[-1]["train_g_loss"] == pytest.approx(straight.history[-1]["train_g_loss"])


def test_dcgan_shapes_and_sample():
    gan = dcgan(latent_dim=8, channels=4)
    x = gan.generator(torch.randn(5, 8))
    assert x.shape == (5, 784) and x.abs().max() <= 1
    assert gan.discriminator(x).shape == (5,)
    samples = gan.sample(3, torch.Generator().manual_seed(0))
    again = gan.sample(3, torch.Generator().manual_seed(0))
    assert samples.shape == (3, 784) and torch.equal(samples, again) and gan.training


def test_pack_and_minibatch_std():
    x = torch.arange(12.0).reshape(6, 2)
    assert torch.equal(Pack(3)(x), x.reshape(2, 6))
    with pytest.raises(ValueError, match="multiple"):
        Pack(4)(x)
    assert mlp_discriminator(2, 8, pack=3)(x).shape == (2,)
    h = MinibatchStd()(x)
    assert h.shape == (6, 3) and torch.allclose(h[:, 2], x.std(0).mean().expand(6))


def test_slerp_ends_and_norm():
    z0, z1 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0])
    path = slerp(z0, z1, 5)
    assert path.shape == (5, 2)
    assert torch.allclose(path[0], z0, atol=1e-5) and torch.allclose(path[-1], z1, atol=1e-5)
    assert torch.allclose(path[2], torch.tensor([1.0, 2.0]) / math.sqrt(2), atol=1e-5)


def test_dcgan_init_draws_the_papers_weights_and_leaves_embeddings_alone():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Embedding(10, 500), nn.Linear(500, 400), nn.BatchNorm2d(400))
    embedding = net[0].weight.detach().clone()
    assert dcgan_init_(net) is net
    assert abs(net[1].weight.std().item() - 0.02) < 0.002 and not net[1].bias.any()
    assert abs(net[2].weight.mean().item() - 1.0) < 0.01 and net[2].weight.std() < 0.03
    assert torch.equal(net[0].weight, embedding)


def test_gan_trainer_evaluates_both_players_without_updating_them():
    gan, opts = ring_gan()
    trainer = GANTrainer(gan, opts, device="cpu", batch_size=32, progress=False)
    data = ring().sample(64, torch.Generator().manual_seed(0))
    before = {k: v.clone() for k, v in gan.state_dict().items()}
    torch.manual_seed(0)
    result = trainer.evaluate(data)
    assert set(result) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(math.isfinite(v) for v in result.values()) and 0 <= result["d_real"] <= 1
    for key, value in gan.state_dict().items():
        assert torch.equal(before[key], value), key
    assert not any(opt.state for opt in opts.values())
    history = trainer.fit(data, until_epoch=1, valid=data[:32])
    assert {"valid_d_loss", "valid_g_loss", "valid_d_real", "valid_d_fake"} <= set(history[-1])


def test_gan_eval_losses_are_the_game_s_losses_on_the_batch():
    """eval_step measures what train_step optimises: with the same latents, the same D and G losses."""
    gan, opts = ring_gan()
    trainer = GANTrainer(gan, opts, device="cpu", batch_size=32, progress=False)
    real = ring().sample(32, torch.Generator().manual_seed(0))
    torch.manual_seed(7)
    got = trainer.eval_step((real,))
    torch.manual_seed(7)
    z = torch.randn(32, gan.latent_dim)
    fake = gan.generator(z)
    assert torch.allclose(got["d_loss"], discriminator_loss(gan.discriminator(real), gan.discriminator(fake)))
    assert torch.allclose(got["g_loss"], generator_loss(gan.discriminator(fake)))


def test_sample_takes_given_latents_in_eval_mode():
    gan, _ = ring_gan()
    gan.train()
    z = torch.randn(5, gan.latent_dim)
    with torch.no_grad():
        expected = gan.eval().generator(z)
    gan.train()
    assert torch.equal(gan.sample(z=z), expected)
    assert gan.training
    assert gan.sample(3, torch.Generator().manual_seed(0)).shape == (3, 2)
    with pytest.raises(ValueError, match="z"):
        gan.sample(z=torch.randn(5, gan.latent_dim + 1))
    with pytest.raises(ValueError, match="n"):
        gan.sample()
