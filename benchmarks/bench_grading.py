"""Grading speed: one chapter-1 submission, sandboxed and not, and a batch one and N at a time.

Run on demand, on a quiet machine (never in the test suite):
`.venv/bin/python benchmarks/bench_grading.py [--repeats 3] [--batch 4]`. Needs bubblewrap.

- one submission (chapter 1 with its reference answers), graded in turn in its sandbox and
  with ``--unsafe-no-sandbox``, ``--repeats`` times each, alternating: the sandbox's cost;
- ``--batch`` copies graded with ``jobs=1`` and with ``jobs=cores``: what N at a time gains.

Target (issue 18): a sandboxed submission takes at most twice what the grader took before it
ran hidden tests outside the submission: 13.2 s for this submission on the course's 2-core
machine (the previous grader, one kernel per submission, measured 13.2-14.1 s, 3 runs, at
commit a4b4cac), so at most 26.4 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_tools.grading import grade_all, grade_submission  # noqa: E402
from course_tools.homework import build_homework, filled_copy, solution_cells  # noqa: E402

BEFORE_SECONDS = 13.2  # the previous grader on this submission (docstring)
CHAPTER = ROOT / "book" / "01_pca.ipynb"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as scratch:
        homework = build_homework(CHAPTER, Path(scratch) / "homework")
        submission = filled_copy(homework.student_notebook, solution_cells(CHAPTER),
                                 Path(scratch) / "submission.ipynb")
        times = {"sandboxed": [], "unsafe, no sandbox": []}
        for _ in range(args.repeats):
            for name in times:
                report = grade_submission(submission, homework.tests_dir, threads=cores,
                                          sandboxed=name == "sandboxed")
                assert report.score == report.possible, report.to_dict()
                times[name].append(report.seconds)
        print(f"one chapter-1 submission, {cores} threads, {args.repeats} runs each (seconds):")
        for name, values in times.items():
            print(f"  {name:20s} median {statistics.median(values):5.1f}   runs {', '.join(f'{v:.1f}' for v in values)}")
        median = statistics.median(times["sandboxed"])
        verdict = "met" if median <= 2 * BEFORE_SECONDS else "NOT MET"
        print(f"  target: sandboxed <= 2 x {BEFORE_SECONDS} s (the grader before) = "
              f"{2 * BEFORE_SECONDS:.1f} s: {median:.1f} s, {verdict}")
        batch = [submission] * args.batch
        for jobs in (1, cores):
            started = time.monotonic()
            reports = grade_all(batch, homework.tests_dir, jobs=jobs)
            assert all(r.score == r.possible for r in reports)
            print(f"{args.batch} submissions, jobs={jobs}: {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
