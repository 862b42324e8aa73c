"""Modules talk through their public names: no module reaches into another's underscore names.

A helper that another module needs is public (and documented as such), so
that moving or changing a private helper never breaks a caller elsewhere.
"""

from __future__ import annotations

import ast

from tests.conftest import ROOT

PACKAGES = ("dispatch", "notifications", "config", "matching")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def foreign_private_uses(source: str, name: str) -> list[str]:
    """`from pkg.mod import _name` and `mod._name` where `mod` is an imported project module."""
    tree = ast.parse(source)
    modules: set[str] = set()  # local names bound to project modules
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    modules.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] not in PACKAGES and node.level == 0:
                continue
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{name}:{node.lineno} imports {alias.name}")
                # `from dispatch.offers import flows`: the name may be a module
                modules.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and _private(node.attr)
        ):
            found.append(f"{name}:{node.lineno} uses {node.value.id}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names() -> None:
    found = [
        use
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        for use in foreign_private_uses(
            path.read_text(encoding="utf-8"), str(path.relative_to(ROOT))
        )
    ]
    assert found == []


def test_the_check_finds_a_private_use() -> None:
    """The check above can fail: a module calling another's helper is reported."""
    source = (
        "from dispatch.offers import service\n"
        "from dispatch.requests.service import _replay\n"
        "service._hidden()\n"
        "self._mine()\n"
    )

    assert foreign_private_uses(source, "probe.py") == [
        "probe.py:2 imports _replay",
        "probe.py:3 uses service._hidden",
    ]
