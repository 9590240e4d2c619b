"""A four-question homework in otter's format that grades in seconds, built the way `make
homework` builds a chapter: for what the grader does with broken and hostile submissions."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from course_tools.homework import SOLUTION_MARKER_LINE, Homework, build_homework

ROOT = Path(__file__).resolve().parents[1]
HIDDEN_MARKER = "hidden-test-marker-5f0c"  # text that only the hidden tests hold
QUESTIONS = {  # question: (solution cell, public test, hidden test of (student, seed))
    "q1": ("def plus_one(a):\n    # BEGIN SOLUTION\n    done = a + 1\n    return done\n    # END SOLUTION",
           "def test_q1(plus_one):\n    assert plus_one(1) == 2, 'plus_one(1) should be 2'",
           "def test_q1_more(student, seed):\n"
           f"    # {HIDDEN_MARKER}\n"
           "    import random\n"
           "    x = random.Random(seed).randint(-999, 999)\n"
           "    got = student.call('plus_one', x)\n"
           "    assert type(got) is int and got == x + 1, f'plus_one({x}) should be {x + 1}, got {got!r}'"),
    "q2": ("def double(a):\n    # BEGIN SOLUTION\n    return 2 * a\n    # END SOLUTION",
           "def test_q2(double):\n    assert double(2) == 4, 'double(2) should be 4'",
           "def test_q2_more(student, seed):\n"
           "    import torch\n"
           "    x = torch.randn(5, generator=torch.Generator().manual_seed(seed))\n"
           "    got = student.call('double', x)\n"
           "    assert isinstance(got, torch.Tensor), f'double(tensor) should return a tensor, got {type(got).__name__}'\n"
           "    gap = (got - 2 * x).abs().max().item()\n"
           "    assert gap < 1e-6, f'double(x) is off 2 x by up to {gap:.3g}'"),
    "q3": ("def triple(a):\n    # BEGIN SOLUTION\n    result = 3 * a\n    return result\n    # END SOLUTION\n\n"
           "nine = triple(3)",
           "def test_q3(triple):\n    assert triple(1) == 3, 'triple(1) should be 3'",
           "def test_q3_more(student, seed):\n"
           "    import random\n"
           "    x = random.Random(seed).randint(-999, 999)\n"
           "    got = student.call('triple', x)\n"
           "    assert got == 3 * x, f'triple({x}) should be {3 * x}, got {got!r}'\n"
           "    nine = student.value('nine')\n"
           "    assert nine == 9, f'nine should be 9, got {nine!r}'"),
    "q4": ("def square(a):\n    # BEGIN SOLUTION\n    return a * a\n    # END SOLUTION",
           "def test_q4(square):\n    assert square(3) == 9, 'square(3) should be 9'",
           "def test_q4_more(student, seed):\n"
           "    import random\n"
           "    x = random.Random(seed).uniform(-9, 9)\n"
           "    got = student.call('square', x)\n"
           "    assert type(got) is float and abs(got - x * x) < 1e-9, f'square({x}) should be {x * x}, got {got!r}'"),
}


def assignment_config() -> str:
    chapter = ROOT / "book" / "01_pca.ipynb"
    config = next(c.source for c in nbformat.read(chapter, as_version=4).cells
                  if c.cell_type == "raw" and c.source.startswith("# ASSIGNMENT CONFIG"))
    return re.sub(r"(?m)^name: .*$", "name: tiny", config)


def build_tiny_homework(folder: Path) -> Homework:
    v4 = nbformat.v4
    cells = [v4.new_markdown_cell("# A tiny homework"), v4.new_raw_cell(assignment_config())]
    for name, (solution, public, hidden) in QUESTIONS.items():
        cells += [v4.new_raw_cell(f"# BEGIN QUESTION\nname: {name}\npoints: 1"),
                  v4.new_markdown_cell(f"### {name}"), v4.new_raw_cell("# BEGIN SOLUTION"),
                  v4.new_code_cell(solution), v4.new_raw_cell("# END SOLUTION"),
                  v4.new_raw_cell("# BEGIN TESTS"), v4.new_code_cell(public),
                  v4.new_code_cell(f'""" # BEGIN TEST CONFIG\nhidden: true\n""" # END TEST CONFIG\n{hidden}'),
                  v4.new_raw_cell("# END TESTS"), v4.new_raw_cell("# END QUESTION")]
    nb = v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                               "language": "python"}})
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / "tiny.ipynb")
    return build_homework(folder / "tiny.ipynb", folder / "out")


def solutions() -> list[str]:
    """The answer cells' reference code, without otter's markers."""
    return [SOLUTION_MARKER_LINE.sub("", s) for s, _, _ in QUESTIONS.values()]
