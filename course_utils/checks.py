"""Argument checks shared by the course's modules: bad input gets an error naming the argument."""

from __future__ import annotations


def positive_int(name: str, value, allow_zero: bool = False) -> int:
    """``value`` if it is an int > 0 (>= 0 with ``allow_zero``), else a ValueError naming ``name``."""
    ok = isinstance(value, int) and not isinstance(value, bool) and (value > 0 or allow_zero and value == 0)
    if not ok:
        raise ValueError(f"{name}={value!r}: expected a {'non-negative' if allow_zero else 'positive'} int")
    return value
