"""Hostile submissions against the grader (course_tools.grading): issue 18's attacks, and more.

One command grades them all, two at a time, beside an honest submission and the untouched
student copy of a four-question homework (tests/tiny_homework.py). For every attack: it scores
no more than the untouched copy; the honest submission keeps full marks; grading it takes at
most the cell limit plus a small constant; every question it lost has a reason, none empty.
Then what each attack aimed at is checked from outside: the hidden tests, the grader's
environment, other submissions and the results are untouched and unread, the grader's memory
did not grow, and nothing it started is still running.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import time
from pathlib import Path

import pytest

from course_tools import sandbox
from course_tools.grading import GradeReport, grade_all, main
from course_tools.homework import ANSWER_TAG, filled_copy
from tests.tiny_homework import HIDDEN_MARKER, build_tiny_homework, solutions

pytestmark = pytest.mark.usefixtures("bubblewrap")

# seconds. A cell gets 15: on a busy 2-core machine (CI runs the notebooks beside these tests)
# an honest cell took more than 5 s, and an attack's output more than 8 s to reach the output
# limit, so both were stopped by the time limit instead.
CELL_TIMEOUT, TEST_TIMEOUT, GRACE = 15, 3, 3
SLACK = 30  # seconds for a kernel's start and the rest, on a busy 2-core machine
SECRET = "grader-secret-token-91d2"  # in the grader's environment while it grades
MARKER = "attack-process-marker-77ab"  # in the command line of every process an attack starts


def lying(question: int, code: str) -> dict[int, str]:
    """``code`` as the answer to question ``question`` (1-based); the others stay stubs."""
    return {question: code}


def attacks(paths: dict[str, str]) -> dict[str, tuple[dict[int, str] | None, list[str]]]:
    """name: (answers in place of stubs, or None; extra cells run before the answers)."""
    victim, results, tests = paths["victim"], paths["results"], paths["tests"]
    spawn = ("import subprocess, sys\n"
             "subprocess.Popen([sys.executable, '-c', {code!r}], {options})")
    writer = (f"# {MARKER}\nimport time\nfor _ in range(3000):\n"
              f"    for path in ({victim!r}, {results!r}, {tests + '/q1.py'!r}):\n"
              "        try:\n            open(path, 'w').write('{}')\n        except OSError:\n            pass\n"
              "    time.sleep(0.02)")
    return {
        # forged scores
        "patches json": (None, ["import json\njson.dump = lambda *a, **k: None\n"
                                "json.dumps = lambda *a, **k: '{\"ok\": true, \"value\": \"forged\"}'"]),
        "patches otter": (None, ["from otter.test_files.exception_test import ExceptionTestFile\n"
                                 "from otter.test_files.abstract_test import TestFile\n"
                                 "ExceptionTestFile.run = lambda self, env: None\n"
                                 "TestFile.score = property(lambda self: 9)\n"
                                 "TestFile.possible = property(lambda self: 9)"]),
        "rewrites later cells": (None, ["get_ipython().input_transformers_post.append(\n"
                                        "    lambda lines: ['grade = {\"q1\": 1, \"q2\": 1, \"q3\": 1, \"q4\": 1}\\n'])"]),
        "writes results then exits": (None, ["import os\n"
                                             "def hook(*args):\n"
                                             "    try:\n"
                                             f"        open({results!r}, 'w').write('[]')\n"
                                             "    finally:\n"
                                             "        os._exit(0)\n"
                                             "get_ipython().events.register('pre_run_cell', hook)"]),
        "int that equals anything": (lying(1, "class Lying(int):\n    def __eq__(self, other):\n        return True\n"
                                              "    __hash__ = int.__hash__\n\ndef plus_one(a):\n    return Lying(0)"), []),
        "object that equals anything": (lying(3, "class Equal:\n    def __eq__(self, other):\n        return True\n\n"
                                                 "def triple(a):\n    return Equal()\n\nnine = Equal()"), []),
        "tensor whose difference is zero": (lying(2, "import torch\n\nclass Zero(torch.Tensor):\n"
                                                     "    def __sub__(self, other):\n        return torch.zeros(5)\n"
                                                     "    __rsub__ = __sub__\n\n"
                                                     "def double(a):\n    return torch.zeros(5).as_subclass(Zero)"), []),
        "builtins.abs is zero": (lying(4, "import builtins\nbuiltins.abs = lambda x: 0\n\n"
                                          "def square(a):\n    return 0.0"), []),
        # hidden tests and the grader's environment read, and leaked into the feedback
        "reads the hidden tests and the environment": (lying(1, (
            "import os, glob\nfound = [repr(dict(os.environ))]\n"
            "for pid in filter(str.isdigit, os.listdir('/proc')):\n"
            "    for name in ('cmdline', 'environ'):\n"
            "        try:\n            found.append(open(f'/proc/{pid}/{name}', 'rb').read().decode(errors='replace'))\n"
            "        except OSError:\n            pass\n"
            "    try:\n        cwd = os.readlink(f'/proc/{pid}/cwd')\n"
            "        found += [open(p).read() for p in glob.glob(cwd + '/**/*.py', recursive=True)[:50]]\n"
            "    except OSError:\n        pass\n"
            f"for path in glob.glob({tests!r} + '/*.py') + glob.glob('/tmp/**/*.py', recursive=True):\n"
            "    try:\n        found.append(open(path).read())\n    except OSError:\n        pass\n"
            "def plus_one(a):\n    raise RuntimeError(' | '.join(found))")), []),
        # other submissions, the results and the hidden tests rewritten, now and later
        "rewrites other submissions, results and tests": (None, [
            "import glob\n"
            f"for path in [{victim!r}, {results!r}, {tests + '/q1.py'!r}] + glob.glob('/**/*.ipynb', recursive=True):\n"
            "    try:\n        open(path, 'w').write('{}')\n    except OSError:\n        pass"]),
        "leaves a setsid daemon that rewrites them": (None, [
            spawn.format(code=writer, options="start_new_session=True")]),
        # no limits
        "prints 200 MB": (None, ["print('x' * 200_000_000)"]),
        "writes 200 MB to its stdout descriptor": (None, ["import os\nfor _ in range(200):\n    os.write(1, b'y' * 1_000_000)"]),
        "loops ignoring interrupts": (None, ["import signal\n"
                                             "for sig in (signal.SIGINT, signal.SIGALRM, signal.SIGTERM):\n"
                                             "    signal.signal(sig, signal.SIG_IGN)\nwhile True:\n    pass"]),
        "starts a new-session child": (None, [spawn.format(code=f"# {MARKER}\nimport time\ntime.sleep(600)",
                                                           options="start_new_session=True")]),
        "leaves a background process": (None, [spawn.format(code=f"# {MARKER}\nimport time\ntime.sleep(600)",
                                                            options="")]),
        "allocates 20 GB": (lying(1, "import torch\n\nhuge = torch.ones(20 * 2**30, dtype=torch.uint8)"), []),
        "starts 300 processes": (None, ["import subprocess\n"
                                        "children = [subprocess.Popen(['sleep', '30']) for _ in range(300)]"]),
    }


def marked_processes() -> list[str]:
    """Processes on this machine whose command line holds MARKER."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if MARKER.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            pass
    return found


def digest(folder: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())).hexdigest()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Every attack, the honest submission and the untouched copy, graded in one command."""
    import nbformat

    folder = tmp_path_factory.mktemp("attacks")
    homework = build_tiny_homework(folder / "homework")
    stubs = [c.source for c in nbformat.read(homework.student_notebook, as_version=4).cells
             if ANSWER_TAG in c.metadata.get("tags", [])]
    submissions = folder / "submissions"
    submissions.mkdir()
    victim = filled_copy(homework.student_notebook, solutions(), submissions / "zz-victim.ipynb")  # graded last
    results = folder / "results.json"
    results.write_text("[]")
    paths = {"victim": str(victim), "results": str(results), "tests": str(homework.tests_dir)}
    named = {"untouched": submissions / "untouched.ipynb", "honest": filled_copy(
        homework.student_notebook, solutions(), submissions / "honest.ipynb")}
    named["untouched"].write_bytes(homework.student_notebook.read_bytes())
    for i, (name, (answers, extra)) in enumerate(attacks(paths).items()):
        answered = [(answers or {}).get(q, stub) for q, stub in enumerate(stubs, start=1)]
        named[name] = filled_copy(homework.student_notebook, answered, submissions / f"attack-{i:02d}.ipynb", extra)
    named["victim"] = victim
    before = {"victim": victim.read_bytes(), "tests": digest(homework.tests_dir), "results": results.read_text()}
    os.environ["GRADER_TOKEN"] = SECRET  # in the grader's environment while it grades
    memory_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    try:
        reports = grade_all(list(named.values()), homework.tests_dir, jobs=2,
                            cell_timeout=CELL_TIMEOUT, test_timeout=TEST_TIMEOUT, grace=GRACE)
    finally:
        del os.environ["GRADER_TOKEN"]
    seconds = time.monotonic() - started
    growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - memory_before) / 1024
    time.sleep(1)  # anything left running would still be here
    return {"reports": dict(zip(named, reports)), "before": before, "paths": paths, "seconds": seconds,
            "growth_mb": growth_mb, "left_running": marked_processes(), "homework": homework,
            "honest": named["honest"]}


ATTACKS = list(attacks({"victim": "v", "results": "r", "tests": "t"}))


def test_the_honest_and_untouched_submissions_score_as_they_should(graded):
    reports = graded["reports"]
    for name in ("honest", "victim"):  # graded beside, and after, every attack
        assert reports[name].score == reports[name].possible == 4, reports[name].to_dict()
    assert reports["untouched"].score == 0
    assert all(q.reasons for q in reports["untouched"].questions.values())


@pytest.mark.parametrize("attack", ATTACKS)
def test_an_attack_scores_no_more_than_the_untouched_copy_fast_and_with_reasons(graded, attack):
    report: GradeReport = graded["reports"][attack]
    assert report.score <= graded["reports"]["untouched"].score, report.to_dict()
    assert report.seconds <= CELL_TIMEOUT + GRACE + SLACK, f"{report.seconds:.0f} s"
    for question in report.questions.values():
        assert question.reasons and all(reason.strip() for reason in question.reasons), report.to_dict()


def test_nothing_secret_reaches_any_feedback(graded):
    text = json.dumps([r.to_dict() for r in graded["reports"].values()])
    assert HIDDEN_MARKER not in text and SECRET not in text
    leak = graded["reports"]["reads the hidden tests and the environment"]
    assert "plus_one" in " ".join(leak.questions["q1"].reasons)  # it did raise its error


def test_nothing_outside_a_submissions_own_folder_changed(graded):
    before, paths = graded["before"], graded["paths"]
    assert Path(paths["victim"]).read_bytes() == before["victim"]
    assert digest(graded["homework"].tests_dir) == before["tests"]
    assert Path(paths["results"]).read_text() == before["results"]


def test_nothing_an_attack_started_outlives_grading(graded):
    assert graded["left_running"] == []


def test_limits_name_themselves_and_the_grader_stays_small(graded):
    reports = graded["reports"]
    assert graded["growth_mb"] < 300, f"the grader grew by {graded['growth_mb']:.0f} MB"
    assert "output limit" in reports["writes 200 MB to its stdout descriptor"].error
    assert f"no answer within {CELL_TIMEOUT + GRACE:g} s" in reports["loops ignoring interrupts"].error
    assert "kernel was stopped" in reports["writes results then exits"].error
    memory = " ".join(r for q in reports["allocates 20 GB"].questions.values() for r in q.reasons)
    assert "memory limit" in memory, memory


def test_the_grader_refuses_without_a_sandbox_unless_told_what_it_gives_up(graded, monkeypatch, capsys):
    homework, honest = graded["homework"], graded["honest"]
    monkeypatch.setattr(sandbox, "available", lambda: "bubblewrap is not installed")
    assert main([str(homework.tests_dir), str(honest)]) == 2
    err = capsys.readouterr().err
    assert "bubblewrap is not installed" in err and "--unsafe-no-sandbox" in err
    assert main([str(homework.tests_dir), str(honest), "--unsafe-no-sandbox", "--jobs", "1"]) == 0
    out, err = capsys.readouterr()
    assert ": 4 / 4" in out and "can read your files" in err
