"""Homework, tested as a student and an instructor would meet it: build, leak check, grading.

Grading runs a whole chapter in a kernel (ci profile). Each chapter is executed here once, as a
student copy that is graded; its solutions are graded in its nbval run (see ``runs``).
"""

from __future__ import annotations

import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from course_tools.grading import CHECK_CALL, GradeReport, grade_submission
from course_tools.homework import (ANSWER_TAG, build_all, chapters_with_homework, filled_copy,
                                   SOLUTION_MARKER_LINE, solution_cells, solution_only_lines)
from tests.nbval_runs import EXECUTED_DIR_ENV, RUN_KEY, source_digest
from tests.tiny_homework import build_tiny_homework, solutions

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = chapters_with_homework(ROOT / "book")


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


def hidden_test_names(chapter: Path) -> list[str]:
    return [re.search(r"def (test_\w+)", c.source).group(1) for c in nbformat.read(chapter, as_version=4).cells
            if c.cell_type == "code" and re.search(r"hidden:\s*true", c.source)]


def reference_answers(chapter: str) -> list[str]:
    return solution_cells(ROOT / "book" / f"{chapter}.ipynb")


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
    submission = filled_copy(homework[chapter].student_notebook, answers, tmp_path / "submission.ipynb")
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
# Each chapter is executed once here, as a student copy: the copy as handed out, then every
# answer again with its typical wrong answer (see `student_copy_then_wrong_answers`), graded
# once. Its solutions' full marks come from the chapter's nbval run, which grades them in its
# own kernel (conftest.py at the top) when `make test` passes COURSE_EXECUTED_DIR; without it,
# the reference is graded here in a run of its own. The crash, endless-loop and dead-kernel
# cases run on a tiny homework made here, not on a chapter.
# The runs start together when the module's first test needs one, PARALLEL_RUNS at a time with
# one thread per kernel (two one-thread kernels get through ~1.5x the work of one two-thread
# kernel on a 2-core machine), longest first where nbval recorded how long a chapter took.
PARALLEL_RUNS = min(4, os.cpu_count() or 1)
EXECUTED_DIR = os.environ.get(EXECUTED_DIR_ENV)


def student_copy_then_wrong_answers(homework, chapter: str, out: Path) -> tuple[Path, int]:
    """The student copy untouched, then each answer cell with the typical wrong answers swapped
    in and followed by its check: a student who ran the copy, then answered and re-ran the
    exercises. Returns the notebook and the number of cells of the untouched copy."""
    nb = nbformat.read(homework[chapter].student_notebook, as_version=4)
    answers = iter(with_wrong_answers(homework, chapter))
    again = []
    for cell in nb.cells:
        if ANSWER_TAG in cell.metadata.get("tags", []):
            again.append(nbformat.v4.new_code_cell(SOLUTION_MARKER_LINE.sub("", next(answers)),
                                                   metadata={"tags": [ANSWER_TAG]}))
        elif cell.cell_type == "code" and CHECK_CALL.search(cell.source):
            again.append(nbformat.v4.new_code_cell(cell.source))
    untouched = len(nb.cells)
    nb.cells += again
    nbformat.write(nb, out)
    return out, untouched


def run_student_copy(homework, chapter, workdir):
    notebook, untouched = student_copy_then_wrong_answers(homework, chapter, workdir / "submission.ipynb")
    return grade_submission(notebook, homework[chapter].tests_dir), untouched


def grade_reference(homework, chapter, workdir):
    return grade(homework, chapter, reference_answers(chapter), workdir)


def executed_seconds(chapter: str) -> float:
    """How long nbval took on the chapter, if it recorded that (0 otherwise)."""
    path = Path(EXECUTED_DIR or "/nonexistent") / f"{chapter}.ipynb"
    if not path.exists():
        return 0.0
    return nbformat.read(path, as_version=4).metadata.get(RUN_KEY, {}).get("seconds", 0.0)


# a homework small enough to run in seconds, for what the grader does with broken submissions
CELL_TIMEOUT, TEST_TIMEOUT = 6, 2  # seconds, for its endless loop


@pytest.fixture(scope="module")
def tiny_homework(tmp_path_factory):
    """A four-question homework in otter's format, built the way `make homework` builds chapters."""
    return build_tiny_homework(tmp_path_factory.mktemp("tiny-homework"))


def grade_tiny(tiny_homework, answers, workdir, **options) -> GradeReport:
    return grade_submission(filled_copy(tiny_homework.student_notebook, answers, workdir / "submission.ipynb"),
                            tiny_homework.tests_dir, **options)


def grade_crashing_and_looping(tiny_homework, workdir):
    answers = solutions()
    answers[0] = answers[0].replace("done = a + 1", "raise RuntimeError('not done yet')")
    answers[2] = answers[2].replace("result = 3 * a", "while True:\n        pass")
    return grade_tiny(tiny_homework, answers, workdir, cell_timeout=CELL_TIMEOUT,
                      test_timeout=TEST_TIMEOUT)


def grade_kernel_killer(tiny_homework, workdir):
    answers = solutions()
    answers[-1] = "import os\nos._exit(1)"
    return grade_tiny(tiny_homework, answers, workdir, cell_timeout=CELL_TIMEOUT,
                      test_timeout=TEST_TIMEOUT)


RUNS = {  # test name -> the execution it checks; chapter=None: the tiny homework
    "test_student_notebook_runs_top_to_bottom_with_errors_only_in_answer_cells": run_student_copy,
    "test_typical_wrong_answers_get_zero_with_useful_messages": run_student_copy,
    "test_reference_solutions_get_full_marks": None if EXECUTED_DIR else grade_reference,
    "test_crashing_and_endlessly_looping_answers_fail_with_a_reason": grade_crashing_and_looping,
    "test_a_submission_that_kills_its_kernel_or_is_not_a_notebook_fails_cleanly": grade_kernel_killer,
}


@pytest.fixture(scope="module")
def runs(homework, tiny_homework, request, tmp_path_factory, bubblewrap):
    """Start the executions the selected tests of this module need; returns run(test_name, chapter).
    Each is graded as the grader grades: in a sandboxed kernel of one thread."""
    jobs = {}  # (job, chapter), in order (a dict as an ordered set): one run for all its tests
    for item in request.session.items:
        job = RUNS.get(getattr(item, "originalname", None))
        if job is None or item.module is not request.module:
            continue
        chapter = item.callspec.params["chapter"] if hasattr(item, "callspec") else None
        jobs.setdefault((job, chapter), None)
    pool = ThreadPoolExecutor(PARALLEL_RUNS)
    futures, seconds = {}, {}

    def timed(job, chapter, *arguments):
        started = time.monotonic()
        try:
            return job(*arguments)
        finally:
            seconds[f"{job.__name__} {chapter or 'tiny homework'}"] = time.monotonic() - started

    for job, chapter in sorted(jobs, key=lambda key: -executed_seconds(key[1] or "")):
        workdir = tmp_path_factory.mktemp(f"run-{chapter or 'tiny'}")
        arguments = (tiny_homework,) if chapter is None else (homework, chapter)
        futures[job, chapter] = pool.submit(timed, job, chapter, *arguments, workdir)
    yield lambda name, chapter=None: futures[RUNS[name], chapter].result()
    pool.shutdown(cancel_futures=True)
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():  # how long each run took, for make test's record
        print(f"\nhomework runs, {PARALLEL_RUNS} at a time (seconds):")
        for name, value in sorted(seconds.items(), key=lambda item: -item[1]):
            print(f"{value:7.1f}  {name}")


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
    secret_lines = solution_only_lines(ROOT / "book" / f"{chapter}.ipynb")
    hidden_names = hidden_test_names(ROOT / "book" / f"{chapter}.ipynb")
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
    report, untouched = runs("test_student_notebook_runs_top_to_bottom_with_errors_only_in_answer_cells", chapter)
    nb = report.notebook  # the untouched copy, its exercises again with wrong answers, grading
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "profile:  ci" in printed, "the student notebook did not run in the ci profile"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or ANSWER_TAG in cell.metadata.get("tags", []):
            continue
        errors = [f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"cell {i} ({cell.source[:60]!r}) raised {errors}"
    checks = [c for c in nb.cells[:untouched] if c.source.startswith("grader.check(")]
    assert checks, "the student copy has no checks"
    for check in checks:  # otter found the public tests the notebook wrote, and ran them
        question = CHECK_CALL.search(check.source).group(1)
        shown = "".join(str(o.get("data", {}).get("text/plain", "")) + o.get("text", "") for o in check.outputs)
        assert f"{question} results" in shown, f"{check.source!r} printed {shown[:300]!r}"


@pytest.mark.parametrize("chapter", [p.stem for p in CHAPTERS])
def test_reference_solutions_get_full_marks(runs, chapter):
    if EXECUTED_DIR:  # graded in the kernel of the chapter's nbval run
        path = Path(EXECUTED_DIR) / f"{chapter}.grades.json"
        assert path.exists(), (f"{path} is missing: the nbval run of {chapter} failed, or did not "
                               f"run with {EXECUTED_DIR_ENV} set (see conftest.py)")
        data = json.loads(path.read_text())
        assert data["source_sha256"] == source_digest(ROOT / "book" / f"{chapter}.ipynb"), \
            f"{path} was graded from an older version of the chapter"
        report = GradeReport.from_dict(data)
    else:
        report = runs("test_reference_solutions_get_full_marks", chapter)
    assert report.error is None
    assert report.score == report.possible > 0, report.to_dict()


@pytest.mark.parametrize("chapter", [p.stem for p in CHAPTERS])
def test_typical_wrong_answers_get_zero_with_useful_messages(runs, chapter):
    report, _ = runs("test_typical_wrong_answers_get_zero_with_useful_messages", chapter)
    assert report.error is None, report.error
    for question, (_, _, hint) in wrong_answers(chapter).items():
        result = report.questions[question]
        assert result.score == 0, f"{question} kept {result.score} points for a wrong answer"
        assert any(hint in reason for reason in result.reasons), (question, result.reasons)


def test_crashing_and_endlessly_looping_answers_fail_with_a_reason(runs):
    report = runs("test_crashing_and_endlessly_looping_answers_fail_with_a_reason")
    q1, q3 = report.questions["q1"], report.questions["q3"]
    assert q1.score == 0 and any("RuntimeError: not done yet" in r for r in q1.reasons), q1
    assert q3.score == 0 and any(f"ran longer than {CELL_TIMEOUT} s and was stopped" in r
                                 for r in q3.reasons), q3
    assert any(f"ran longer than {TEST_TIMEOUT} s" in r for r in q3.reasons), q3
    for other in ("q2", "q4"):
        assert report.questions[other].passed, report.questions[other]


def test_a_submission_that_kills_its_kernel_or_is_not_a_notebook_fails_cleanly(runs, tiny_homework, tmp_path):
    report = runs("test_a_submission_that_kills_its_kernel_or_is_not_a_notebook_fails_cleanly")
    assert report.score == 0 and report.error and "kernel" in report.error.lower()
    garbage = tmp_path / "garbage.ipynb"
    garbage.write_text("this is not json")
    report = grade_submission(garbage, tiny_homework.tests_dir)
    assert report.score == 0 and "not a readable notebook" in report.error
    assert all(q.reasons for q in report.questions.values())
    assert json.loads(json.dumps(report.to_dict()))["possible"] == report.possible
