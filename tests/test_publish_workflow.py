"""The publishing workflow: valid for its service, and it publishes what `make book` builds.

The service cannot be reached from here, so this is what can be checked: the file against the
workflow schema that check-jsonschema ships (no network), and its meaning against the repo.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "publish.yml"
CHECK = [str(Path(sys.executable).parent / "check-jsonschema"),
         "--builtin-schema", "vendor.github-workflows"]


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def test_workflow_matches_the_services_schema():
    result = subprocess.run([*CHECK, str(WORKFLOW)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on:", "runs_on:"))
    result = subprocess.run([*CHECK, str(broken)], capture_output=True, text=True)
    assert result.returncode != 0 and "runs-on" in result.stdout


def test_it_builds_on_push_to_the_books_branch(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    branch = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["branch"]
    assert triggers["push"]["branches"] == [branch]


def test_it_publishes_what_make_book_builds(workflow):
    steps = workflow["jobs"]["build"]["steps"]
    assert [s["run"] for s in steps if "run" in s] == ["make book"]  # the README's command
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    site = upload["with"]["path"]
    assert f"open {site}/index.html" in (ROOT / "Makefile").read_text()
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert any(s.get("uses", "").startswith("actions/deploy-pages") for s in deploy["steps"])
    assert workflow["permissions"]["pages"] == "write"
    assert workflow["permissions"]["id-token"] == "write"
