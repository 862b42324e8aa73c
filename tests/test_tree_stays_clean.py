"""Running the tests writes nothing that git tracks."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import DEFAULT_SCREENSHOTS, ROOT


def test_screenshots_go_to_an_ignored_folder_by_default() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    probe = DEFAULT_SCREENSHOTS.relative_to(ROOT) / "01-login.png"
    ignored = subprocess.run(
        ["git", "check-ignore", "--quiet", "--no-index", str(probe)], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0, f"{probe} would be tracked by git"
