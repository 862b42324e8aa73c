"""The Einsatzbestätigung's pages answer hostile values in every form with a page, never a
server error: the requester's link (confirm, dispute with a reason), the caseworker's list and
the coordinator's approvals, with a reported job waiting (the values and the crawl:
`tests.hostile`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.hostile import Form, crawl, forms_on, server_errors
from tests.jobs.conftest import Job, confirm_links
from tests.jobs.test_confirmation_api import report
from tests.offers.conftest import Outbox
from tests.web import conftest as web_fixtures
from tests.web.conftest import Person, sign_in

make_person = web_fixtures.make_person
coord_person = web_fixtures.coord_person


@pytest.mark.slow
def test_no_confirmation_page_form_answers_a_hostile_value_with_a_server_error(
    app: FastAPI,
    client: TestClient,
    job_over: Job,
    outbox: Outbox,
    make_person: Callable[..., Person],
    coord_person: Person,
) -> None:
    assert report(client, job_over).status_code == 201
    [token] = confirm_links(outbox)
    caseworker = make_person("caseworker", "Jobcenter Kreis Warendorf")
    # Every page's forms are read while the job still waits (a hostile reason is still a
    # reason: the first dispute answers it), each in a browser of its own; then sent.
    found: list[tuple[TestClient, list[Form]]] = []
    for page, person in ((f"/c/{token}", None), ("/confirmations", caseworker),
                         ("/dashboard/job-reports", coord_person)):  # fmt: skip
        browser = TestClient(
            app, base_url="https://testserver", raise_server_exceptions=False,
            follow_redirects=False,
        )  # fmt: skip
        if person is not None:
            assert sign_in(browser, person).status_code == 303
        found.append((browser, forms_on(crawl(browser, page, most=1))))
    failures: list[str] = []
    for browser, forms in found:
        for form in forms:
            failures += server_errors(browser, form)
        browser.close()
    assert not failures, "\n".join(failures)
    actions = {form.action for _, forms in found for form in forms}
    assert {f"/c/{token}/confirm", f"/c/{token}/dispute"} <= actions, actions
    assert f"/confirmations/{job_over.assignment_id}" in actions, actions
    assert "/dashboard/job-reports/approve" in actions, actions
