"""What students read is the idea: the rules of README's "Writing a chapter" for chapter code.

- Code on the page fits its width: the built site's code column shows about 80 characters
  at 1280 px, so chapter code lines, and the code shown with ``show_source``, stay within 80.
- Where a chapter's idea lives: written in a cell, or kept in ``course_utils`` and shown with
  ``show_source`` in the first chapter (in book order) that uses it. Modules of plumbing are
  imported and not shown; in the modules of ideas, every function or class a chapter uses is
  shown, but for the few helpers listed in ``NOT_SHOWN`` with the reason.
- A chapter writes no plumbing of its own: no train/fit/apply/predict helpers, no eval-mode
  bookkeeping, no conversion of a step budget to epochs.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
import textwrap
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WIDTH = 80  # characters the site's code column shows at 1280 px

# Modules of plumbing: what chapters use without showing it.
PLUMBING = {"chapter", "checks", "classifier", "data", "device", "fewlabels", "latent_editor",
            "metrics", "models", "plot", "profile", "sample_quality", "tables", "text", "toy_data",
            "train"}
# Helpers in modules of ideas that a chapter may use unshown: name -> why it is not the idea.
NOT_SHOWN = {
    "bytes_per_code": "arithmetic on an array's size, to report memory",
    "robust_accuracy": "accuracy in batches; the attack it is given is shown",
    "conv_classifier": "the chapter's small convnet, a ConvEncoder and a linear layer",
    "ganin_mnist_net": "the network of Ganin et al., layer sizes only",
    "DomainAdversarialNet": "wires the shown gradient reversal between two heads",
    "GradientReversal": "the module wrapper of the shown GradientReversalFunction",
    "train_rbm": "Adam on the shown cd_loss, or the shown PCDTrainer",
    "binary_states": "all binary vectors of length n (itertools.product)",
    "log_likelihood": "-F(v) - log Z with the shown log_partition",
    "train_gamma": "Adam and a linear decay around the shown GammaTrainer",
    "batch_normalize": "(z - mean) / std over the batch",
    "split_apply": "applies a function to two parts of a batch",
    "fit_logistic": "scikit-learn's LogisticRegression",
    "class_probabilities": "scikit-learn's predict_proba, padded to 10 classes",
    "simclr_pretrain": "Adam on the shown simclr_loss (chapter 5 shows it)",
    "GAN": "holds a generator and a discriminator in one module",
    "mlp_generator": "a three-layer MLP",
    "mlp_discriminator": "a three-layer MLP, with the shown Pack and MinibatchStd",
    "conditional_dcgan": "the shown networks with the DCGAN initialisation",
    "conditional_samples": "asks for per_class samples of each digit",
    "class_accuracy": "the shown requested_accuracy on conditional_samples",
    "walk": "samples along z + t direction",
    "mlp_coupling_net": "a three-layer MLP with its last layer at zero",
}


def chapters() -> list[Path]:
    """The chapters' notebooks in book order (_toc.yml)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [ROOT / f"{f}.ipynb" for f in files if (ROOT / f"{f}.ipynb").exists()]


def code_cells(path: Path) -> list[str]:
    """The chapter's code cells; IPython lines (!pip, %magic) become ``pass``."""
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    return [re.sub(r"(?m)^(\s*)[!%].*$", r"\1pass", "".join(c["source"])) for c in cells]


def parse(path: Path) -> ast.Module:
    return ast.parse("\n\n".join(code_cells(path)), filename=path.name)


def imported_names(tree: ast.Module) -> dict[str, str]:
    """{name: module} of ``from course_utils.<module> import name``."""
    return {alias.asname or alias.name: node.module.split(".")[1]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course_utils.")
            for alias in node.names}


def shown_names(tree: ast.Module) -> list[str]:
    """The expressions passed to show_source, as written (``GANTrainer.train_step``)."""
    return [ast.unparse(node.args[0]) for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "show_source"
            and node.args]


CHAPTERS = chapters()


def test_the_chapters_are_found():
    assert len(CHAPTERS) >= 13


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_code_fits_the_page(path):
    long = [f"cell {i}: {line!r}" for i, cell in enumerate(code_cells(path))
            for line in cell.splitlines() if len(line) > WIDTH]
    assert not long, f"{len(long)} lines longer than {WIDTH} characters:\n" + "\n".join(long[:20])


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_code_shown_with_show_source_fits_the_page(path):
    tree = parse(path)
    imported = imported_names(tree)
    long = []
    for expression in shown_names(tree):
        head, *rest = expression.split(".")
        obj = getattr(importlib.import_module(f"course_utils.{imported[head]}"), head)
        for attribute in rest:
            obj = getattr(obj, attribute)
        source = textwrap.dedent(inspect.getsource(obj))  # as show_source shows it
        long += [f"{expression}: {line!r}" for line in source.splitlines()
                 if len(line) > WIDTH]
    assert not long, f"{len(long)} shown lines longer than {WIDTH} characters:\n" + "\n".join(long)


def test_every_idea_a_chapter_uses_is_shown_where_it_is_first_used():
    shown_so_far: set[str] = set()
    missing = []
    for path in CHAPTERS:
        tree = parse(path)
        shown_here = {name.split(".")[0] for name in shown_names(tree)}
        for name, module in imported_names(tree).items():
            obj = getattr(importlib.import_module(f"course_utils.{module}"), name)
            if module in PLUMBING or not callable(obj) or name in NOT_SHOWN:
                continue
            if name not in shown_here | shown_so_far:
                missing.append(f"{path.stem}: {module}.{name}")
        shown_so_far |= shown_here
    assert not missing, ("used before any chapter shows it (show it, write it in a cell, or "
                         "list it in NOT_SHOWN with the reason):\n" + "\n".join(missing))


def test_not_shown_lists_only_names_chapters_use():
    used = set()
    for path in CHAPTERS:
        used |= set(imported_names(parse(path)))
    assert not set(NOT_SHOWN) - used, sorted(set(NOT_SHOWN) - used)


PLUMBING_DEFS = {"train", "fit", "apply", "predict", "trainer_for", "run", "evaluate"}


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_a_chapter_writes_no_plumbing_of_its_own(path):
    tree = parse(path)
    found = [f"def {node.name}" for node in ast.walk(tree)
             if isinstance(node, ast.FunctionDef) and node.name in PLUMBING_DEFS]
    found += [f"{node.id} (eval-mode bookkeeping: use course_utils.train.eval_mode)"
              for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id == "was_training"]
    for node in ast.walk(tree):  # epochs = f(steps, len(x), batch_size): a budget converted by hand
        if isinstance(node, ast.Assign) and any("epoch" in ast.unparse(t) for t in node.targets):
            value = ast.unparse(node.value)
            if "len(" in value or "batch" in value or "steps" in value:
                found.append(f"{ast.unparse(node)} (give the Trainer a budget in steps)")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_trainer_budgets_are_named(path):
    """``fit`` calls with a budget pass it by name (until_step= or until_epoch=)."""
    tree = parse(path)
    bare = [ast.unparse(node) for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "fit" and any(k.arg in ("epochs", "steps") for k in node.keywords)]
    assert not bare, "\n".join(bare)
