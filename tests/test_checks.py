import math

import pytest
import torch

from course_utils.checks import (float_tensor, positive_float, positive_int, probability, same_length,
                                 same_shape, sequence)


@pytest.mark.parametrize("value", [1, 7, 10**9])
def test_positive_ints_pass_through(value):
    assert positive_int("n", value) == value


def test_zero_passes_only_when_allowed():
    assert positive_int("epochs", 0, allow_zero=True) == 0
    with pytest.raises(ValueError, match=r"epochs=0: expected a positive int"):
        positive_int("epochs", 0)


@pytest.mark.parametrize("value", [-1, 2.0, True, "3", None])
def test_everything_else_is_refused_naming_the_argument(value):
    with pytest.raises(ValueError, match=rf"batch_size={value!r}: expected a non-negative int"):
        positive_int("batch_size", value, allow_zero=True)


# ----- the other helpers ---------------------------------------------------------------------
@pytest.mark.parametrize("value", [0.2, 1, 1e-9, 255])
def test_positive_float_passes_numbers_through_unchanged(value):
    assert positive_float("tau", value) is value


def test_positive_float_allows_zero_only_when_asked_and_takes_tensors():
    assert positive_float("std", 0.0, allow_zero=True) == 0.0
    levels = torch.tensor([[0.0], [0.5]])
    assert positive_float("std", levels, allow_zero=True) is levels
    with pytest.raises(ValueError, match=r"std: expected positive finite values, found 0\.0"):
        positive_float("std", levels)


@pytest.mark.parametrize("value", [0, -0.1, math.nan, math.inf, True, "0.2", None])
def test_positive_float_refuses_the_rest_naming_the_argument(value):
    with pytest.raises(ValueError, match=rf"tau={value!r}: expected a positive finite number"):
        positive_float("tau", value)


@pytest.mark.parametrize("value", [torch.tensor([0.1, math.nan]), torch.tensor([-1.0]), torch.tensor(math.inf)])
def test_positive_float_refuses_tensors_with_a_bad_value(value):
    with pytest.raises(ValueError, match=r"std: expected non-negative finite values, found"):
        positive_float("std", value, allow_zero=True)


@pytest.mark.parametrize("value", [0, 0.5, 1])
def test_probability_passes_zero_to_one(value):
    assert probability("p", value) is value


@pytest.mark.parametrize("value", [-0.1, 1.5, math.nan, True, "0.5"])
def test_probability_refuses_the_rest(value):
    with pytest.raises(ValueError, match=rf"p={value!r}: expected a probability between 0 and 1"):
        probability("p", value)


def test_float_tensor_checks_the_dtype_then_the_values():
    x = torch.zeros(2, 3)
    assert float_tensor("x", x) is x
    with pytest.raises(TypeError, match="x: expected a floating-point tensor, got torch.int64"):
        float_tensor("x", torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(TypeError, match="x: expected a floating-point tensor, got list"):
        float_tensor("x", [[0.0]])
    with pytest.raises(ValueError, match="x: expected finite values, found 2 NaN or infinite"):
        float_tensor("x", torch.tensor([0.0, math.nan, -math.inf]))
    nan = torch.tensor([math.nan])
    assert float_tensor("x", nan, finite=False) is nan


def test_same_shape_and_same_length_name_both_arguments():
    same_shape("x, x_hat", torch.zeros(2, 3), torch.ones(2, 3))
    same_length("codes, labels", torch.zeros(4, 2), [0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"x, x_hat: expected the same shape, got \(2, 3\) and \(3, 2\)"):
        same_shape("x, x_hat", torch.zeros(2, 3), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="codes, labels: expected the same length, got 4 and 3"):
        same_length("codes, labels", torch.zeros(4, 2), [0, 1, 2])


def test_sequence_lists_iterables_but_refuses_strings_and_non_iterables():
    assert sequence("row", (1, "a")) == [1, "a"]
    assert sequence("rows", (r for r in [(1,)])) == [(1,)]
    with pytest.raises(TypeError, match=r"header='ab': expected a sequence of values, not a string"):
        sequence("header", "ab")
    with pytest.raises(TypeError, match="rows: expected a sequence of values, got int"):
        sequence("rows", 3)


def test_class_labels_accepts_integer_labels_and_names_bad_ones():
    import torch

    from course_utils.checks import class_labels

    y = torch.tensor([0, 3, 9])
    assert class_labels("y", y, 10) is y
    assert class_labels("y", y.int()) is not None  # any integer dtype without n_classes
    for bad, error in ((torch.tensor([0.0, 1.0]), TypeError), (torch.tensor([[1, 2]]), TypeError),
                       ([1, 2], TypeError), (torch.tensor([True]), TypeError),
                       (torch.tensor([], dtype=torch.long), ValueError)):
        with pytest.raises(error, match="^y: expected"):
            class_labels("y", bad, 10)
    with pytest.raises(ValueError, match=r"y: expected class labels in 0\.\.9, got 0\.\.10"):
        class_labels("y", torch.tensor([0, 10]), 10)


def test_shaped_accepts_a_tensor_of_the_shape_and_names_anything_else():
    import torch

    from course_utils.checks import shaped

    x = torch.zeros(5, 784)
    assert shaped("images", x, (None, 784)) is x
    assert shaped("z", torch.zeros(3, 2), (3, 2)) is not None
    for bad in (torch.zeros(5, 28, 28), torch.zeros(5, 783), [0.0] * 784):
        with pytest.raises(ValueError, match=r"^images: expected a tensor of shape \(N, 784\)"):
            shaped("images", bad, (None, 784))
