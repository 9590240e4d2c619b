"""Homework, tested as a student and an instructor would meet it: build, leak check, grading.

Grading runs a whole chapter in a kernel (ci profile), so these tests take about a minute.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course_utils.grading import grade_submission
from course_utils.homework import ANSWER_TAG, build_all, chapters_with_homework

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = chapters_with_homework(ROOT / "book")
SOLUTION_MARKER = re.compile(r"^\s*# (BEGIN|END) SOLUTION\s*$", re.M)



def wrong_answers(chapter: str) -> dict:
    """tests/homework_answers/ch_<chapter>.py: the typical wrong answers for that chapter."""
    path = Path(__file__).parent / "homework_answers" / f"ch_{chapter}.py"
    if not path.exists():
        return {}
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace["WRONG_ANSWERS"]


@pytest.fixture(scope="module")
def homework(tmp_path_factory):
    built = build_all(ROOT / "book", tmp_path_factory.mktemp("homework"))
    return {h.chapter: h for h in built}


def source_blocks(chapter: Path):
    """The chapter's solution code cells (in order) and its hidden test cells."""
    solutions, hidden, in_solution = [], [], False
    for cell in nbformat.read(chapter, as_version=4).cells:
        text = cell.source.strip()
        if cell.cell_type == "raw" and text in ("# BEGIN SOLUTION", "# END SOLUTION"):
            in_solution = text == "# BEGIN SOLUTION"
        elif cell.cell_type == "code" and in_solution:
            solutions.append(cell.source)
        elif cell.cell_type == "code" and re.search(r"hidden:\s*true", cell.source):
            hidden.append(cell.source)
    return solutions, hidden


def solution_only_lines(source: str) -> list[str]:
    """Lines between # BEGIN SOLUTION and # END SOLUTION markers: what a student must not see."""
    lines = []
    for block in re.findall(r"# BEGIN SOLUTION\n(.*?)# END SOLUTION", source, re.S):
        lines += [line.strip() for line in block.splitlines() if len(line.strip()) > 12]
    return lines


def fill_answers(student: Path, answers: list[str], out: Path) -> Path:
    nb = nbformat.read(student, as_version=4)
    cells = [c for c in nb.cells if ANSWER_TAG in c.metadata.get("tags", [])]
    assert len(cells) == len(answers), "answer cells and solution cells do not pair up"
    for cell, answer in zip(cells, answers):
        cell.source = SOLUTION_MARKER.sub("", answer)
    nbformat.write(nb, out)
    return out


def reference_answers(chapter: str) -> list[str]:
    return source_blocks(ROOT / "book" / f"{chapter}.ipynb")[0]


def question_of_each_answer(student: Path) -> list[str]:
    """For each answer cell, the question whose grader.check follows it."""
    owners, pending = [], 0
    for cell in nbformat.read(student, as_version=4).cells:
        if ANSWER_TAG in cell.metadata.get("tags", []):
            pending += 1
        elif (match := re.search(r'grader\.check\("(\w+)"\)', cell.source)):
            owners += [match.group(1)] * pending
            pending = 0
    return owners


def grade(homework, chapter, answers, tmp_path, **timeouts):
    submission = fill_answers(homework[chapter].student_notebook, answers, tmp_path / "submission.ipynb")
    return grade_submission(submission, homework[chapter].tests_dir, **timeouts)


def test_every_chapter_has_homework_with_at_least_three_graded_questions(homework):
    chapters = sorted(p.stem for p in (ROOT / "book").glob("[0-9]*.ipynb"))
    assert chapters and sorted(homework) == chapters
    for name, built in homework.items():
        questions = sorted(p.stem for p in built.tests_dir.glob("*.py"))
        assert len(questions) >= 3, f"{name} has {questions}"
        assert sorted(wrong_answers(name)) == questions, (
            f"list a typical wrong answer per question in tests/homework_answers/ch_{name}.py")


@pytest.mark.parametrize("chapter", [p.stem for p in CHAPTERS])
def test_student_notebook_leaks_no_solution_and_no_hidden_test(homework, chapter):
    solutions, hidden = source_blocks(ROOT / "book" / f"{chapter}.ipynb")
    public = {line.strip() for cell in nbformat.read(ROOT / "book" / f"{chapter}.ipynb", as_version=4).cells
              for line in re.sub(r"# BEGIN SOLUTION\n.*?# END SOLUTION", "", cell.source, flags=re.S).splitlines()}
    secret_lines = [line for s in solutions for line in solution_only_lines(s) if line not in public]
    hidden_names = [re.search(r"def (test_\w+)", h).group(1) for h in hidden]
    assert secret_lines and hidden_names, "the leak test found nothing to look for"
    student_dir = homework[chapter].student_notebook.parent
    for path in [homework[chapter].student_notebook, *student_dir.rglob("*.py")]:
        text = path.read_text()
        for line in secret_lines:
            assert line not in text, f"solution line leaked into {path.name}: {line}"
        for name in hidden_names:
            assert name not in text, f"hidden test {name} leaked into {path.name}"
        assert "hidden=True" not in text and "BEGIN SOLUTION" not in text


@pytest.mark.parametrize("chapter", [p.stem for p in CHAPTERS])
def test_student_notebook_is_self_contained_and_opens_like_the_book(homework, chapter):
    student = nbformat.read(homework[chapter].student_notebook, as_version=4)
    book = nbformat.read(ROOT / "book" / f"{chapter}.ipynb", as_version=4)
    first_code = lambda nb: next(c.source for c in nb.cells if c.cell_type == "code")  # noqa: E731
    assert first_code(student) == first_code(book)  # the same Colab install cell
    checks = next(c.source for c in student.cells if "PUBLIC_TESTS = {" in c.source)
    for test_file in (homework[chapter].student_notebook.parent / "tests").glob("*.py"):
        assert f"r'''{test_file.read_text()}'''" in checks, f"{test_file.name} not carried in the notebook"
    assert not any(c.cell_type == "raw" for c in student.cells)


@pytest.mark.parametrize("chapter", [p.stem for p in CHAPTERS])
def test_student_notebook_runs_top_to_bottom_with_errors_only_in_answer_cells(homework, chapter, tmp_path):
    nb = nbformat.read(homework[chapter].student_notebook, as_version=4)
    NotebookClient(nb, timeout=300, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or ANSWER_TAG in cell.metadata.get("tags", []):
            continue
        errors = [f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"cell {i} ({cell.source[:60]!r}) raised {errors}"
    checks = [c for c in nb.cells if c.source.startswith("grader.check(")]
    assert checks and all(c.outputs for c in checks), "the checks printed no feedback"
    assert (tmp_path / "tests").is_dir()  # the public tests were written where otter looks


@pytest.mark.parametrize("chapter", [p.stem for p in CHAPTERS])
def test_reference_solutions_get_full_marks(homework, chapter, tmp_path):
    report = grade(homework, chapter, reference_answers(chapter), tmp_path)
    assert report.error is None
    assert report.score == report.possible > 0, report.to_dict()


@pytest.mark.parametrize("chapter", [p.stem for p in CHAPTERS])
def test_typical_wrong_answers_get_zero_with_useful_messages(homework, chapter, tmp_path):
    answers = reference_answers(chapter)
    owners = question_of_each_answer(homework[chapter].student_notebook)
    for question, (right, wrong, _) in wrong_answers(chapter).items():
        index = next(i for i, q in enumerate(owners) if q == question and right in answers[i])
        answers[index] = answers[index].replace(right, wrong)
    report = grade(homework, chapter, answers, tmp_path)
    for question, (_, _, hint) in wrong_answers(chapter).items():
        result = report.questions[question]
        assert result.score == 0, f"{question} kept {result.score} points for a wrong answer"
        assert any(hint in reason for reason in result.reasons), (question, result.reasons)


def test_crashing_and_endlessly_looping_answers_fail_with_a_reason(homework, tmp_path):
    chapter = "01_pca"
    answers = reference_answers(chapter)
    owners = question_of_each_answer(homework[chapter].student_notebook)
    crash = owners.index("q1")
    answers[crash] = answers[crash].replace("kept = pca.explained", "raise RuntimeError('not done yet')\n    kept = pca.explained")
    loop = owners.index("q3")
    answers[loop] = answers[loop].replace("basis = pca.components", "while True:\n        pass\n    basis = pca.components")
    report = grade(homework, chapter, answers, tmp_path, cell_timeout=15, test_timeout=3)
    q1, q3 = report.questions["q1"], report.questions["q3"]
    assert q1.score == 0 and any("RuntimeError: not done yet" in r for r in q1.reasons), q1
    assert q3.score == 0 and any("ran longer than 15 s and was stopped" in r for r in q3.reasons), q3
    assert any("ran longer than 3 s" in r for r in q3.reasons), q3
    for other in ("q2", "q4"):
        assert report.questions[other].passed, report.questions[other]


def test_a_submission_that_kills_its_kernel_or_is_not_a_notebook_fails_cleanly(homework, tmp_path):
    chapter = "01_pca"
    answers = reference_answers(chapter)
    answers[-1] = "import os\nos._exit(1)"
    report = grade(homework, chapter, answers, tmp_path, cell_timeout=30, test_timeout=3)
    assert report.score == 0 and report.error and "kernel" in report.error.lower()
    garbage = tmp_path / "garbage.ipynb"
    garbage.write_text("this is not json")
    report = grade_submission(garbage, homework[chapter].tests_dir)
    assert report.score == 0 and "not a readable notebook" in report.error
    assert all(q.reasons for q in report.questions.values())
    assert json.loads(json.dumps(report.to_dict()))["possible"] == report.possible
