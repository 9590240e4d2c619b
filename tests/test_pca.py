import math

import pytest
import torch

from course_utils.pca import fit_pca, principal_angles


def correlated_data(n=500, d=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    mixing = torch.randn(d, d, generator=g) * torch.linspace(3, 0.1, d)
    return torch.randn(n, d, generator=g) @ mixing.T + 5.0


def test_variances_match_squared_singular_values_of_centred_data():
    x = correlated_data()
    pca = fit_pca(x)
    singular = torch.linalg.svdvals(x - x.mean(0))
    torch.testing.assert_close(pca.variances, singular**2 / len(x), rtol=1e-4, atol=1e-5)
    assert torch.all(pca.variances[:-1] >= pca.variances[1:])


def test_components_span_the_top_right_singular_vectors():
    x = correlated_data()
    pca = fit_pca(x)
    _, _, vh = torch.linalg.svd(x - x.mean(0), full_matrices=False)
    for k in (1, 3):
        angles = principal_angles(pca.components[:, :k], vh[:k].T)
        assert angles.max() < 0.1


def test_reconstruction_error_equals_sum_of_discarded_variances():
    x = correlated_data()
    pca = fit_pca(x)
    for k in range(1, x.shape[1] + 1):
        error = ((x - pca.reconstruct(x, k)) ** 2).sum(1).mean()
        torch.testing.assert_close(error, pca.variances[k:].sum(), rtol=1e-3, atol=1e-4)


def test_explained_variance_ratio_is_cumulative_and_ends_at_one():
    ratio = fit_pca(correlated_data()).explained_variance_ratio()
    assert torch.all(ratio[1:] >= ratio[:-1])
    assert ratio[-1].item() == pytest.approx(1.0, abs=1e-6)


def test_principal_angles_of_known_planes():
    e = torch.eye(3)
    assert principal_angles(e[:, :2], e[:, :2] @ torch.tensor([[2.0, 1.0], [0.0, 3.0]])).max() < 1e-3
    theta = math.radians(30)
    tilted = torch.stack([e[:, 0], math.cos(theta) * e[:, 1] + math.sin(theta) * e[:, 2]], 1)
    angles = principal_angles(e[:, :2], tilted)
    torch.testing.assert_close(angles, torch.tensor([0.0, 30.0]), atol=1e-3, rtol=0)


def test_bad_arguments_name_what_was_expected():
    pca = fit_pca(correlated_data())
    with pytest.raises(ValueError, match="k=0"):
        pca.encode(correlated_data(), 0)
    with pytest.raises(ValueError, match="k=7"):
        pca.reconstruct(correlated_data(), 7)
    with pytest.raises(ValueError, match="x: expected"):
        fit_pca(torch.zeros(5))
    with pytest.raises(ValueError, match="a, b"):
        principal_angles(torch.zeros(3, 2), torch.zeros(4, 2))


@pytest.mark.parametrize("x, error, match", [
    (torch.arange(12).reshape(6, 2), TypeError, "x: expected a floating-point tensor, got torch.int64"),
    (torch.tensor([[0.0, 1.0], [math.nan, 2.0], [3.0, 4.0]]), ValueError, "x: expected finite values"),
    (torch.tensor([[0.0, 1.0], [math.inf, 2.0]]), ValueError, "x: expected finite values"),
    ([[0.0, 1.0], [2.0, 3.0]], TypeError, "x: expected a floating-point tensor"),
])
def test_fit_pca_refuses_integer_or_non_finite_data_naming_x(x, error, match):
    with pytest.raises(error, match=match):
        fit_pca(x)


def test_fit_pca_keeps_the_float_dtype_it_is_given():
    x = correlated_data().double()
    pca = fit_pca(x)
    assert pca.mean.dtype == pca.components.dtype == pca.variances.dtype == torch.float64
    torch.testing.assert_close(pca.variances.float(), fit_pca(x.float()).variances, rtol=0, atol=0)
