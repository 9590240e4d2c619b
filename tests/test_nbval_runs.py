"""What nbval ran is kept (tests/nbval_runs.py): outputs and widget state of a passing notebook,
nothing of a failing one, and nothing at all without COURSE_EXECUTED_DIR."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests.nbval_runs import EXECUTED_DIR_ENV, RUN_KEY, source_digest

ROOT = Path(__file__).resolve().parents[1]
pytest_plugins = ["pytester"]

PASSING = [
    "print('hello from the kernel')",
    "import ipywidgets\nslider = ipywidgets.IntSlider(value=3)\nslider",
    "slider.value = 7\n40 + 2",
    "hidden = 40 + 2\nhidden;  # a trailing semicolon hides the value, as in a notebook",
]


def notebook(path: Path, sources: list[str]) -> Path:
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# a notebook")]
        + [nbformat.v4.new_code_cell(s, metadata={"tags": ["hide-input"]}) for s in sources],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, path)
    return path


@pytest.fixture
def run_nbval(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeconftest('pytest_plugins = ["tests.nbval_runs"]')

    def run(*paths: Path, executed: Path | None):
        if executed is None:
            monkeypatch.delenv(EXECUTED_DIR_ENV, raising=False)
        else:
            monkeypatch.setenv(EXECUTED_DIR_ENV, str(executed))
        return pytester.runpytest_subprocess("--nbval-lax", "-p", "no:cacheprovider", *map(str, paths))

    return run


def test_a_passing_notebook_is_kept_with_outputs_and_widget_state(run_nbval, pytester, tmp_path):
    source = notebook(pytester.path / "passing.ipynb", PASSING)
    result = run_nbval(source, executed=tmp_path)
    result.assert_outcomes(passed=4)
    kept = nbformat.read(tmp_path / "passing.ipynb", as_version=4)
    printed, widget, answer, quiet = [c for c in kept.cells if c.cell_type == "code"]
    assert printed.outputs[0].text == "hello from the kernel\n" and printed.execution_count == 1
    assert widget.metadata.tags == ["hide-input"]  # the cell as written, with what it showed
    view = widget.outputs[0].data["application/vnd.jupyter.widget-view+json"]
    assert answer.outputs[0].data["text/plain"] == "42" and answer.execution_count == 3
    assert quiet.outputs == []
    state = kept.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"]
    assert state[view["model_id"]]["state"]["value"] == 7  # the update of the later cell
    assert kept.metadata[RUN_KEY]["source_sha256"] == source_digest(source)
    assert kept.metadata.language_info["pygments_lexer"] == "ipython3"  # as an executed notebook has
    assert not (tmp_path / "passing.grades.json").exists()  # no exercises, no grades


def test_a_failing_notebook_leaves_no_run_not_even_an_older_one(run_nbval, pytester, tmp_path):
    source = notebook(pytester.path / "failing.ipynb", ["x = 1", "raise ValueError('broken')", "y = 2"])
    (tmp_path / "failing.ipynb").write_text("an older run")
    result = run_nbval(source, executed=tmp_path)
    result.assert_outcomes(passed=2, failed=1)
    assert not (tmp_path / "failing.ipynb").exists()


def test_without_the_variable_nothing_is_written(run_nbval, pytester, tmp_path):
    source = notebook(pytester.path / "passing.ipynb", PASSING)
    run_nbval(source, executed=None).assert_outcomes(passed=4)
    assert not list(pytester.path.rglob("*.grades.json"))
    assert [p.name for p in pytester.path.rglob("*.ipynb")] == ["passing.ipynb"]
