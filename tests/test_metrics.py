import math

import numpy as np
import pytest
import torch

from course_utils.metrics import precision_at_k, precision_of_neighbours, psnr, squared_error_per_image


def test_squared_error_sums_pixels_and_averages_images():
    x = torch.zeros(2, 4)
    x_hat = torch.tensor([[1.0, 1.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0]])
    assert squared_error_per_image(x, x_hat) == pytest.approx((2 + 4) / 2)
    assert squared_error_per_image(x.view(2, 1, 2, 2), x_hat.view(2, 1, 2, 2)) == pytest.approx(3.0)


def test_psnr_matches_its_definition():
    x = torch.zeros(3, 10)
    x_hat = torch.full((3, 10), 0.1)  # mse 0.01 -> 20 dB
    assert psnr(x, x_hat) == pytest.approx(20.0, abs=1e-4)
    assert psnr(x, x_hat, peak=255.0) == pytest.approx(20 + 20 * math.log10(255), abs=1e-3)


def test_precision_at_k_counts_label_matches_among_nearest():
    base = torch.tensor([[0.0], [0.1], [5.0], [5.1]])
    labels = torch.tensor([0, 0, 1, 1])
    queries = torch.tensor([[0.05], [5.05]])
    assert precision_at_k(queries, torch.tensor([0, 1]), base, labels, k=2) == 1.0
    assert precision_at_k(queries, torch.tensor([1, 0]), base, labels, k=2) == 0.0
    assert precision_at_k(queries, torch.tensor([0, 1]), base, labels, k=4) == 0.5


def test_precision_of_neighbours_scores_any_search_from_tensors_or_arrays():
    neighbours = np.array([[0, 1], [2, 3]])  # e.g. from a Hamming search
    assert precision_of_neighbours(neighbours, np.array([5, 6]), np.array([5, 0, 6, 6])) == 0.75
    assert precision_of_neighbours(torch.tensor([[3], [1]]), torch.tensor([6, 6]),
                                   torch.tensor([5, 0, 6, 6])) == 0.5
    with pytest.raises(ValueError, match="neighbours: expected shape"):
        precision_of_neighbours(np.array([0, 1]), np.array([5, 6]), np.array([5, 0]))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="x, x_hat"):
        psnr(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="x, x_hat"):
        squared_error_per_image(torch.zeros(2, 3), torch.zeros(3, 3))
    with pytest.raises(ValueError, match="k=5"):
        precision_at_k(torch.zeros(1, 2), torch.zeros(1), torch.zeros(4, 2), torch.zeros(4), k=5)
    with pytest.raises(ValueError, match="query_codes, base_codes"):
        precision_at_k(torch.zeros(1, 2), torch.zeros(1), torch.zeros(4, 3), torch.zeros(4), k=1)


@pytest.mark.parametrize("peak", [0, -1.0, float("nan"), float("inf"), True, None])
def test_psnr_refuses_a_peak_that_is_not_positive_naming_it(peak):
    with pytest.raises(ValueError, match=rf"peak={peak!r}: expected a positive finite number"):
        psnr(torch.zeros(2, 3), torch.full((2, 3), 0.1), peak=peak)


def test_psnr_takes_an_int_peak():
    assert psnr(torch.zeros(2, 3), torch.full((2, 3), 0.1), peak=255) == pytest.approx(
        20 + 20 * math.log10(255), abs=1e-3)


@pytest.mark.parametrize("n_codes, n_labels", [(2, 3), (3, 2)])
def test_precision_at_k_refuses_query_labels_of_another_length(n_codes, n_labels):
    with pytest.raises(ValueError, match=r"query_codes, query_labels: expected the same length, "
                                         rf"got {n_codes} and {n_labels}"):
        precision_at_k(torch.zeros(n_codes, 2), torch.zeros(n_labels), torch.zeros(4, 2), torch.zeros(4), k=1)


@pytest.mark.parametrize("n_labels", [3, 5])
def test_precision_at_k_refuses_base_labels_of_another_length(n_labels):
    with pytest.raises(ValueError, match=rf"base_codes, base_labels: expected the same length, got 4 and {n_labels}"):
        precision_at_k(torch.zeros(2, 2), torch.zeros(2), torch.zeros(4, 2), torch.zeros(n_labels), k=1)


@pytest.mark.parametrize("neighbours", [np.array([[0, 4]]), np.array([[-1, 0]])])
def test_precision_of_neighbours_refuses_indices_outside_the_base(neighbours):
    with pytest.raises(ValueError, match=r"neighbours: expected indices into base_labels, 0 to 3"):
        precision_of_neighbours(neighbours, np.array([5]), np.array([5, 0, 6, 6]))
