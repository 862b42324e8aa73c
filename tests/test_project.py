"""The project as a newcomer meets it: the README's commands, CI, a clean tree after the tests."""

from __future__ import annotations

import re
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


def readme_commands() -> list[str]:
    """The commands in the README's "The two commands" section, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The two commands", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [
        line
        for block in blocks
        for line in block.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    install_and_run, install_and_test = readme_commands()[:2]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert install_and_test in ci
    assert "serve --demo" in install_and_run


def test_the_test_command_provides_chromium_for_the_browser_tests() -> None:
    _, install_and_test = readme_commands()[:2]
    assert install_and_test.startswith("scripts/install-chromium && ")
    script = (ROOT / "scripts" / "install-chromium").read_text(encoding="utf-8")
    assert "apt-get install -y -q chromium" in script and "/usr/bin/chromium" in script
