import pytest

from course_utils.checks import positive_int


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
