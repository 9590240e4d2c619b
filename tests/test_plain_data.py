"""Plain data from a sandboxed submission (course_tools.plain_data): the grader's side accepts
numbers, strings, lists, dicts and numeric arrays, and nothing a submission could make lie."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
import torch

from course_tools.plain_data import PlainDataError, decode, encode


def test_values_round_trip_as_the_graders_own_types():
    value = {"n": 3, "x": 0.25, "ok": True, "none": None, "name": "pca",
             "list": [1, [2.5, "a"]], "array": np.arange(6, dtype=np.float32).reshape(2, 3),
             "tensor": torch.tensor([[1, 2], [3, 4]]), "scalar": np.float64(1.5)}
    back = decode(encode(value))
    assert back["n"] == 3 and type(back["n"]) is int
    assert back["list"] == [1, [2.5, "a"]]
    assert back["array"].dtype == np.float32 and back["array"].shape == (2, 3)
    np.testing.assert_array_equal(back["array"], value["array"])
    assert type(back["tensor"]) is torch.Tensor and back["tensor"].dtype == torch.int64
    assert torch.equal(back["tensor"], torch.tensor([[1, 2], [3, 4]]))
    assert back["scalar"].shape == () and float(back["scalar"]) == 1.5
    assert type(back["array"]) is np.ndarray  # not a subclass


def test_dicts_with_number_keys_and_tuples_cross_as_dicts_and_lists():
    value = {5: 1.0, 0.1: (2, 3), None: "x", True: [], "__array__": 1}
    back = decode(encode(value))
    assert back == {5: 1.0, 0.1: [2, 3], None: "x", True: [], "__array__": 1}
    assert decode(encode({"__items__": 7})) == {"__items__": 7}  # a key that looks special
    bfloat = decode(encode(torch.ones(2, dtype=torch.bfloat16, requires_grad=True)))
    assert bfloat.dtype == torch.float32 and not bfloat.requires_grad


class LyingInt(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


class AlwaysEqual:
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("value", [LyingInt(3), AlwaysEqual(), {(1, 2): "a"}, np.array([object()]),
                                   {"nested": [AlwaysEqual()]}, np.array(["a", "b"])])
def test_objects_that_could_lie_are_refused_on_the_submissions_side(value):
    with pytest.raises(PlainDataError, match="value"):
        encode(value)


def forged(spec) -> str:
    return json.dumps({"__array__": spec})


@pytest.mark.parametrize("message, match", [
    ("not json", "not JSON"),
    (forged({"dtype": "object", "shape": [1], "data": ""}), "dtype 'object'"),
    (forged({"dtype": "float32", "shape": [2], "data": base64.b64encode(b"1234").decode()}),
     "4 bytes of data for shape \\[2\\]"),
    (forged({"dtype": "int8", "shape": [-1], "data": ""}), "non-negative"),
    (forged({"dtype": "int8", "shape": [1], "data": "%%%"}), "not base64"),
    (forged({"dtype": "int8", "shape": [1]}), "exactly dtype, shape and data"),
    (forged({"dtype": "int8", "shape": [0], "data": "", "torch": 1}), "torch must be true"),
    ('{"__items__": [[[1], 2]]}', "a key must be"),
    ('{"__items__": [1, 2]}', "list of \\[key, value\\] pairs"),
    ("[" * 40 + "]" * 40, "deeper than"),
])
def test_the_graders_side_refuses_anything_else_with_a_reason(message, match):
    with pytest.raises(PlainDataError, match=match):
        decode(message)


def test_a_pickle_is_not_plain_data():
    import pickle

    with pytest.raises(PlainDataError, match="not JSON"):
        decode(pickle.dumps({"score": 9}))
