"""Actions that cannot be undone ask "are you sure?" once more, with or without JavaScript.

The form of such an action carries its question in ``data-confirm``: the page script
(static/live.js) asks it in a dialog and, when the person says yes, adds ``sure=yes``
to the form. A browser that runs no script (town IT policies block them) posts without
``sure``; the route then answers with the page below, which asks the same question and
posts the same fields again with ``sure=yes``. Nothing happens before the second,
deliberate click, and a person with scripts is asked once, not twice. (The mediator's
"give the job back" on their offer link does the same in its own page.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse

from dispatch.users.models import User
from dispatch.web.rendering import formatter, render
from locales import N_, Text

#: The form's answer to the question: "yes" once the person was asked.
Sure = Annotated[str | None, Form(alias="sure", max_length=10)]


def is_sure(answer: str | None) -> bool:
    return answer == "yes"


@dataclass(frozen=True)
class Question:
    """What an action asks before it happens: the words of its form's ``data-confirm``
    (the same msgid, filled with the same values) and the button that says yes."""

    text: str
    yes: str


CANCEL_REQUEST = Question(N_("Really cancel request no. %(n)s?"), N_("Yes, cancel the request"))
CANCEL_SERIES = Question(
    N_("Really cancel every appointment of the series from %(day)s on?"),
    N_("Yes, cancel these appointments"),
)
ERASE_CLIENT = Question(
    N_(
        "Erase the reference %(ref)s from every request of the organisation, its series and "
        "e-mails? This cannot be undone."
    ),
    N_("Yes, erase the reference everywhere"),
)
RECORD_NO_SHOW = Question(
    N_("Really record that the mediator did not come?"), N_("Yes, record the no-show")
)
NOT_FOR_CLIENT = Question(
    N_("Never offer this client's jobs to this mediator again?"),
    N_("Yes, not again for this client"),
)
CANCEL_ASSIGNMENT = Question(
    N_("Really cancel this assignment? The request is dispatched again."),
    N_("Yes, cancel the assignment"),
)


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
    where "No" leads. A day among the `values` reads as the form's button wrote it.
    """
    fmt = formatter(request)
    shown = {name: fmt.day(v) if isinstance(v, date) else v for name, v in values.items()}
    context = {
        "question": Text(question.text, shown),
        "yes": question.yes,
        "action": request.url.path,
        "fields": dict(fields or {}),
        "back": back,
    }
    return render(request, "sure.html", context, user=user)
