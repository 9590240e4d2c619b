import pytest
import torch
from torch.distributions import Normal, kl_divergence

from course_utils.vae import VAE, gaussian_kl, reparameterize, vae_loss


def test_gaussian_kl_matches_torch_distributions():
    torch.manual_seed(0)
    mu, logvar = torch.randn(6, 4), torch.randn(6, 4)
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(torch.zeros(4), torch.ones(4))
    expected = kl_divergence(q, p).sum(dim=1)  # (6,)
    assert gaussian_kl(mu, logvar).shape == (6,)
    assert torch.allclose(gaussian_kl(mu, logvar), expected, atol=1e-5)


def test_gaussian_kl_matches_a_monte_carlo_estimate_and_is_zero_at_the_prior():
    mu, logvar = torch.tensor([[0.5, -1.0, 2.0]]), torch.tensor([[0.3, -0.7, 0.0]])
    q = Normal(mu, torch.exp(0.5 * logvar))
    z = q.sample((200_000,)).squeeze(1)  # (S, 3)
    log_ratio = q.log_prob(z).sum(dim=-1) - Normal(0.0, 1.0).log_prob(z).sum(dim=-1)
    monte_carlo = log_ratio.mean()
    standard_error = log_ratio.std() / len(z) ** 0.5
    assert abs(gaussian_kl(mu, logvar).item() - monte_carlo.item()) < 4 * standard_error
    assert gaussian_kl(torch.zeros(2, 5), torch.zeros(2, 5)).abs().max() < 1e-7


def test_reparameterize_has_the_right_moments_and_passes_gradients():
    mu = torch.tensor([[1.0, -2.0]]).repeat(100_000, 1).requires_grad_()
    logvar = torch.log(torch.tensor([[0.25, 4.0]])).repeat(100_000, 1).requires_grad_()
    z = reparameterize(mu, logvar, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(z.mean(dim=0), torch.tensor([1.0, -2.0]), atol=0.02)
    assert torch.allclose(z.std(dim=0), torch.tensor([0.5, 2.0]), atol=0.02)
    (z ** 2).sum().backward()  # d/dmu E[z^2] = 2 mu; d/dlogvar E[z^2] = sigma^2
    assert torch.allclose(mu.grad.mean(dim=0), torch.tensor([2.0, -4.0]), atol=0.05)
    assert torch.allclose(logvar.grad.mean(dim=0), torch.tensor([0.25, 4.0]), atol=0.05)
    same = reparameterize(mu, logvar, generator=torch.Generator().manual_seed(0))
    assert torch.equal(same, z)  # a generator makes it reproducible


def test_vae_shapes_loss_parts_and_samples():
    torch.manual_seed(0)
    model = VAE(latent_dim=3, channels=4)
    x = torch.rand(5, 784)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (5, 3) and model.latent_dim == 3
    logits, mu2, _ = model(x)
    assert logits.shape == (5, 784) and model.decode(mu).shape == (5, 784)
    parts = vae_loss(model, (x,))
    assert set(parts) == {"loss", "reconstruction", "kl"}
    assert torch.allclose(parts["loss"], parts["reconstruction"] + parts["kl"])
    assert parts["kl"] >= 0 and parts["reconstruction"] > 0
    parts["loss"].backward()  # every parameter gets a gradient
    assert all(p.grad is not None for p in model.parameters())
    model.train()
    images = model.sample(7, generator=torch.Generator().manual_seed(1))
    assert images.shape == (7, 784) and images.min() >= 0 and images.max() <= 1
    assert model.training and not images.requires_grad  # mode restored, no graph
    again = model.sample(7, generator=torch.Generator().manual_seed(1))
    assert torch.equal(images, again)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="latent_dim"):
        VAE(latent_dim=0)
    with pytest.raises(ValueError, match="logvar"):
        gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="mu"):
        reparameterize(torch.zeros(3), torch.zeros(3))
    model = VAE(latent_dim=2, channels=4)
    with pytest.raises(ValueError, match="z"):
        model.decode(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="x"):
        model.encode(torch.zeros(4, 100))
    with pytest.raises(ValueError, match="batch"):
        vae_loss(model, (torch.zeros(4, 28, 28),))
    with pytest.raises(ValueError, match="n="):
        model.sample(0)


def test_importance_weighted_bound_is_the_elbo_at_k1_and_grows_with_k():
    from course_utils.vae import importance_weighted_bound
    torch.manual_seed(0)
    model = VAE(latent_dim=2, channels=4).eval()
    x = torch.rand(4, 784)
    with torch.no_grad():
        one = importance_weighted_bound(model, x, 1, torch.Generator().manual_seed(0))
        mu, logvar = model.encode(x)
        z = reparameterize(mu, logvar, torch.Generator().manual_seed(0))
        by_hand = (-torch.nn.functional.binary_cross_entropy_with_logits(
            model.decode(z), x, reduction="none").sum(dim=1)
            + Normal(0.0, 1.0).log_prob(z).sum(dim=1)
            - Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(dim=1))
        assert torch.allclose(one, by_hand, atol=1e-3)
        torch.manual_seed(1)
        elbo = -vae_loss(model, (x,))["loss"]  # analytic KL, one sample: noisy, so compare means
        many = importance_weighted_bound(model, x, 200, torch.Generator().manual_seed(1))
        assert many.mean() > elbo - 1.0
    with pytest.raises(ValueError, match="k="):
        importance_weighted_bound(model, x, 0)


def test_a_levels_vae_bounds_a_discrete_likelihood_and_importance_weighting_tightens_it():
    from course_utils.vae import LevelsVAE, importance_weighted_bound
    torch.manual_seed(0)
    model = LevelsVAE(latent_dim=2, channels=4).eval()
    x = torch.randint(0, 256, (4, 784)).float()
    with torch.no_grad():
        logits = model.decode(torch.zeros(4, 2))
        # log p(x|z) is a sum of log-probabilities of levels: at most 0
        assert (model.log_likelihood(x, logits) <= 0).all()
        # the encoder sees x / 255, so shifting levels by their scale matters
        assert not torch.allclose(model.encode(x)[0], VAE.encode(model, x)[0])
        torch.manual_seed(1)
        elbo = -vae_loss(model, (x,))["loss"]
        many = importance_weighted_bound(model, x, 100, torch.Generator().manual_seed(1))
    assert many.mean() > elbo - 1.0
    assert (many <= 0).all()  # a bound on log P(x) of a discrete x
    loss = vae_loss(model.train(), (x,))["loss"]
    loss.backward()
    assert model.log_scale.grad is not None and model.log_scale.grad.abs().sum() > 0
