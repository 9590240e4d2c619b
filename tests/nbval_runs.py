"""Keep what nbval ran: each chapter's outputs for the site test, its solutions' grades for homework.

A pytest plugin, registered by the conftest.py at the top of the repository.

``make test`` runs every chapter once under nbval with ``COURSE_EXECUTED_DIR`` set. For each
chapter whose cells all pass, these hooks write to that folder

- ``<chapter>.ipynb``: the chapter with the outputs and widget state of nbval's run, read from
  the kernel's messages by nbclient's own code (what jupyter-book would have stored). The site
  test renders these (tests/test_site.py) instead of executing every chapter again;
- ``<chapter>.grades.json``: for a chapter with exercises, the grade of its own solutions. After
  the last cell, the chapter's hidden tests (as ``otter assign`` writes them) run here, in the
  test process, and ask nbval's kernel for values and calls through the same requests and
  plain data as a sandboxed submission (``course_tools.student_kernel``), on a fresh seed.
  tests/test_homework.py expects full marks.

Each file records the SHA-256 of the chapter it came from, so a reader never takes a stale run.
Without ``COURSE_EXECUTED_DIR`` these hooks do nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXECUTED_DIR_ENV = "COURSE_EXECUTED_DIR"
RUN_KEY = "course_run"  # notebook metadata: where and how the outputs were made
TEST_TIMEOUT = 60  # seconds per grading test, as course_tools.grading's default


def source_digest(notebook: Path) -> str:
    return hashlib.sha256(Path(notebook).read_bytes()).hexdigest()


def _executed_dir() -> Path | None:
    value = os.environ.get(EXECUTED_DIR_ENV)
    return Path(value) if value else None


def _is_nbval_cell(item) -> bool:
    return type(item).__name__ == "IPyNbCell" and _executed_dir() is not None


def _run_of(notebook) -> ChapterRun:
    """The run of nbval's notebook collector, made at its first cell."""
    if "course_run" not in notebook.__dict__:
        notebook.course_run = ChapterRun(Path(str(notebook.fspath)))
    return notebook.course_run


class ChapterRun:
    """One notebook under nbval: a copy filled cell by cell from the kernel's messages."""

    def __init__(self, path: Path):
        import nbformat
        from nbclient import NotebookClient

        self.path = Path(path)
        self.nb = nbformat.read(self.path, as_version=4)
        self.code_cells = [(i, c) for i, c in enumerate(self.nb.cells) if c.cell_type == "code"]
        for _, cell in self.code_cells:
            cell.outputs, cell.execution_count = [], None
        # nbclient is used only to turn messages into outputs and widget state, never to execute
        self.client = NotebookClient(self.nb, record_timing=False)
        self.problems: list[str] = []  # why the run cannot stand for the chapter
        self.started = time.monotonic()

    def record(self, cell_num: int, messages: list[dict]) -> None:
        from nbclient.exceptions import CellExecutionComplete

        index, cell = self.code_cells[cell_num]
        cell.outputs, self.client.clear_before_next_output = [], False  # as nbclient starts a cell
        for message in messages:
            try:
                self.client.process_message(message, cell, index)
            except CellExecutionComplete:
                break

    def save(self, folder: Path, kernel) -> Path:
        import nbformat

        self.client.set_widgets_metadata()
        self.nb.metadata["language_info"] = language_info(kernel)  # the build picks its lexer by it
        name = self.path.stem
        digest = source_digest(self.path)
        self.nb.metadata[RUN_KEY] = {
            "source_sha256": digest, "seconds": round(time.monotonic() - self.started, 1),
            "profile": os.environ.get("COURSE_PROFILE"), "data": os.environ.get("COURSE_DATA")}
        folder.mkdir(parents=True, exist_ok=True)
        grades = grade_solutions(self.path, kernel)
        if grades is not None:
            grades["source_sha256"] = digest
            (folder / f"{name}.grades.json").write_text(json.dumps(grades, indent=1))
        out = folder / f"{name}.ipynb"
        nbformat.write(self.nb, out)
        return out


def language_info(kernel) -> dict:
    """What the kernel says of its language, as nbclient stores it in an executed notebook."""
    msg_id = kernel.kc.kernel_info()
    while True:
        reply = kernel.get_message(stream="shell", timeout=30)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"]["language_info"]


def kernel_answer(kernel, request: dict):
    """The answer of nbval's kernel to one grading request, as the sandboxed kernel gives it."""
    from course_tools import plain_data

    code = (f"import sys as _sys\n_sys.path.insert(0, {str(ROOT)!r})\n"
            "from course_tools.student_kernel import answer as _answer\n"
            f"print(_answer({request!r}, globals()))")
    msg_id = kernel.execute_cell_input(code, allow_stdin=False)
    printed = []
    while True:
        message = kernel.get_message(stream="iopub", timeout=TEST_TIMEOUT * 2)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        if message["msg_type"] == "stream" and message["content"]["name"] == "stdout":
            printed.append(message["content"]["text"])
        elif message["msg_type"] == "error":
            raise RuntimeError(f"answering {request.get('op')} raised {message['content']['ename']}")
        elif message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            break
    return plain_data.decode("".join(printed).strip().splitlines()[-1])


def grade_solutions(chapter: Path, kernel) -> dict | None:
    """Grade the kernel's state (the chapter's solutions) with the chapter's hidden tests."""
    import secrets

    from course_tools.grading import Student, empty_report, run_hidden_tests
    from course_tools.homework import build_homework, has_homework

    if not has_homework(chapter):
        return None
    with tempfile.TemporaryDirectory(prefix="reference-grading-") as scratch:
        built = build_homework(chapter, Path(scratch))
        report = empty_report(f"{chapter.name} (its solutions, in nbval's kernel)", built.tests_dir)
        report.seed = secrets.randbits(32)  # any seed must give full marks: a fresh one each run
        student = Student(lambda request: kernel_answer(kernel, request), TEST_TIMEOUT)
        return run_hidden_tests(student, built.tests_dir, report.seed, report).to_dict()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """Record the kernel messages of the cell nbval runs, and turn them into its outputs."""
    if not _is_nbval_cell(item):
        yield
        return
    notebook, kernel = item.parent, item.parent.kernel
    run = _run_of(notebook)
    sent, received = [], []
    get_message = notebook.get_kernel_message

    def recording_execute(cell_input, allow_stdin=None):
        # as a notebook front end runs a cell (nbclient, Colab): nbval's store_history=False
        # numbers every cell 0 and keeps a trailing ";" from hiding the cell's value
        sent.append(kernel.kc.execute(cell_input, store_history=True, allow_stdin=allow_stdin,
                                      stop_on_error=False))
        return sent[-1]

    def recording_get_message(*args, **kwargs):
        received.append(get_message(*args, **kwargs))
        return received[-1]

    kernel.execute_cell_input, notebook.get_kernel_message = recording_execute, recording_get_message
    try:
        yield
    finally:
        del kernel.execute_cell_input, notebook.get_kernel_message
    run.record(item.cell_num, [m for m in received if sent and m["parent_header"].get("msg_id") == sent[0]])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if _is_nbval_cell(item) and not report.passed:
        _run_of(item.parent).problems.append(f"{item.name}: {report.outcome} in {call.when}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a chapter's last cell, while its kernel still runs: grade and save the chapter."""
    if _is_nbval_cell(item) and (nextitem is None or nextitem.parent is not item.parent):
        run, kernel = _run_of(item.parent), item.parent.kernel
        if kernel is None or not kernel.is_alive():
            run.problems.append("the kernel died")
        if run.problems:  # no run stands for this chapter, not even an older one
            for old in _executed_dir().glob(f"{run.path.stem}.*"):
                old.unlink()
        else:
            run.save(_executed_dir(), kernel)
    yield
