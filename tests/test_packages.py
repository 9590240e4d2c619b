"""The two packages keep their jobs: course_utils is what chapters import (and what the Colab
install brings), course_tools builds the book and grades homework and is never packaged."""

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ("grading", "homework", "book_pdf", "browser", "site_assets", "book_sphinx", "compat",
         "sandbox", "plain_data", "student_kernel")


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_course_utils_is_packaged_for_colab():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["tool"]["setuptools"]["packages"] == ["course_utils"]


def test_the_tools_live_in_course_tools_not_course_utils():
    for name in TOOLS:
        assert (ROOT / "course_tools" / f"{name}.py").is_file(), name
        assert not (ROOT / "course_utils" / f"{name}.py").exists(), name


def test_course_utils_never_imports_course_tools():
    for path in sorted((ROOT / "course_utils").glob("*.py")):
        bad = {m for m in imported_modules(path) if m.split(".")[0] == "course_tools"}
        assert not bad, f"{path.name} imports {sorted(bad)}: chapters' package must not need the tools"


def test_the_execution_cache_key_covers_only_what_chapters_import():
    makefile = (ROOT / "Makefile").read_text()
    key_line = next(line for line in makefile.splitlines() if line.startswith("CACHE_KEY_FILES"))
    assert "course_utils/*.py" in key_line and "course_tools" not in key_line


def test_the_ranges_accept_every_version_colab_has():
    """The Colab install cell must replace none of Colab's libraries: each range in pyproject.toml
    accepts the version course_tools.compat pins (ipywidgets>=8.0 once replaced Colab's 7.7.1)."""
    from packaging.requirements import Requirement

    from course_tools.compat import COLAB

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requirements = [Requirement(line) for line in pyproject["project"]["dependencies"]]
    assert {r.name for r in requirements} <= set(COLAB), "a dependency compat does not pin"
    for requirement in requirements:
        version = COLAB[requirement.name]
        assert requirement.specifier.contains(version), (
            f"pyproject.toml's {requirement} would replace Colab's {requirement.name} {version}")


def test_compat_spots_a_replaced_version():
    from course_tools.compat import COLAB, replaced

    before = {name: version for name, version in COLAB.items()}
    assert replaced(before, dict(before)) == []
    after = {**before, "ipywidgets": "8.1.9"}
    assert replaced(before, after) == ["ipywidgets 7.7.1 -> 8.1.9"]
