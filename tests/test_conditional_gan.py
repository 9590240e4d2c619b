"""Tests for course_utils.conditional_gan and course_utils.latent_editor (fast: tiny models)."""

import pytest
import torch
from torch.nn import functional as F

from course_utils.conditional_gan import (ATTRIBUTES, ConditionalGAN, ConditionalGANTrainer,
                                          ProjectionDiscriminator, class_accuracy,
                                          class_spread, conditional_dcgan, conditional_samples,
                                          digit_attributes, fit_direction, requested_accuracy,
                                          walk)
from course_utils.gan import GAN, dcgan
from course_utils.latent_editor import latent_editor

CPU = torch.device("cpu")


def tiny(seed=0):
    torch.manual_seed(seed)
    return conditional_dcgan(latent_dim=4, channels=4)


def test_shapes_and_sample_keeps_training_mode():
    gan = tiny()
    z, y = torch.randn(6, 4), torch.tensor([0, 1, 2, 3, 4, 9])
    assert gan.generator(z, y).shape == (6, 784)
    assert gan.discriminator(gan.generator(z, y), y).shape == (6,)
    assert gan.discriminator.class_logits(torch.rand(6, 784)).shape == (6, 10)
    gan.train()
    out = gan.sample(y, torch.Generator().manual_seed(0))
    assert out.shape == (6, 784) and gan.training
    assert out.min() >= -1 and out.max() <= 1


def test_label_changes_the_sample_and_fixed_z_reproduces_it():
    gan = tiny()
    z = torch.randn(1, 4).repeat(2, 1)
    a = gan.sample(torch.tensor([1, 7]), z=z)
    assert not torch.allclose(a[0], a[1])  # same z, different label
    assert torch.equal(gan.sample(torch.tensor([1, 7]), z=z), a)


def test_projection_logit_is_psi_plus_inner_product_and_class_logits_agree():
    torch.manual_seed(1)
    disc = ProjectionDiscriminator(n_classes=3, channels=2)
    with torch.no_grad():
        disc.embed.weight.normal_()
    x, y = torch.rand(5, 784), torch.tensor([0, 1, 2, 2, 0])
    h = disc.phi(x)
    expected = disc.psi(h)[:, 0] + (disc.embed.weight[y] * h).sum(1)
    assert torch.allclose(disc(x, y), expected, atol=1e-6)
    # D(x, k) - D(x, j) is the difference of the class logits
    scores = disc.class_logits(x)
    diff = disc(x, torch.full((5,), 2)) - disc(x, torch.zeros(5, dtype=torch.long))
    assert torch.allclose(diff, scores[:, 2] - scores[:, 0], atol=1e-5)


def test_bad_labels_and_z_raise_naming_the_argument():
    gan = tiny()
    with pytest.raises(ValueError, match="labels"):
        gan.sample(torch.tensor([10]))
    with pytest.raises(TypeError, match="labels"):
        gan.sample(torch.tensor([1.0]))
    with pytest.raises(ValueError, match="z"):
        gan.sample(torch.tensor([1, 2]), z=torch.randn(3, 4))
    with pytest.raises(ValueError, match="per_class"):
        conditional_samples(gan, per_class=0)


def test_trainer_updates_both_players_and_checks_arguments():
    gan = tiny()
    opts = {"discriminator": torch.optim.Adam(gan.discriminator.parameters(), 1e-3),
            "generator": torch.optim.Adam(gan.generator.parameters(), 1e-3)}
    before = {k: v.clone() for k, v in gan.state_dict().items()}
    trainer = ConditionalGANTrainer(gan, opts, device=CPU, batch_size=8, progress=False)
    x, y = torch.rand(16, 784) * 2 - 1, torch.arange(16) % 10
    history = trainer.fit((x, y), until_epoch=1)
    assert {"train_d_loss", "train_g_loss", "train_d_real", "train_d_fake"} <= set(history[0])
    after = gan.state_dict()
    assert not torch.equal(before["generator.embed.weight"], after["generator.embed.weight"])
    assert not torch.equal(before["discriminator.embed.weight"], after["discriminator.embed.weight"])
    with pytest.raises(TypeError, match="gan"):
        ConditionalGANTrainer(dcgan(8, 4), opts, device=CPU)
    with pytest.raises(ValueError, match="aux_weight"):
        ConditionalGANTrainer(gan, opts, device=CPU, aux_weight=-1.0)


def test_extra_loss_is_the_weighted_cross_entropy_of_class_logits():
    gan = tiny()
    opts = {"discriminator": torch.optim.SGD(gan.discriminator.parameters(), 0.1),
            "generator": torch.optim.SGD(gan.generator.parameters(), 0.1)}
    x, y = torch.rand(4, 784), torch.tensor([0, 3, 3, 9])
    expected = F.cross_entropy(gan.discriminator.class_logits(x), y)
    assert torch.allclose(ConditionalGANTrainer(gan, opts, device=CPU, aux_weight=2.0)
                          .extra_loss(x, (x, y)), 2 * expected)
    assert ConditionalGANTrainer(gan, opts, device=CPU, aux_weight=0.0).extra_loss(x, (x, y)) == 0


def test_requested_accuracy_counts_per_requested_class():
    overall, per_class = requested_accuracy(torch.tensor([0, 0, 0, 1, 5]),
                                            torch.tensor([0, 1, 1, 1, 5]))
    assert overall == pytest.approx(0.6)
    assert torch.allclose(per_class, torch.tensor([1, 1 / 3, 0, 0, 0, 1, 0, 0, 0, 0]))
    with pytest.raises(ValueError, match="predicted and requested"):
        requested_accuracy(torch.tensor([0, 1]), torch.tensor([0]))


def test_class_accuracy_with_a_perfect_and_a_constant_judge():
    gan = tiny()

    class Constant(torch.nn.Module):  # always says "3"
        def forward(self, x):
            return F.one_hot(torch.full((len(x),), 3), 10).float()

    overall, per_class = class_accuracy(gan, Constant(), CPU, per_class=5)
    assert overall == pytest.approx(0.1)
    assert per_class[3] == 1 and per_class.sum() == 1


def test_digit_attributes_of_known_images():
    a = torch.zeros(28, 28)
    a[4:24, 13:15] = 1.0  # upright bar: no slant, narrow, tall
    b = torch.zeros(28, 28)
    for r in range(4, 24):  # a bar leaning right by one column per two rows
        b[r, 20 - (r - 4) // 2] = 1.0
    attrs = digit_attributes(torch.stack([a, b, torch.roll(b, 3, 1)]).reshape(3, 784))
    assert attrs.shape == (3, len(ATTRIBUTES))
    assert attrs[0, 0] == pytest.approx(40 / 784)
    assert abs(attrs[0, 1]) < 1e-5 and attrs[1, 1] > 0.4  # top leans right: positive
    assert attrs[0, 3] > 3 * attrs[0, 2]  # taller than wide
    assert torch.allclose(attrs[1], attrs[2], atol=1e-4)  # moving the digit changes nothing
    with pytest.raises(ValueError, match="images"):
        digit_attributes(torch.rand(2, 28, 28))


def test_fit_direction_recovers_a_planted_direction_and_ignores_class_offsets():
    g = torch.Generator().manual_seed(0)
    z, labels = torch.randn(500, 6, generator=g), torch.randint(3, (500,), generator=g)
    true = torch.tensor([3.0, 0.0, -4.0, 0.0, 0.0, 0.0])
    values = z @ true + 10.0 * labels + 0.01 * torch.randn(500, generator=g)
    assert torch.allclose(fit_direction(z, values, labels, n_classes=3), true / 5, atol=1e-3)
    loose = fit_direction(z, values)  # one intercept: the class offsets become noise
    assert loose.norm() == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match="values"):
        fit_direction(z, values[:10])
    with pytest.raises(ValueError, match="z: expected"):
        fit_direction(z[0], values)
    with pytest.raises(ValueError, match="labels: expected 500 labels"):
        fit_direction(z, values, labels[:10], n_classes=3)
    with pytest.raises(ValueError, match="labels: expected class labels in 0..1"):
        fit_direction(z, values, labels, n_classes=2)
    with pytest.raises(TypeError, match="labels"):
        fit_direction(z, values, labels.float(), n_classes=3)


def test_the_conditional_trainer_hooks_give_the_labels_to_both_players():
    gan = tiny()
    opts = {"discriminator": torch.optim.SGD(gan.discriminator.parameters(), 0.1),
            "generator": torch.optim.SGD(gan.generator.parameters(), 0.1)}
    trainer = ConditionalGANTrainer(gan, opts, device=CPU, aux_weight=1.0)
    x, y = torch.rand(4, 784) * 2 - 1, torch.tensor([0, 3, 3, 9])
    torch.manual_seed(5)
    fake = trainer.generate((x, y))
    torch.manual_seed(5)
    z = torch.randn(4, gan.latent_dim)
    assert torch.equal(fake, gan.generator(z, y))  # G(z, y) for the batch's labels
    assert torch.equal(trainer.discriminate(x, (x, y)), gan.discriminator(x, y))


def test_walk_moves_along_the_direction():
    gan = tiny()
    z, y = torch.randn(2, 4), torch.tensor([1, 2])
    frames = walk(gan, z, y, torch.tensor([1.0, 0, 0, 0]), torch.tensor([0.0, 1.0]))
    assert frames.shape == (2, 2, 784) and frames.min() >= 0
    shifted = (gan.sample(y, z=z + torch.tensor([1.0, 0, 0, 0])) + 1) / 2
    assert torch.allclose(frames[1], shifted, atol=1e-6)
    with pytest.raises(ValueError, match="direction"):
        walk(gan, z, y, torch.ones(3), torch.tensor([0.0]))


def test_editor_sliders_digit_and_button_change_the_image():
    gan = tiny()
    box = latent_editor(gan, {"a": torch.tensor([1.0, 0, 0, 0]), "b": torch.tensor([0, 1.0, 0, 0])},
                        digit=3)
    first = box.image.value
    assert first[:4] == b"\x89PNG"
    box.sliders["a"].value = 2.0
    moved = box.image.value
    assert moved != first
    box.digit.value = 5
    assert box.image.value != moved
    box.button.click()  # a new z, sliders back to 0
    assert box.sliders["a"].value == 0.0 and box.image.value != first


def test_editor_rejects_bad_arguments():
    gan = tiny()
    with pytest.raises(TypeError, match="gan"):
        latent_editor(GAN(torch.nn.Identity(), torch.nn.Identity(), 4), {"a": torch.ones(4)})
    with pytest.raises(ValueError, match="directions"):
        latent_editor(gan, {})
    with pytest.raises(ValueError, match=r"directions\['a'\]"):
        latent_editor(gan, {"a": torch.ones(5)})
    with pytest.raises(ValueError, match="digit"):
        latent_editor(gan, {"a": torch.ones(4)}, digit=10)
    assert isinstance(gan, ConditionalGAN)


def test_class_spread_is_zero_for_copies_and_grows_with_variety():
    labels = torch.arange(10).repeat_interleave(5)  # 5 images of each class
    copies = torch.rand(10, 784).repeat_interleave(5, dim=0)  # one image per class, 5 times
    assert torch.allclose(class_spread(copies, labels), torch.zeros(10), atol=1e-3)
    torch.manual_seed(0)
    varied = copies + 0.1 * torch.randn(50, 784)
    more_varied = copies + 0.3 * torch.randn(50, 784)
    assert (class_spread(more_varied, labels) > 2 * class_spread(varied, labels)).all()


def test_class_spread_looks_at_the_first_per_class_images_of_each_class():
    labels = torch.tensor([0, 0, 0, 1, 1])
    images = torch.tensor([[0.0], [1.0], [9.0], [0.0], [2.0]])
    assert class_spread(images, labels, n_classes=2, per_class=2).tolist() == [1.0, 2.0]


def test_class_spread_rejects_a_class_with_fewer_than_two_images_and_bad_shapes():
    with pytest.raises(ValueError, match="labels: expected at least 2"):
        class_spread(torch.rand(3, 4), torch.tensor([0, 0, 1]), n_classes=2)
    with pytest.raises(ValueError, match="images: expected"):
        class_spread(torch.rand(3, 4), torch.tensor([0, 0, 1, 1]), n_classes=2)


def test_trainer_evaluates_with_labels_without_updating():
    gan = tiny()
    opts = {"discriminator": torch.optim.Adam(gan.discriminator.parameters(), 1e-3),
            "generator": torch.optim.Adam(gan.generator.parameters(), 1e-3)}
    trainer = ConditionalGANTrainer(gan, opts, device=CPU, batch_size=8, progress=False)
    x, y = torch.rand(16, 784) * 2 - 1, torch.arange(16) % 10
    before = {k: v.clone() for k, v in gan.state_dict().items()}
    result = trainer.evaluate((x, y))
    assert set(result) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(torch.equal(before[k], v) for k, v in gan.state_dict().items())
    history = trainer.fit((x, y), until_epoch=1, valid=(x, y))
    assert {"valid_d_loss", "valid_g_loss"} <= set(history[-1])


def test_the_conditional_generator_reuses_the_dcgan_generator():
    from course_utils.gan import DCGANGenerator
    assert isinstance(tiny().generator.body, DCGANGenerator)
