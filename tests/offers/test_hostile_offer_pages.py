"""The mediator's offer pages answer hostile values in every form with a page, never a server
error: the offer (accept, decline with a reason) and, after the job, the report of hours, travel
and tickets (the values and the crawl: `tests.hostile`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Staff, request_payload
from tests.hostile import crawl, forms_on, server_errors
from tests.offers.conftest import Outbox


@pytest.mark.slow
def test_no_offer_page_form_answers_a_hostile_value_with_a_server_error(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
) -> None:
    make_pool(3)
    filed = client.post("/api/v1/requests", json=request_payload(), headers=caseworker.headers)
    assert filed.status_code == 201, filed.text
    first, second, third = outbox.links().values()
    failures: list[str] = []
    offer_forms = forms_on(crawl(client, f"/o/{first}"))
    for form in offer_forms:
        failures += server_errors(client, form)
    # Whoever the hammering left the job to, or the third: the job is taken, then over.
    for token in (first, second, third):
        if client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303:
            break
    # The accepted page: confirm, and give back (which asks first; a hostile `sure` too).
    accepted_forms = forms_on(crawl(client, f"/o/{token}"))
    for form in accepted_forms:
        failures += server_errors(client, form)
    for sure in ("", "no", "YES", "y" * 5000, "\x00", "ja"):
        answer = client.post(f"/o/{token}/cancel", data={"sure": sure}, follow_redirects=False)
        if answer.status_code >= 500:
            failures.append(f"POST /o/{token}/cancel sure={sure[:20]!r}: {answer.status_code}")
        elif answer.status_code != 303:
            assert 200 <= answer.status_code < 500
    advance(hours=27)  # Tuesday 12:01: the job (09:00-10:00) is over, the report asked for
    [report] = outbox.links("completion_request").values()
    report_forms = forms_on(crawl(client, f"/o/{report}"))
    for form in report_forms:
        failures += server_errors(client, form)
    assert not failures, "\n".join(failures)
    actions = {form.action for form in offer_forms + accepted_forms + report_forms}
    assert {f"/o/{first}/accept", f"/o/{first}/decline"} <= actions, actions
    assert f"/o/{token}/cancel" in actions, actions
    assert any(action.endswith("/report") for action in actions), actions
