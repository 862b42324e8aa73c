"""A pybabel extractor for config/languages.toml: qualification names are msgids.

So a new qualification is one line in the toml; `pybabel extract` finds its
name there and `pybabel update` asks the catalogs for its translations.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any


def extract_languages_toml(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],  # noqa: ARG001 - the extractor protocol's arguments
    comment_tags: Collection[str],  # noqa: ARG001
    options: Mapping[str, Any],  # noqa: ARG001
) -> Iterator[tuple[int, str, str, list[str]]]:
    """(line, function, message, comments) for every qualification name."""
    text = fileobj.read().decode("utf-8")
    lines = text.splitlines()
    for entry in tomllib.loads(text).get("qualifications", []):
        name = entry["name"]
        line = next(
            (number for number, row in enumerate(lines, 1) if f'"{entry["tag"]}"' in row), 0
        )
        yield line, "gettext", name, [f"qualification {entry['tag']}"]
