"""Actions that cannot be undone ask "are you sure?" once more, with or without JavaScript.

The form of such an action carries its question (dispatch/web/questions.py) in
``data-confirm``: the page script (static/live.js) asks it in a dialog and, when the
person says yes, adds ``sure=yes`` to the form. A browser that runs no script (town IT
policies block them) posts without ``sure``; the route then answers with the page
below, which asks the same question and posts the same fields again with ``sure=yes``.
Nothing happens before the second, deliberate click, and a person with scripts is
asked once, not twice. (The mediator's "give the job back" on their offer link does
the same in its own page.)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse

from dispatch.users.models import User
from dispatch.web.questions import Question
from dispatch.web.rendering import render

#: The form's answer to the question: "yes" once the person was asked.
Sure = Annotated[str | None, Form(alias="sure", max_length=10)]


def is_sure(answer: str | None) -> bool:
    return answer == "yes"


def ask(
    request: Request,
    question: Question,
    *,
    back: str,
    user: User,
    fields: Mapping[str, str] | None = None,
    **values: str | int | date,
) -> HTMLResponse:
    """The page that asks `question` before the action posted to this address happens.

    Status 200: nothing went wrong, and nothing happened yet. Its form posts
    `fields` again (hidden, with a fresh CSRF token) and ``sure=yes``; `back` is
    where "No" leads. The page words the question with `values` as the form's
    ``data-confirm`` does (``f.question``), so a day reads as the form wrote it.
    """
    context = {
        "question": question,
        "values": values,
        "action": request.url.path,
        "fields": dict(fields or {}),
        "back": back,
    }
    return render(request, "sure.html", context, user=user)
