"""A fresh clone must install: nothing tracked may point outside the repository (a tracked
`.venv` symlink to /tmp once broke `make run` and `make test` on every new machine)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


GIT = shutil.which("git")


def _tracked_symlinks() -> list[str]:
    assert GIT is not None
    listing = subprocess.run(
        [GIT, "ls-files", "-s"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return [line.split("\t", 1)[1] for line in listing.splitlines() if line.startswith("120000")]


@pytest.mark.skipif(GIT is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_no_tracked_symlink_leaves_the_repository() -> None:
    leaving = []
    for path in _tracked_symlinks():
        target = (ROOT / path).parent / (ROOT / path).readlink()
        if not target.resolve().is_relative_to(ROOT):
            leaving.append(f"{path} -> {target}")
    assert leaving == []


def test_the_virtualenv_is_ignored_in_every_form() -> None:
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert ".venv" in ignored, "`.venv/` alone matches only a folder, not a symlink"
