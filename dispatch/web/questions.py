"""What an action that cannot be undone asks first ("are you sure?"), in one place.

The same `Question` gives the words of its form's ``data-confirm`` (through
``f.question`` in the template, which every page may reach as ``questions``) and
of the page that asks without scripts (dispatch/web/sure.py), so the two cannot
say different things. It lives apart from sure.py because the page rendering
needs it, and sure.py needs the page rendering.
"""

from __future__ import annotations

from dataclasses import dataclass

from locales import N_


@dataclass(frozen=True)
class Question:
    """What an action asks before it happens (a msgid with its values' names) and the
    button that says yes."""

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
ERASE_STAFF = Question(
    N_(
        "Erase %(name)s's name and email address from Sprachpool and from every message? "
        "This cannot be undone."
    ),
    N_("Yes, erase the person's data"),
)
