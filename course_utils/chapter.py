"""The setup check every chapter opens with (seed, device, profile, data, library versions),
and ``show_source``, which shows on the page the code of a course_utils piece a chapter uses."""

from __future__ import annotations

import inspect
import textwrap
import platform
from dataclasses import dataclass

import torch

import course_utils
from course_utils.data import MnistData, load_mnist
from course_utils.device import pick_device, seed_everything
from course_utils.plot import use_course_style
from course_utils.profile import Profile, get_profile

DATA_CHOICES = ("mnist", None)


@dataclass(frozen=True)
class Chapter:
    device: torch.device  # where models train
    profile: Profile  # "ci" or "full": sizes and step counts
    seed: int  # what seed_everything was called with
    data: MnistData | None  # MNIST tensors (on the CPU), or None for chapters that make their own


def start_chapter(seed: int = 0, data: str | None = "mnist", profile: str | None = None,
                  device: str | None = None) -> Chapter:
    """Seed, pick the device and profile, load the data, apply the plot style, and print all of it."""
    if data not in DATA_CHOICES:
        raise ValueError(f"data={data!r}: expected 'mnist' or None")
    seed_everything(seed)
    chosen_profile = get_profile(profile)
    chosen_device = pick_device(device)
    use_course_style()
    mnist = load_mnist() if data == "mnist" else None
    print(f"device:   {chosen_device}" + (f" ({torch.cuda.get_device_name(chosen_device)})"
                                          if chosen_device.type == "cuda" else ""))
    print(f"profile:  {chosen_profile}" + ("  (fast smoke run; COURSE_PROFILE=full for the real one)"
                                          if chosen_profile.is_ci else ""))
    print(f"data:     {mnist.description if mnist is not None else 'made in this chapter'}")
    print(f"seed:     {seed}")
    print(f"versions: python {platform.python_version()}, torch {torch.__version__}, "
          f"course_utils {course_utils.__version__}")
    return Chapter(chosen_device, chosen_profile, seed, mnist)


def show_source(obj) -> None:
    """Display the code of a function or class from ``course_utils`` as a highlighted block.

    Where a chapter's idea also serves a benchmark or a later chapter it lives in the package;
    the chapter shows its code with this, so the reader still reads the idea where it is used.
    """
    from IPython.display import Markdown, display

    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj)):
        raise TypeError(f"obj: expected a function, method or class, got {type(obj).__name__}")
    source = textwrap.dedent(inspect.getsource(obj))  # a method: without its class's indent
    display(Markdown("```python\n" + source.rstrip() + "\n```"))
