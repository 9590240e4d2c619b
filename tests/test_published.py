"""What the course publishes serves nothing more than the homework's design allows (README,
Homework): hidden tests are public code whose inputs come from a seed drawn at grading time;
solutions are public, folded, in the default site; a semester's site has none.

- the package that the Colab install brings holds course_utils's modules only: no notebook,
  no solution block, no test (where an exercise re-derives a function of course_utils, such
  as chapter 12's combinator, the library's own version is of course there: README);
- every hidden test draws the inputs it sends from its seed, so its public code cannot be
  answered by hard-coding (the site publishes the chapters' notebooks as they are: checked
  in tests/test_site.py);
- a semester build (``COURSE_SOLUTIONS=hidden``, ``make book SOLUTIONS=hidden``) of a small
  book made like a chapter shows no solution anywhere in the site, pages, sources, downloads or
  search index; its downloads are the student copies and its Colab buttons open them; the
  default build of the same book keeps the solutions, folded. (The student copies themselves
  are checked in tests/test_homework.py.)
"""

from __future__ import annotations

import ast
import html
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml

from course_tools.book_sphinx import FOLDED_SOLUTIONS_NOTE, SEMESTER_NOTE
from course_tools.homework import build_homework, chapters_with_homework, solution_only_lines
from tests.tiny_homework import QUESTIONS, build_tiny_homework

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = chapters_with_homework(ROOT / "book")


def hidden_test_cells(notebook: Path) -> list[str]:
    return [c.source for c in nbformat.read(notebook, as_version=4).cells
            if c.cell_type == "code" and re.search(r"hidden:\s*true", c.source)]


def test_the_colab_package_holds_only_course_utils(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "course_utils", source / "course_utils",
                    ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(tmp_path / "wheel")], check=True)
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()  # the dist-info's METADATA holds the README, which is public
        text = "\n".join(archive.read(n).decode(errors="replace") for n in names
                         if n.startswith("course_utils/"))
    assert {n.split("/")[0] for n in names} <= {"course_utils", wheel.name.split("-")[0] + "-0.1.0.dist-info"}, names
    assert not any(n.endswith((".ipynb", ".yml")) for n in names), names
    for marker in ("# BEGIN SOLUTION", "# ASSIGNMENT CONFIG", "hidden: true", "BEGIN TEST CONFIG"):
        assert marker not in text, f"the package holds {marker!r}"
    for chapter in CHAPTERS:
        for cell in hidden_test_cells(chapter):
            name = re.search(r"def (test_\w+)", cell).group(1)
            assert name not in text, f"the package holds the hidden test {name}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_hidden_test_draws_what_it_sends_from_its_seed(chapter):
    cells = hidden_test_cells(chapter)
    assert cells, f"{chapter.name} has no hidden tests"
    for cell in cells:
        function = next(n for n in ast.parse(cell).body if isinstance(n, ast.FunctionDef))
        assert [a.arg for a in function.args.args] == ["student", "seed"], (
            f"{chapter.name}: {function.name} must take (student, seed), the grader's arguments")
        used = {n.id for n in ast.walk(function) if isinstance(n, ast.Name)}
        sends = "student.call(" in cell or "state=" in cell
        assert not sends or "seed" in used, (
            f"{chapter.name}: {function.name} sends inputs but never uses its seed: a student who "
            "reads it could hard-code the answers")
        assert not any(isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)
                       for n in ast.parse(cell).body), (
            f"{chapter.name}: the cell of {function.name} calls it: hidden tests run in the grader only")


def build_small_book(folder: Path, mode: str) -> subprocess.CompletedProcess:
    """The tiny homework's chapter as a book of its own, built like the course's."""
    homework = build_tiny_homework(folder / "homework")
    book = folder / "book"
    book.mkdir()
    shutil.copy(homework.student_notebook.parents[3] / "tiny.ipynb", book / "tiny.ipynb")
    nb = nbformat.read(book / "tiny.ipynb", as_version=4)  # the chapters' note, and folded solutions
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(f"## Exercises\n\n{FOLDED_SOLUTIONS_NOTE}; try first."))
    for cell in nb.cells:
        if cell.cell_type == "code" and "# BEGIN SOLUTION" in cell.source:
            cell.metadata["tags"] = ["hide-cell"]
    nbformat.write(nb, book / "tiny.ipynb")
    (book / "intro.md").write_text("# A small book\n")
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: tiny\n")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    (book / "_config.yml").write_text(yaml.safe_dump({
        "title": "A small book", "only_build_toc_files": True,
        "execute": {"execute_notebooks": "force", "timeout": 120},
        "repository": config["repository"], "launch_buttons": config["launch_buttons"],
        "sphinx": {"local_extensions": {"course_tools.book_sphinx": str(ROOT)}}}))
    env = {**os.environ, "COURSE_SOLUTIONS": mode}
    return subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", str(book)],
                          env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def small_books(tmp_path_factory):
    built = {}
    for mode in ("folded", "hidden"):
        folder = tmp_path_factory.mktemp(f"book-{mode}")
        result = build_small_book(folder, mode)
        assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
        built[mode] = folder
    return built


def readable(path: Path) -> str:
    """A file's text; a page's as a reader reads it (highlighting splits code into spans)."""
    text = path.read_text(errors="replace")
    return html.unescape(re.sub(r"<[^>]+>", "", text)) if path.suffix == ".html" else text


def site_text(site: Path) -> str:
    """Every page, source, download and the search index (not the theme's own _static files)."""
    return "\n".join(readable(p) for p in sorted(site.rglob("*"))
                     if p.is_file() and p.suffix in (".html", ".js", ".ipynb", ".txt", ".json")
                     and "_static" not in p.relative_to(site).parts)


def colab_links(page: Path) -> list[str]:
    return re.findall(r'href="(https://colab\.research\.google\.com[^"]+)"', page.read_text())


def test_a_semester_site_shows_no_solution_and_opens_the_student_copy(small_books):
    folder = small_books["hidden"]
    site = folder / "book" / "_build" / "html"
    lines = solution_only_lines(folder / "homework" / "tiny.ipynb")
    assert lines, "found no solution lines to look for"
    text = site_text(site)
    leaked = [line for line in lines if line in text]
    assert not leaked, f"the semester site shows solution lines: {leaked}"
    download = nbformat.read(site / "_sources" / "tiny.ipynb", as_version=4)
    built = build_homework(folder / "book" / "tiny.ipynb", folder / "student-copy")
    student = nbformat.read(built.student_notebook, as_version=4)
    assert [c.source for c in download.cells] == [c.source for c in student.cells]
    links = colab_links(site / "tiny.html")
    assert links and all(link.endswith("/blob/main/student/tiny.ipynb") for link in links), links
    page = readable(site / "tiny.html")
    assert re.search(r"def plus_one\(a\):\s+\.\.\.", page), "the exercise is not there as a stub"
    assert "Show code cell" not in page and "folded solution" not in page  # stubs shown, note changed
    assert SEMESTER_NOTE in page


def test_the_default_site_keeps_the_solutions_folded(small_books):
    folder = small_books["folded"]
    site = folder / "book" / "_build" / "html"
    solution = QUESTIONS["q1"][0].splitlines()[2].strip()  # "done = a + 1"
    page = readable(site / "tiny.html")
    assert solution in page and "Show code cell" in page and FOLDED_SOLUTIONS_NOTE in page
    links = colab_links(site / "tiny.html")
    assert links and all(link.endswith("/blob/main/tiny.ipynb") for link in links), links


def test_a_bad_solutions_switch_stops_the_build_naming_it(tmp_path):
    result = build_small_book(tmp_path, "secret")
    assert result.returncode != 0
    assert "$COURSE_SOLUTIONS='secret': expected one of folded, hidden" in result.stdout + result.stderr
