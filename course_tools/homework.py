"""Homework from the chapters: otter-grader's notebook format in, student notebooks and tests out.

Instructor tooling; it needs the ``instructor`` extra (``pip install .[instructor]``).
A chapter holds its exercises, solutions and tests in otter-grader's format (an
``# ASSIGNMENT CONFIG`` raw cell, ``# BEGIN QUESTION`` blocks). ``otter assign`` splits it into

- ``OUT/<chapter>/student/<chapter>.ipynb``: solutions replaced by stubs, a check after each
  exercise. We make it self-contained: its public tests travel inside it, in one cell that writes
  them to ./tests, because a student on Colab has the notebook and nothing else;
- ``OUT/<chapter>/autograder/tests/``: public and hidden tests, for ``course_tools.grading``.

Run ``python -m course_tools.homework [BOOK_DIR] [OUT_DIR]`` (``make homework``).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

ASSIGNMENT_MARKER = "# ASSIGNMENT CONFIG"
ANSWER_TAG = "otter_answer_cell"  # otter's tag on the cells a student fills in
BOOK_ONLY_TAGS = {"hide-cell", "hide-input", "remove-cell"}
OTTER_SETUP_PREFIXES = ("%pip install -q otter-grader", "# Initialize Otter")
SOLUTION_MARKER_LINE = re.compile(r"^[ \t]*# (BEGIN|END) SOLUTION[ \t]*\n?", re.M)
SOLUTION_BLOCK = re.compile(r"# BEGIN SOLUTION\n(.*?)# END SOLUTION", re.S)


@dataclass(frozen=True)
class Homework:
    chapter: str  # the chapter's file name without .ipynb, e.g. "01_pca"
    student_notebook: Path  # what students get
    tests_dir: Path  # public and hidden tests, for grading
    solution_notebook: Path  # the chapter with solutions, as otter wrote it


def has_homework(notebook: Path) -> bool:
    nb = nbformat.read(notebook, as_version=4)
    return any(c.cell_type == "raw" and c.source.lstrip().startswith(ASSIGNMENT_MARKER) for c in nb.cells)


def chapters_with_homework(book_dir: Path) -> list[Path]:
    return [path for path in sorted(Path(book_dir).glob("*.ipynb")) if has_homework(path)]


def solution_cells(chapter: Path) -> list[str]:
    """The chapter's solution code cells, in order (between otter's BEGIN / END SOLUTION raw
    cells), with their markers: in order, the answers to its student copy's answer cells."""
    cells, inside = [], False
    for cell in nbformat.read(chapter, as_version=4).cells:
        text = cell.source.strip()
        if cell.cell_type == "raw" and text in ("# BEGIN SOLUTION", "# END SOLUTION"):
            inside = text == "# BEGIN SOLUTION"
        elif cell.cell_type == "code" and inside:
            cells.append(cell.source)
    return cells


def solution_only_lines(notebook: Path) -> list[str]:
    """Lines (over 12 characters) of the notebook's solution blocks that appear nowhere else in
    it: what a published copy without solutions must not hold."""
    sources = [cell.source for cell in nbformat.read(notebook, as_version=4).cells]
    outside = {line.strip() for source in sources for line in SOLUTION_BLOCK.sub("", source).splitlines()}
    return [line.strip() for source in sources for block in SOLUTION_BLOCK.findall(source)
            for line in block.splitlines() if len(line.strip()) > 12 and line.strip() not in outside]


def filled_copy(student_notebook: Path, answers: list[str], out: Path, extra: list[str] = ()) -> Path:
    """The student copy with ``answers`` (solution markers dropped) in its answer cells, and
    ``extra`` code cells right after its first code cell: a submission, written to ``out``."""
    nb = nbformat.read(student_notebook, as_version=4)
    cells = [c for c in nb.cells if ANSWER_TAG in c.metadata.get("tags", [])]
    if len(cells) != len(answers):
        raise ValueError(f"answers: {len(answers)} given for {len(cells)} answer cells")
    for cell, answer in zip(cells, answers):
        cell.source = SOLUTION_MARKER_LINE.sub("", answer)
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells[first_code + 1:first_code + 1] = [nbformat.v4.new_code_cell(code) for code in extra]
    nbformat.write(nb, out)
    return Path(out)


def checks_cell_source(public_tests: dict[str, str]) -> str:
    """The student notebook's cell that writes its public tests and starts otter's checker."""
    import otter

    blocks = []
    for name, source in sorted(public_tests.items()):
        if "'''" in source or source.endswith("\\"):
            raise ValueError(f"public test {name} cannot be embedded: it contains ''' or ends in \\")
        blocks.append(f"    {name!r}: r'''{source}''',")
    return "\n".join([
        "# Checks for the exercises: each `grader.check(...)` below runs the public tests",
        "# written here, and says what is still wrong. Run this cell first; do not edit it.",
        "import pathlib",
        "import sys",
        "",
        'if "google.colab" in sys.modules:',
        f"    %pip install --quiet otter-grader=={otter.__version__}",
        "",
        "PUBLIC_TESTS = {",
        *blocks,
        "}",
        'pathlib.Path("tests").mkdir(exist_ok=True)',
        "for name, source in PUBLIC_TESTS.items():",
        '    (pathlib.Path("tests") / name).write_text(source)',
        "",
        "import otter",
        "",
        'grader = otter.Notebook(tests_dir="tests")',
    ])


def make_self_contained(student_notebook: Path, public_tests_dir: Path) -> None:
    """Swap otter's setup cells for one that carries the public tests; drop book-only tags."""
    nb = nbformat.read(student_notebook, as_version=4)
    nb.cells = [c for c in nb.cells
                if not (c.cell_type == "code" and c.source.startswith(OTTER_SETUP_PREFIXES))]
    answers = [i for i, c in enumerate(nb.cells) if ANSWER_TAG in c.metadata.get("tags", [])]
    if not answers:
        raise ValueError(f"{student_notebook}: otter wrote no answer cells")
    prompt = max(i for i in range(answers[0]) if nb.cells[i].cell_type == "markdown")
    tests = {path.name: path.read_text() for path in sorted(Path(public_tests_dir).glob("*.py"))}
    nb.cells.insert(prompt, nbformat.v4.new_code_cell(checks_cell_source(tests)))
    for cell in nb.cells:
        tags = [t for t in cell.metadata.get("tags", []) if t not in BOOK_ONLY_TAGS]
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)
    nbformat.write(nb, student_notebook)


def build_homework(chapter: Path, out_dir: Path) -> Homework:
    """Run otter assign on one chapter and make its student notebook self-contained."""
    from otter.assign import main as otter_assign

    chapter, name = Path(chapter).resolve(), Path(chapter).stem
    result = (Path(out_dir) / name).resolve()
    log = io.StringIO()
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        try:
            otter_assign(str(chapter), str(result), no_pdfs=True, no_run_tests=True)
        except Exception as error:
            raise RuntimeError(f"otter assign failed on {chapter}: {error}\n{log.getvalue()}") from error
    student = result / "student" / chapter.name
    make_self_contained(student, result / "student" / "tests")
    return Homework(name, student, result / "autograder" / "tests", result / "autograder" / chapter.name)


def build_all(book_dir: Path, out_dir: Path) -> list[Homework]:
    chapters = chapters_with_homework(book_dir)
    if not chapters:
        raise ValueError(f"book_dir={str(book_dir)!r}: no notebook there has an {ASSIGNMENT_MARKER!r} cell")
    return [build_homework(chapter, out_dir) for chapter in chapters]


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    book_dir, out_dir = Path(args[0] if args else "book"), Path(args[1] if len(args) > 1 else "homework")
    built = build_all(book_dir, out_dir)
    for homework in built:
        questions = sorted(p.stem for p in homework.tests_dir.glob("*.py"))
        print(f"{homework.chapter}: {len(questions)} questions ({', '.join(questions)})")
        print(f"  student notebook: {homework.student_notebook}")
        print(f"  grading tests:    {homework.tests_dir}")
    index = {h.chapter: {"student": str(h.student_notebook), "tests": str(h.tests_dir)} for h in built}
    (out_dir / "index.json").write_text(json.dumps(index, indent=2))


if __name__ == "__main__":
    main()
