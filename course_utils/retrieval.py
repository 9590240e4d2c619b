"""Binary codes for retrieval: threshold codes to bits, pack the bits, search by Hamming distance.

A code of ``n_bits`` bits is stored packed, 8 bits per byte (``pack_bits``), so a 32-bit code
takes 4 bytes. The Hamming distance between two packed codes is the number of set bits in
their XOR (``np.bitwise_count``); ``hamming_search`` ranks a base set of codes for each query
that way, in chunks of queries so that memory stays small.
"""

from __future__ import annotations

import numpy as np
import torch

from course_utils.checks import positive_int


def _as_numpy(name: str, x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, np.ndarray):
        return x
    raise TypeError(f"{name}: expected a torch tensor or numpy array, got {type(x).__name__}")


# ----- argument checks of the functions chapter 6 shows --------------------------------------
def _codes(name: str, x) -> np.ndarray:
    """``x`` (a tensor or array of shape (N, n_bits)) as a numpy array."""
    x = _as_numpy(name, x)
    if x.ndim != 2:
        raise ValueError(f"{name}: expected shape (N, n_bits), got {x.shape}")
    return x


def _bits(name: str, x) -> np.ndarray:
    """``x`` as a (N, n_bits) numpy array of 0s and 1s."""
    x = _codes(name, x)
    if x.size and not np.isin(x, (0, 1)).all():
        raise ValueError(f"{name}: expected only 0 and 1")
    return x


def _finite(name: str, value):
    """``value`` (a number or array) if finite: a NaN threshold would give all-zero bits."""
    if not np.isfinite(value).all():
        raise ValueError(f"{name}={value!r}: expected a finite number")
    return value


def _packed_pair(query_packed, base_packed) -> tuple[np.ndarray, np.ndarray]:
    """Both sets of packed codes as 2-D uint8 numpy arrays with as many bytes per code."""
    query_packed = _as_numpy("query_packed", query_packed)
    base_packed = _as_numpy("base_packed", base_packed)
    for name, a in (("query_packed", query_packed), ("base_packed", base_packed)):
        if a.dtype != np.uint8 or a.ndim != 2:
            raise ValueError(f"{name}: expected a 2-D uint8 array of packed codes, got {a.dtype} {a.shape}")
    if query_packed.shape[1] != base_packed.shape[1]:
        raise ValueError(f"query_packed, base_packed: {query_packed.shape[1]} and "
                         f"{base_packed.shape[1]} bytes per code differ")
    return query_packed, base_packed


def _search_sizes(k, chunk, n_base: int) -> None:
    """k between 1 and the number of base codes; chunk a positive int."""
    if not isinstance(k, int) or isinstance(k, bool) or not 0 < k <= n_base:
        raise ValueError(f"k={k!r}: expected an int between 1 and {n_base}")
    positive_int("chunk", chunk)


# ----- binary codes -----------------------------------------------------------------------
def binarize(codes, threshold: float = 0.0) -> np.ndarray:
    """Real codes (N, n_bits) to bits (N, n_bits) uint8: 1 where a code is
    above ``threshold``."""
    codes, threshold = _codes("codes", codes), _finite("threshold", threshold)
    return (codes > threshold).astype(np.uint8)


def pack_bits(bits) -> np.ndarray:
    """Bits (N, n_bits) of 0/1 to packed codes (N, ceil(n_bits / 8)) uint8,
    big-endian per byte. Bits past n_bits in the last byte are 0, so they never
    add to a Hamming distance."""
    bits = _bits("bits", bits)
    return np.packbits(bits.astype(np.uint8), axis=1)


def unpack_bits(packed, n_bits: int) -> np.ndarray:
    """The inverse of ``pack_bits``: (N, n_bytes) uint8 to (N, n_bits) uint8 bits."""
    packed = _as_numpy("packed", packed)
    if packed.dtype != np.uint8 or packed.ndim != 2:
        raise ValueError(f"packed: expected a (N, n_bytes) uint8 array, got {packed.dtype} {packed.shape}")
    if not isinstance(n_bits, int) or isinstance(n_bits, bool) or not 0 < n_bits <= 8 * packed.shape[1]:
        raise ValueError(f"n_bits={n_bits!r}: expected an int between 1 and {8 * packed.shape[1]}")
    return np.unpackbits(packed, axis=1, count=n_bits)


def hamming_distances(query_packed, base_packed) -> np.ndarray:
    """Hamming distances (Q, B) int between packed codes (Q, n_bytes) and (B, n_bytes)."""
    query_packed, base_packed = _packed_pair(query_packed, base_packed)
    q, b = _as_words(query_packed), _as_words(base_packed)  # (Q, W), (B, W) wide words
    distances = np.zeros((len(q), len(b)), dtype=np.int32)
    for w in range(q.shape[1]):  # one machine word of every code at a time
        distances += np.bitwise_count(q[:, w, None] ^ b[None, :, w])
    return distances


def _as_words(packed: np.ndarray) -> np.ndarray:
    """Packed uint8 codes viewed as the widest unsigned words that divide their length."""
    n_bytes = packed.shape[1]
    for dtype in (np.uint64, np.uint32, np.uint16):
        if n_bytes % np.dtype(dtype).itemsize == 0:
            return np.ascontiguousarray(packed).view(dtype)
    return packed


def hamming_search(query_packed, base_packed, k: int,
                   chunk: int = 256) -> np.ndarray:
    """Indices (Q, k) of each query's k nearest base codes by Hamming distance.

    ``chunk`` queries are compared at a time (memory: chunk x B distances).
    Ties are broken by base index, so the result is deterministic. A partial
    sort (``torch.topk``) keeps the cost linear in the base size.
    """
    query_packed, base_packed = _packed_pair(query_packed, base_packed)
    _search_sizes(k, chunk, len(base_packed))  # 1 <= k <= B, chunk > 0
    n_base, max_distance = len(base_packed), 8 * base_packed.shape[1]
    # sort key distance * B + index: unique, so ties go to the lower index
    key_type = np.int32 if (max_distance + 1) * n_base < 2**31 else np.int64
    index = np.arange(n_base, dtype=key_type)
    out = np.empty((len(query_packed), k), dtype=np.int64)
    for start in range(0, len(query_packed), chunk):
        queries = query_packed[start:start + chunk]          # (q, n_bytes)
        distances = hamming_distances(queries, base_packed)  # (q, B)
        key = distances.astype(key_type, copy=False)         # no copy if int32
        key *= n_base                                        # distance * B
        key += index                                         #   + index
        top = torch.from_numpy(key).topk(k, dim=1, largest=False, sorted=True)
        out[start:start + chunk] = top.indices.numpy()       # (q, k)
    return out


def bytes_per_code(packed) -> int:
    """Memory one packed code takes, in bytes."""
    packed = _as_numpy("packed", packed)
    if packed.ndim != 2:
        raise ValueError(f"packed: expected shape (N, n_bytes), got {packed.shape}")
    return packed.shape[1] * packed.itemsize
