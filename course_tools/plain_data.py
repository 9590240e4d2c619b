"""Plain data between a sandboxed submission and the trusted grader: JSON, never pickle.

A value crosses as JSON made of None, bools, ints, floats, strings, lists and string-keyed
dicts; a dict with other keys (ints, floats, bools, None) as ``{"__items__": [[key, value],
...]}``; and arrays as ``{"__array__": {"dtype": ..., "shape": [...], "data": base64}}`` with a
numeric dtype, plus ``"torch": true`` for a torch tensor, which decodes to a tensor (made by
the decoder from the bytes, on the CPU) so that a test compares tensors as it would locally.
Tuples become lists. ``encode`` runs on the submission's side and may be subverted there; what the
grader trusts is ``decode``, which accepts nothing else: no objects, no subclasses, no object
arrays, and nothing deeper or larger than its limits. So a submission's answer reaches the
grader as numbers and strings only, and its comparisons run on the grader's own types.
"""

from __future__ import annotations

import base64
import json
import math

import numpy as np

ARRAY_KEY = "__array__"
ITEMS_KEY = "__items__"
KEY_TYPES = (bool, int, float, str, type(None))
DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
          "float32", "float64")
MAX_DEPTH = 32
MAX_BYTES = 64 * 1024 * 1024  # of a whole message


class PlainDataError(ValueError):
    """A message that is not plain data; the text says where and what."""


def encode(value) -> str:
    """``value`` as a JSON message (numpy arrays and torch tensors as arrays)."""
    return json.dumps(_to_plain(value, "value", 0), allow_nan=True)


def _to_plain(value, where: str, depth: int):
    if depth > MAX_DEPTH:
        raise PlainDataError(f"{where}: nested deeper than {MAX_DEPTH}")
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value) in (list, tuple):
        return [_to_plain(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    if type(value) is dict:
        if not all(type(k) in KEY_TYPES for k in value):
            raise PlainDataError(f"{where}: dict keys must be strings, numbers, bools or None")
        if all(type(k) is str for k in value) and set(value) not in ({ARRAY_KEY}, {ITEMS_KEY}):
            return {k: _to_plain(v, f"{where}[{k!r}]", depth + 1) for k, v in value.items()}
        return {ITEMS_KEY: [[k, _to_plain(v, f"{where}[{k!r}]", depth + 2)] for k, v in value.items()]}
    is_tensor = type(value).__module__ == "torch" and type(value).__name__ == "Tensor"
    if is_tensor:
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":  # numpy has no bfloat16
            value = value.float()
        value = value.numpy()
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if type(value) is np.ndarray and value.dtype.name in DTYPES:
        array = value.copy(order="C")  # keeps a 0-d shape, unlike np.ascontiguousarray
        spec = {"dtype": array.dtype.name, "shape": list(array.shape),
                "data": base64.b64encode(array.tobytes()).decode("ascii")}
        return {ARRAY_KEY: {**spec, "torch": True} if is_tensor else spec}
    raise PlainDataError(f"{where}: {type(value).__name__} is not plain data (numbers, strings, "
                         f"lists, dicts, numeric arrays)")


def decode(message: str | bytes):
    """The value of a JSON ``message`` made by ``encode``; anything else raises PlainDataError."""
    if len(message) > MAX_BYTES:
        raise PlainDataError(f"message: {len(message):,} bytes, more than {MAX_BYTES:,}")
    try:
        raw = json.loads(message, parse_constant=lambda name: float(name))
    except (ValueError, RecursionError) as error:
        raise PlainDataError(f"message: not JSON ({error})") from None
    return _from_plain(raw, "value", 0)


def _from_plain(raw, where: str, depth: int):
    if depth > MAX_DEPTH:
        raise PlainDataError(f"{where}: nested deeper than {MAX_DEPTH}")
    if raw is None or type(raw) in (bool, int, float, str):
        return raw
    if type(raw) is list:
        return [_from_plain(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(raw)]
    if type(raw) is dict and set(raw) == {ARRAY_KEY}:
        return _array(raw[ARRAY_KEY], where)
    if type(raw) is dict and set(raw) == {ITEMS_KEY}:
        return _items(raw[ITEMS_KEY], where, depth)
    if type(raw) is dict:
        return {k: _from_plain(v, f"{where}[{k!r}]", depth + 1) for k, v in raw.items()}
    raise PlainDataError(f"{where}: unexpected {type(raw).__name__}")


def _items(pairs, where: str, depth: int) -> dict:
    if type(pairs) is not list or not all(type(p) is list and len(p) == 2 for p in pairs):
        raise PlainDataError(f"{where}: {ITEMS_KEY} must be a list of [key, value] pairs")
    result = {}
    for key, value in pairs:
        if type(key) not in KEY_TYPES:
            raise PlainDataError(f"{where}: a key must be a string, number, bool or None")
        result[key] = _from_plain(value, f"{where}[{key!r}]", depth + 2)
    return result


def _array(spec, where: str):
    if type(spec) is not dict or not {"dtype", "shape", "data"} <= set(spec) <= {"dtype", "shape", "data", "torch"}:
        raise PlainDataError(f"{where}: an array needs exactly dtype, shape and data (and torch)")
    if spec.get("torch", False) is not True and "torch" in spec:
        raise PlainDataError(f"{where}: torch must be true when given")
    dtype, shape, data = spec["dtype"], spec["shape"], spec["data"]
    if dtype not in DTYPES:
        raise PlainDataError(f"{where}: dtype {dtype!r} is not one of {', '.join(DTYPES)}")
    if type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape):
        raise PlainDataError(f"{where}: shape {shape!r} is not a list of non-negative ints")
    if type(data) is not str:
        raise PlainDataError(f"{where}: data must be a base64 string")
    try:
        buffer = base64.b64decode(data, validate=True)
    except ValueError:
        raise PlainDataError(f"{where}: data is not base64") from None
    expected = math.prod(shape) * np.dtype(dtype).itemsize
    if len(buffer) != expected:
        raise PlainDataError(f"{where}: {len(buffer)} bytes of data for shape {shape} of "
                             f"{dtype} ({expected} expected)")
    array = np.frombuffer(buffer, dtype=dtype).reshape(tuple(shape)).copy()
    if spec.get("torch"):
        import torch

        return torch.from_numpy(array)
    return array
