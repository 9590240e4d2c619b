"""The reader's real path, every CI run: the four published MNIST files in a warm cache, loaded
through the public loader with COURSE_DATA=mnist, and a chapter run on them (ci profile).

The files are in ../shared/data/mnist (read-only, MD5s as published); the tests copy them into
a temporary cache folder, as a reader's first download would leave them, and skip with the
reason where that folder is absent.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
import torch

from course_utils.data import MNIST_FILES, load_mnist

ROOT = Path(__file__).resolve().parents[1]
REAL_MNIST = ROOT.parent / "shared" / "data" / "mnist"
CHAPTER = ROOT / "book" / "01_pca.ipynb"  # the quickest chapter: about 25 s in the ci profile

pytestmark = pytest.mark.skipif(not REAL_MNIST.is_dir(),
                                reason=f"the real MNIST files are not at {REAL_MNIST}")


@pytest.fixture
def warm_cache(tmp_path, monkeypatch) -> Path:
    """A cache folder holding the four real files; COURSE_DATA=mnist, COURSE_DATA_DIR=it."""
    cache = tmp_path / "mnist"
    cache.mkdir()
    for name, _ in MNIST_FILES.values():
        shutil.copy(REAL_MNIST / name, cache / name)
        (cache / name).chmod(0o644)
    monkeypatch.setenv("COURSE_DATA", "mnist")
    monkeypatch.setenv("COURSE_DATA_DIR", str(cache))
    return cache


def test_the_public_loader_reads_the_real_files_from_a_warm_cache(warm_cache, monkeypatch):
    import course_utils.data

    monkeypatch.setattr(course_utils.data, "MIRRORS", ())  # nothing may be downloaded
    data = load_mnist()  # as a chapter calls it: the source and folder from the environment
    assert data.source == "mnist"
    assert data.x_train.shape == (60000, 784) and data.x_test.shape == (10000, 784)
    assert data.x_train.dtype == torch.float32
    assert 0.0 == data.x_train.min() and data.x_train.max() == 1.0
    assert torch.bincount(data.y_train, minlength=10).min() > 5000  # every digit, many times
    assert torch.bincount(data.y_test, minlength=10).tolist() == [
        980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]  # MNIST's published test counts


def test_a_chapter_runs_on_the_real_files_in_the_ci_profile(warm_cache, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("COURSE_PROFILE", "ci")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    notebook = nbformat.read(CHAPTER, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(CHAPTER.parent)}}).execute()
    printed = "".join(out.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                      for out in cell.outputs)
    assert "full MNIST: 60,000 train / 10,000 test images" in printed
    assert "data: could not use full MNIST" not in printed  # no fallback notice
