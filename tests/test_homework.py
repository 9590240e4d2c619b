"""Homework, tested as a student and an instructor would meet it: build, leak check, grading.

Grading runs a whole chapter in a kernel (ci profile), so each chapter costs three executions;
they run ahead of the tests, several at a time (see ``runs``).
"""

from __future__ import annotations

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course_utils.grading import GRADING_ENV, grade_submission
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


def grade(homework, chapter, answers, tmp_path, **options):
    submission = fill_answers(homework[chapter].student_notebook, answers, tmp_path / "submission.ipynb")
    return grade_submission(submission, homework[chapter].tests_dir, **options)


def with_wrong_answers(homework, chapter: str) -> list[str]:
    """The reference answers with each question's typical wrong answer swapped in."""
    answers = reference_answers(chapter)
    owners = question_of_each_answer(homework[chapter].student_notebook)
    for question, (right, wrong, _) in wrong_answers(chapter).items():
        index = next(i for i, q in enumerate(owners) if q == question and right in answers[i])
        answers[index] = answers[index].replace(right, wrong)
    return answers


# ----- the notebook executions, run ahead of the tests that check them --------------------
# Each test below executes a whole chapter in a kernel (ci profile). They are started together
# when the module's first test runs, PARALLEL_RUNS at a time with one thread per kernel (two
# one-thread kernels get through ~1.5x the work of one two-thread kernel on a 2-core machine);
# each test then waits for its own run, so the assertions stay in the tests.
PARALLEL_RUNS = min(4, os.cpu_count() or 1)


def run_top_to_bottom(homework, chapter, workdir, env):
    nb = nbformat.read(homework[chapter].student_notebook, as_version=4)
    NotebookClient(nb, timeout=300, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(workdir)}}).execute(env=env)
    return nb, workdir


def grade_reference(homework, chapter, workdir, env):
    return grade(homework, chapter, reference_answers(chapter), workdir, env=env)


def grade_wrong_answers(homework, chapter, workdir, env):
    return grade(homework, chapter, with_wrong_answers(homework, chapter), workdir, env=env)


def grade_crashing_and_looping(homework, chapter, workdir, env):
    answers = reference_answers(chapter)
    owners = question_of_each_answer(homework[chapter].student_notebook)
    crash = owners.index("q1")
    answers[crash] = answers[crash].replace("kept = pca.explained", "raise RuntimeError('not done yet')\n    kept = pca.explained")
    loop = owners.index("q3")
    answers[loop] = answers[loop].replace("basis = pca.components", "while True:\n        pass\n    basis = pca.components")
    return grade(homework, chapter, answers, workdir, cell_timeout=15, test_timeout=3, env=env)


def grade_kernel_killer(homework, chapter, workdir, env):
    answers = reference_answers(chapter)
    answers[-1] = "import os\nos._exit(1)"
    return grade(homework, chapter, answers, workdir, cell_timeout=30, test_timeout=3, env=env)


RUNS = {  # test name -> the execution it checks
    "test_student_notebook_runs_top_to_bottom_with_errors_only_in_answer_cells": run_top_to_bottom,
    "test_reference_solutions_get_full_marks": grade_reference,
    "test_typical_wrong_answers_get_zero_with_useful_messages": grade_wrong_answers,
    "test_crashing_and_endlessly_looping_answers_fail_with_a_reason": grade_crashing_and_looping,
    "test_a_submission_that_kills_its_kernel_or_is_not_a_notebook_fails_cleanly": grade_kernel_killer,
}
UNPARAMETRIZED_CHAPTER = "01_pca"


@pytest.fixture(scope="module")
def runs(homework, request, tmp_path_factory):
    """Start the executions of every selected test in this module; returns run(test_name, chapter)."""
    env = {**os.environ, **GRADING_ENV, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "COURSE_DATA_DIR": str(tmp_path_factory.mktemp("course-data-cache"))}
    pool = ThreadPoolExecutor(PARALLEL_RUNS)
    futures = {}
    for item in request.session.items:
        job = RUNS.get(getattr(item, "originalname", None))
        if job is None or item.module is not request.module:
            continue
        chapter = item.callspec.params["chapter"] if hasattr(item, "callspec") else UNPARAMETRIZED_CHAPTER
        workdir = tmp_path_factory.mktemp(f"run-{chapter}")
        futures[item.originalname, chapter] = pool.submit(job, homework, chapter, workdir, env)
    yield lambda name, chapter=UNPARAMETRIZED_CHAPTER: futures[name, chapter].result()
    pool.shutdown(cancel_futures=True)


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
def test_student_notebook_runs_top_to_bottom_with_errors_only_in_answer_cells(runs, chapter):
    nb, workdir = runs("test_student_notebook_runs_top_to_bottom_with_errors_only_in_answer_cells", chapter)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "profile:  ci" in printed, "the student notebook did not run in the ci profile"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or ANSWER_TAG in cell.metadata.get("tags", []):
            continue
        errors = [f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"cell {i} ({cell.source[:60]!r}) raised {errors}"
    checks = [c for c in nb.cells if c.source.startswith("grader.check(")]
    assert checks and all(c.outputs for c in checks), "the checks printed no feedback"
    assert (workdir / "tests").is_dir()  # the public tests were written where otter looks


@pytest.mark.parametrize("chapter", [p.stem for p in CHAPTERS])
def test_reference_solutions_get_full_marks(runs, chapter):
    report = runs("test_reference_solutions_get_full_marks", chapter)
    assert report.error is None
    assert report.score == report.possible > 0, report.to_dict()


@pytest.mark.parametrize("chapter", [p.stem for p in CHAPTERS])
def test_typical_wrong_answers_get_zero_with_useful_messages(runs, chapter):
    report = runs("test_typical_wrong_answers_get_zero_with_useful_messages", chapter)
    for question, (_, _, hint) in wrong_answers(chapter).items():
        result = report.questions[question]
        assert result.score == 0, f"{question} kept {result.score} points for a wrong answer"
        assert any(hint in reason for reason in result.reasons), (question, result.reasons)


def test_crashing_and_endlessly_looping_answers_fail_with_a_reason(runs):
    report = runs("test_crashing_and_endlessly_looping_answers_fail_with_a_reason")
    q1, q3 = report.questions["q1"], report.questions["q3"]
    assert q1.score == 0 and any("RuntimeError: not done yet" in r for r in q1.reasons), q1
    assert q3.score == 0 and any("ran longer than 15 s and was stopped" in r for r in q3.reasons), q3
    assert any("ran longer than 3 s" in r for r in q3.reasons), q3
    for other in ("q2", "q4"):
        assert report.questions[other].passed, report.questions[other]


def test_a_submission_that_kills_its_kernel_or_is_not_a_notebook_fails_cleanly(runs, homework, tmp_path):
    report = runs("test_a_submission_that_kills_its_kernel_or_is_not_a_notebook_fails_cleanly")
    assert report.score == 0 and report.error and "kernel" in report.error.lower()
    garbage = tmp_path / "garbage.ipynb"
    garbage.write_text("this is not json")
    report = grade_submission(garbage, homework[UNPARAMETRIZED_CHAPTER].tests_dir)
    assert report.score == 0 and "not a readable notebook" in report.error
    assert all(q.reasons for q in report.questions.values())
    assert json.loads(json.dumps(report.to_dict()))["possible"] == report.possible
