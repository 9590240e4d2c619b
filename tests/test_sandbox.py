"""The grading sandbox (course_tools.sandbox): what hostile code inside it can and cannot do.

Each test runs a small program in the sandbox and checks the outcome from outside: that it sees
only what it was given, cannot reach the network, cannot write outside its folder, and that each
limit stops it with a reason naming that limit, with nothing left running afterwards.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from course_tools import sandbox

pytestmark = pytest.mark.usefixtures("bubblewrap")


def python(code: str, folder, limits=sandbox.Limits(wall_seconds=60), env=None, readable=()):
    return sandbox.run([sys.executable, "-c", code], workdir=folder,
                       readable=[*sandbox.python_paths(), *readable], env=env, limits=limits)


def test_it_sees_its_folder_and_the_environment_it_is_given_and_nothing_of_the_grader(tmp_path, monkeypatch):
    secret = tmp_path / "hidden_tests"
    secret.mkdir()
    (secret / "test_q1.py").write_text("ANSWER = 42")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("GRADER_TOKEN", "s3cret")
    out = python(f"""
import os, pathlib
print(os.getuid(), sorted(os.environ))
print(pathlib.Path({str(secret)!r}).exists(), pathlib.Path({str(tmp_path)!r}).exists())
print(pathlib.Path('/root').exists() and sorted(os.listdir('/root')))
pathlib.Path('mine.txt').write_text('ok')
""", work, env={"COURSE_PROFILE": "ci"})
    assert out.returncode == 0 and out.limit is None, out
    identity, seen, root = out.stdout.splitlines()
    uid, names = identity.split(" ", 1)
    assert uid == str(sandbox.NOBODY)
    assert "GRADER_TOKEN" not in names and "COURSE_PROFILE" in names
    assert seen == "False False"  # neither the hidden tests nor the grader's folders exist
    assert "s3cret" not in out.stdout + out.stderr
    assert (work / "mine.txt").read_text() == "ok"
    assert root in ("False", "[]") or set(eval(root)) <= {".pyenv"}  # only a bound interpreter


def test_it_cannot_write_what_it_may_read_nor_reach_the_network(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "mnist.gz").write_text("real bytes")
    work = tmp_path / "work"
    work.mkdir()
    out = python(f"""
import socket
try:
    open({str(data / 'mnist.gz')!r}, 'w').write('forged')
    print('wrote')
except OSError as error:
    print('read-only', error.errno)
try:
    socket.create_connection(('1.1.1.1', 80), timeout=3)
    print('online')
except OSError:
    print('offline')
""", work, readable=[data])
    assert out.stdout.split() == ["read-only", "30", "offline"], out  # 30: EROFS
    assert (data / "mnist.gz").read_text() == "real bytes"


@pytest.mark.parametrize("code, limits, reason", [
    ("while True: pass", sandbox.Limits(cpu_seconds=2, wall_seconds=60), "CPU-time limit"),
    ("x = bytearray(3 * 1024**3)", sandbox.Limits(memory_mb=1024, wall_seconds=60), "memory limit"),
    ("print('x' * 10**7)", sandbox.Limits(output_bytes=100_000, wall_seconds=60), "output limit"),
    ("import time; time.sleep(60)", sandbox.Limits(wall_seconds=2), "wall-time limit"),
    ("import os\nwhile True:\n    if os.fork() == 0:\n        import time; time.sleep(30); os._exit(0)",
     sandbox.Limits(processes=20, wall_seconds=60), "process limit"),
])
def test_each_limit_stops_it_and_the_outcome_names_that_limit(tmp_path, code, limits, reason):
    if reason == "process limit" and not sandbox.processes_limited():
        pytest.skip("running as root without a pids cgroup: the process limit cannot bind here")
    started = time.monotonic()
    out = python(code, tmp_path, limits=limits)
    assert out.limit is not None and out.limit.startswith(reason), out
    assert time.monotonic() - started < 30
    assert len(out.stdout) + len(out.stderr) <= 2 * limits.output_bytes


def test_a_signal_ignoring_loop_is_killed_at_the_wall_time_limit(tmp_path):
    code = "import signal\nfor s in (signal.SIGINT, signal.SIGTERM): signal.signal(s, signal.SIG_IGN)\nwhile True: pass"
    out = python(code, tmp_path, limits=sandbox.Limits(wall_seconds=2))
    assert out.limit.startswith("wall-time limit") and out.seconds < 10, out


def test_nothing_it_starts_outlives_the_run_not_even_a_new_session(tmp_path):
    marker = "sleep 4242"
    out = sandbox.run(["/bin/sh", "-c", f"setsid sh -c '{marker}; echo late > late.txt' & echo started"],
                      workdir=tmp_path, limits=sandbox.Limits(wall_seconds=30))
    assert out.stdout.strip() == "started" and out.returncode == 0, out
    time.sleep(0.5)
    running = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert not [line for line in running.splitlines() if line.startswith(marker)]
    time.sleep(0.5)
    assert not (tmp_path / "late.txt").exists()


def test_bad_arguments_get_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="command="):
        sandbox.run([], workdir=tmp_path)
    with pytest.raises(NotADirectoryError, match="workdir"):
        sandbox.run(["true"], workdir=tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="readable"):
        sandbox.run(["true"], workdir=tmp_path, readable=[tmp_path / "missing"])
    with pytest.raises(ValueError, match="Limits.memory_mb"):
        sandbox.Limits(memory_mb=0)


ECHO = ("import sys\nfor line in sys.stdin:\n    if line.startswith('hang'):\n        while True:\n"
        "            pass\n    if line.startswith('exit'):\n        sys.exit(3)\n"
        "    if line.startswith('flood'):\n        print('x' * 5000, flush=True)\n"
        "    print(line.strip()[::-1], flush=True)")


def session(folder, **limits):
    return sandbox.Session([sys.executable, "-c", ECHO], workdir=folder, readable=sandbox.python_paths(),
                           limits=sandbox.Limits(wall_seconds=60, **limits), max_answer_bytes=1000)


def test_a_session_answers_line_by_line_and_dies_at_a_missed_deadline(tmp_path):
    with session(tmp_path) as talk:
        assert talk.request(b"abc", timeout=20) == b"cba"
        assert talk.request(b"sandbox", timeout=20) == b"xobdnas"
        started = time.monotonic()
        with pytest.raises(sandbox.Stopped, match="no answer within 2 s"):
            talk.request(b"hang", timeout=2)
        assert time.monotonic() - started < 10
        with pytest.raises(sandbox.Stopped, match="no answer within 2 s"):  # it stays stopped
            talk.request(b"abc", timeout=20)
    assert talk.close().limit.startswith("time limit")


def test_a_session_says_why_its_process_is_gone(tmp_path):
    with session(tmp_path) as talk:
        with pytest.raises(sandbox.Stopped, match=r"it ended \(exit status 3\)"):
            talk.request(b"exit", timeout=20)
    with session(tmp_path) as talk:
        with pytest.raises(sandbox.Stopped, match="output limit: an answer of more than 1,000 bytes"):
            talk.request(b"flood", timeout=20)
