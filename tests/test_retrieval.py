import numpy as np
import pytest
import torch

from course_utils.retrieval import (binarize, bytes_per_code, hamming_distances, hamming_search,
                                    pack_bits, unpack_bits)


def reference_hamming(a_bits, b_bits):
    return (a_bits[:, None, :] != b_bits[None, :, :]).sum(axis=-1)


def test_binarize_thresholds_tensors_and_arrays():
    codes = torch.tensor([[-1.0, 0.0, 2.0], [0.5, -0.1, 0.0]])
    assert binarize(codes).tolist() == [[0, 0, 1], [1, 0, 0]]
    assert binarize(codes.numpy(), threshold=0.4).tolist() == [[0, 0, 1], [1, 0, 0]]
    assert binarize(codes).dtype == np.uint8


@pytest.mark.parametrize("n_bits", [1, 7, 8, 13, 32, 64, 100])
def test_pack_unpack_round_trip_and_size(n_bits):
    rng = np.random.default_rng(n_bits)
    bits = rng.integers(0, 2, (5, n_bits), dtype=np.uint8)
    packed = pack_bits(bits)
    assert packed.shape == (5, (n_bits + 7) // 8) and packed.dtype == np.uint8
    assert bytes_per_code(packed) == (n_bits + 7) // 8
    assert np.array_equal(unpack_bits(packed, n_bits), bits)


def test_pack_bits_order_is_big_endian_within_a_byte():
    assert pack_bits(np.array([[1, 0, 0, 0, 0, 0, 0, 1, 1]])).tolist() == [[0b10000001, 0b10000000]]


@pytest.mark.parametrize("n_bits", [5, 8, 16, 24, 32, 64, 72, 128])
def test_hamming_distances_match_counting_unpacked_bits(n_bits):
    # n_bits covers every word width the search uses (uint8, 16, 32, 64) and padding
    rng = np.random.default_rng(n_bits)
    a = rng.integers(0, 2, (7, n_bits), dtype=np.uint8)
    b = rng.integers(0, 2, (11, n_bits), dtype=np.uint8)
    got = hamming_distances(pack_bits(a), pack_bits(b))
    assert np.array_equal(got, reference_hamming(a, b))


def test_hamming_search_ranks_by_distance_then_index():
    base = np.array([[1, 1, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 1, 1], [0, 0, 0, 1]],
                    dtype=np.uint8)
    query = np.array([[0, 0, 0, 1]], dtype=np.uint8)
    # distances 3, 0, 1, 1, 0: ties go to the lower index
    assert hamming_search(pack_bits(query), pack_bits(base), k=5).tolist() == [[1, 4, 2, 3, 0]]


def test_hamming_search_matches_a_stable_sort_in_chunks():
    rng = np.random.default_rng(0)
    base = pack_bits(rng.integers(0, 2, (300, 32)))
    queries = pack_bits(rng.integers(0, 2, (50, 32)))
    expected = np.argsort(hamming_distances(queries, base), axis=1, kind="stable")[:, :10]
    assert np.array_equal(hamming_search(queries, base, k=10, chunk=7), expected)


def test_bad_inputs_raise_naming_the_argument():
    packed = pack_bits(np.zeros((3, 16), dtype=np.uint8))
    with pytest.raises(ValueError, match="k="):
        hamming_search(packed, packed, k=4)
    with pytest.raises(ValueError, match="k="):
        hamming_search(packed, packed, k=0)
    with pytest.raises(ValueError, match="bits"):
        pack_bits(np.array([[0, 2]]))
    with pytest.raises(ValueError, match="base_packed"):
        hamming_distances(packed, pack_bits(np.zeros((3, 24), dtype=np.uint8)))
    with pytest.raises(ValueError, match="query_packed"):
        hamming_distances(packed.astype(np.int64), packed)
    with pytest.raises(TypeError, match="codes"):
        binarize([[0.0, 1.0]])
    with pytest.raises(ValueError, match="n_bits"):
        unpack_bits(packed, 17)


def test_a_nan_threshold_and_a_bool_bit_count_are_named():
    with pytest.raises(ValueError, match="threshold=nan: expected a finite number"):
        binarize(torch.zeros(2, 3), threshold=float("nan"))
    with pytest.raises(ValueError, match="n_bits=True"):
        unpack_bits(pack_bits(np.zeros((2, 8), dtype=np.uint8)), True)
    assert binarize(torch.tensor([[0.0, 1.0, 2.0]]), threshold=np.array([1.0, 0.5, 3.0])).tolist() == [[0, 1, 0]]
