"""Hostile values for every form a crawl of the pages reaches: the staff's pages and a
mediator's link (`tests/web/test_hostile_forms.py`), the offer pages and the confirmation
pages (`test_hostile_offer_pages.py`, `test_hostile_confirmation_pages.py`).

The pages are crawled from a start page as a person would click through them; every
field of every form found is then sent, one at a time, with values a person or a script
could type: a superscript digit (`str.isdigit` says yes, `int` refuses it), thirty nines
(a number that overflows a duration or a database column), a very long text and a NUL
character (which PostgreSQL refuses in a text column). The rest of the form keeps the
values the page filled in, so each value reaches the code behind its own field.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from fastapi.testclient import TestClient

HOSTILE = ("²", "9" * 30, "x" * 20_000, "\x00")
#: Query strings have a length limit of their own (the client's): a long text goes in forms.
LONGEST_IN_A_LINK = 2_000

_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
_FIELD = re.compile(r"<(?:input|select|textarea)\b([^>]*)>", re.I)
_ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')
_LINK = re.compile(r'href="(/[^"#]*)"')


@dataclass(frozen=True)
class Form:
    method: str
    action: str
    fields: tuple[tuple[str, str], ...]
    """(name, the value the page filled in)."""


def _attributes(tag: str) -> dict[str, str]:
    return {name.lower(): html.unescape(value) for name, value in _ATTRIBUTE.findall(tag)}


def crawl(client: TestClient, start: str = "/", most: int = 150) -> dict[str, str]:
    """The pages reached from `start` by following links and redirects: path -> HTML."""
    pages: dict[str, str] = {}
    waiting = [start]
    while waiting and len(pages) < most:
        path = waiting.pop(0)
        if path in pages or path.startswith(("/static", "/logout")):
            continue
        response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)
        location = response.headers.get("location", "")
        if response.is_redirect and location.startswith("/"):
            waiting.append(location)
        is_html = "text/html" in response.headers.get("content-type", "")
        pages[path] = response.text if is_html else ""
        waiting += [html.unescape(link) for link in _LINK.findall(pages[path])]
    return pages


def forms_on(pages: dict[str, str]) -> list[Form]:
    """Each distinct form (method, action, field names) on the pages."""
    found: dict[tuple[str, str, tuple[str, ...]], Form] = {}
    for path, text in pages.items():
        for head, body in _FORM.findall(text):
            tag = _attributes(head)
            fields = tuple(
                (field["name"], field.get("value", ""))
                for field in map(_attributes, _FIELD.findall(body))
                if "name" in field
            )
            form = Form(tag.get("method", "get").lower(), tag.get("action") or path, fields)
            key = (form.method, form.action.split("?")[0], tuple(sorted(n for n, _ in fields)))
            found.setdefault(key, form)
    return [form for form in found.values() if not form.action.startswith("/logout")]


def server_errors(client: TestClient, form: Form) -> list[str]:
    """Each field of `form` sent with each hostile value: the answers of 500 and above."""
    failures = []
    filled = dict(form.fields)
    for name in filled:
        if name == "csrf_token":
            continue
        for value in HOSTILE:
            data = {**filled, name: value}
            if form.method == "post":
                response = client.post(form.action, data=data)
            elif len(value) <= LONGEST_IN_A_LINK:
                response = client.get(form.action, params=data)
            else:
                continue
            if response.status_code >= 500:
                failures.append(
                    f"{response.status_code}: {form.method} {form.action} {name}={value[:12]!r}"
                )
    return failures
