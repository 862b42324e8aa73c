"""Everything a mediator sees is in their own language: the offer page in each of its
states, the report page, their own page and every message, right to left in Arabic and
Farsi. A text missing from their catalog would show its German fallback (or the English
msgid): neither may appear."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

import locales
from tests.catalog_texts import assert_only_in, foreign_texts
from tests.conftest import Staff, request_payload
from tests.offers.conftest import Outbox


def assert_message_only_in(text: str, locale: str) -> None:
    for other in {"de", "en"} - {locale}:
        found = [f.text for f in foreign_texts(locale, other) if f.pattern.search(text)]
        assert found == [], (other, text)


@pytest.mark.parametrize("locale", locales.MEDIATOR_LOCALES)
def test_a_mediators_pages_and_messages_speak_their_language(
    locale: str,
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
) -> None:
    make_pool(3, message_locale=locale, channels=["sms", "email"])
    created = client.post(
        "/api/v1/requests",
        json=request_payload(notes="Bitte am Empfang melden", contact_name="Frau Jansen"),
        headers=caseworker.headers,
    ).json()
    first, second, third = outbox.links().values()
    t = locales.translator(locale)

    pending = client.get(f"/o/{first}").text
    assert t.gettext("Can you take this job?") in pending
    assert_only_in(pending, locale)
    client.post(f"/o/{third}/decline", data={"reason": "krank"})
    assert_only_in(client.get(f"/o/{third}").text, locale)  # declined
    assert client.post(f"/o/{first}/accept", follow_redirects=False).status_code == 303
    accepted = client.get(f"/o/{first}").text
    assert t.gettext("Thank you! The job is yours.") in accepted
    assert_only_in(accepted, locale)
    late = client.post(f"/o/{second}/accept")  # someone else was faster
    assert late.status_code == 409 and t.gettext("Already taken") in late.text
    assert_only_in(late.text, locale)
    assert_only_in(client.get(f"/o/{second}").text, locale)  # withdrawn

    own = client.post(f"/o/{first}/mine", follow_redirects=False).headers["location"]
    assert_only_in(client.get(own).text, locale)
    paused = client.post(
        own + "/pause", data={"csrf_token": csrf(client.get(own).text)}, follow_redirects=True
    )
    assert_only_in(paused.text, locale)

    advance(hours=1, minutes=1)  # 24 hours before the start: the reminder
    advance(hours=22)  # 2 hours before: the last reminder
    advance(hours=5)  # Tuesday 12:01: the job is over, the report link has gone out
    [report] = outbox.links("completion_request").values()
    assert_only_in(client.get(f"/o/{report}").text, locale)
    wrong = client.post(
        f"/o/{report}/report",
        data={"actual_start": "lots", "actual_end": "10:35", "travel_km": "-1"},
    )
    assert wrong.status_code == 422
    assert t.gettext("Please enter a time such as 09:30.") in wrong.text
    assert t.gettext("Please enter km from 0 to 500, e.g. 12,5.") in wrong.text
    assert_only_in(wrong.text, locale)
    client.post(
        f"/o/{report}/report",
        data={"actual_start": "09:00", "actual_end": "10:35", "travel_km": "3", "outcome": "done"},
    )
    assert_only_in(client.get(f"/o/{report}").text, locale)  # reported

    sent = [m for m in outbox.messages() if m.recipient_kind == "mediator"]
    assert {m.kind for m in sent} >= {
        "offer",
        "assignment_confirmed_mediator",
        "reminder_24h",
        "reminder_2h",
        "completion_request",
    }
    for message in sent:
        assert message.locale == locale
        assert_message_only_in(f"{message.subject or ''}\n{message.body}", locale)
    assert created["status"] == "offered"


def csrf(html: str) -> str:
    import re

    match = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html)
    assert match
    return match[1]
