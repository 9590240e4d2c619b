"""The book's structure: every chapter is listed, committed without outputs, and opens the same way."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def code_cells(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def test_there_are_chapters():
    assert NOTEBOOKS, "no notebooks under book/"


def test_every_toc_entry_exists_and_every_notebook_is_listed():
    listed = toc_files()
    for entry in listed:
        assert any((ROOT / f"{entry}{suffix}").exists() for suffix in (".md", ".ipynb")), entry
    for notebook in NOTEBOOKS:
        assert str(notebook.relative_to(ROOT).with_suffix("")) in listed, f"{notebook.name} not in _toc.yml"


def test_navigation_lists_chapters_in_slide_order():
    # chapters are numbered in the order of the lectures; the sidebar follows the numbers
    numbered = [Path(f).name for f in toc_files() if re.match(r"\d\d_", Path(f).name)]
    assert numbered == sorted(numbered)
    assert numbered == [p.stem for p in NOTEBOOKS]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(notebook):
    for i, cell in enumerate(code_cells(notebook)):
        assert cell.get("outputs") == [], f"code cell {i} has stored outputs: run `make strip`"
        assert cell.get("execution_count") is None, f"code cell {i} has an execution count"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_uses_the_python3_kernel(notebook):
    # a custom kernel name breaks both nbval and the book build
    assert json.loads(notebook.read_text())["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_opens_with_colab_install_then_setup_check(notebook):
    first, second = ("".join(c["source"]) for c in code_cells(notebook)[:2])
    assert '"google.colab" in sys.modules' in first and "pip install" in first
    assert "course-utils @ git+https://" in first
    assert "start_chapter(" in second


def test_colab_install_cells_point_at_the_configured_repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]["url"].removeprefix("https://")
    branch = config["repository"]["branch"]
    for notebook in NOTEBOOKS:
        first = "".join(code_cells(notebook)[0]["source"])
        assert f'REPO = "{repo}"' in first and f"@{branch}" in first, notebook.name


def test_book_execution_fails_on_errors_and_has_a_colab_button():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["allow_errors"] is False
    assert config["execute"]["raise_on_error"] is True
    assert config["launch_buttons"]["colab_url"].startswith("https://colab.research.google.com")


def test_pins_satisfy_the_package_ranges_and_conda_uses_the_same_pins():
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            req = Requirement(line)
            (version,) = [spec.version for spec in req.specifier]
            pins[req.name.lower()] = version
    pyproject = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"dependencies = \[(.*?)\]", pyproject, re.S).group(1)
    for entry in re.findall(r'"([^"]+)"', block):
        req = Requirement(entry)
        assert req.name.lower() in pins, f"{req.name} has no pin in requirements.txt"
        assert req.specifier.contains(pins[req.name.lower()]), f"pin {req.name}=={pins[req.name.lower()]} outside {req.specifier}"
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert pip_section == ["-r requirements.txt"]
