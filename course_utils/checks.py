"""Argument checks shared by the course's modules: bad input gets an error naming the argument."""

from __future__ import annotations

import math
import numbers

import torch


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def positive_int(name: str, value, allow_zero: bool = False) -> int:
    """``value`` if it is an int > 0 (>= 0 with ``allow_zero``), else a ValueError naming ``name``."""
    ok = isinstance(value, int) and not isinstance(value, bool) and (value > 0 or allow_zero and value == 0)
    if not ok:
        raise ValueError(f"{name}={value!r}: expected a {'non-negative' if allow_zero else 'positive'} int")
    return value


def positive_float(name: str, value, allow_zero: bool = False):
    """``value`` if it is (a tensor of) finite numbers > 0 (>= 0 with ``allow_zero``), else a ValueError."""
    sign = "non-negative" if allow_zero else "positive"
    if isinstance(value, torch.Tensor):
        ok = ((value >= 0) if allow_zero else (value > 0)) & torch.isfinite(value)
        if not ok.all():
            raise ValueError(f"{name}: expected {sign} finite values, found {value[~ok][0].item()!r}")
        return value
    if not (_is_real(value) and math.isfinite(value) and (value > 0 or allow_zero and value == 0)):
        raise ValueError(f"{name}={value!r}: expected a {sign} finite number")
    return value


def probability(name: str, value):
    """``value`` if it is a number between 0 and 1, else a ValueError naming ``name``."""
    if not (_is_real(value) and 0 <= value <= 1):  # NaN fails the comparison too
        raise ValueError(f"{name}={value!r}: expected a probability between 0 and 1")
    return value


def float_tensor(name: str, value, finite: bool = True) -> torch.Tensor:
    """``value`` if a floating-point tensor (else TypeError), with ``finite`` no NaN/inf (else ValueError)."""
    if not isinstance(value, torch.Tensor) or not value.is_floating_point():
        got = value.dtype if isinstance(value, torch.Tensor) else type(value).__name__
        raise TypeError(f"{name}: expected a floating-point tensor, got {got}")
    if finite and not torch.isfinite(value).all():
        bad = (~torch.isfinite(value)).sum().item()
        raise ValueError(f"{name}: expected finite values, found {bad} NaN or infinite")
    return value


def same_shape(names: str, a, b) -> None:
    """A ValueError naming both (``names``: "a, b") unless ``a`` and ``b`` have the same shape."""
    if a.shape != b.shape:
        raise ValueError(f"{names}: expected the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")


def same_length(names: str, a, b) -> None:
    """A ValueError naming both (``names``: "a, b") unless ``a`` and ``b`` have the same length."""
    if len(a) != len(b):
        raise ValueError(f"{names}: expected the same length, got {len(a)} and {len(b)}")


def sequence(name: str, value) -> list:
    """``list(value)`` for an iterable that is not a string, else a TypeError naming ``name``."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name}={value!r}: expected a sequence of values, not a string")
    try:
        items = iter(value)
    except TypeError:
        raise TypeError(f"{name}: expected a sequence of values, got {type(value).__name__}") from None
    return list(items)


def class_labels(name: str, labels, n_classes: int | None = None) -> torch.Tensor:
    """``labels`` if it is a non-empty 1-D integer tensor of classes (in 0..n_classes - 1
    when n_classes is given), else an error naming ``name``."""
    if not isinstance(labels, torch.Tensor) or labels.ndim != 1 or labels.dtype.is_floating_point \
            or labels.dtype == torch.bool:
        got = getattr(labels, "dtype", type(labels).__name__)
        raise TypeError(f"{name}: expected a 1-D integer tensor of class labels, got {got}")
    if len(labels) == 0:
        raise ValueError(f"{name}: expected at least one label")
    if n_classes is not None and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"{name}: expected class labels in 0..{n_classes - 1}, got "
                         f"{labels.min().item()}..{labels.max().item()}")
    return labels


def shaped(name: str, value, shape: tuple) -> torch.Tensor:
    """``value`` if it is a tensor of ``shape`` (None: any size there, shown as N), else a
    ValueError naming ``name``: ``shaped("images", x, (None, 784))``."""
    ok = isinstance(value, torch.Tensor) and value.ndim == len(shape) and all(
        want is None or got == want for got, want in zip(value.shape, shape))
    if not ok:
        want = "(" + ", ".join("N" if d is None else str(d) for d in shape) + ")"
        got = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise ValueError(f"{name}: expected a tensor of shape {want}, got {got}")
    return value
