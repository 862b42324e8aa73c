"""Every form a caseworker, a coordinator or a mediator (on their own link) can reach answers
hostile values with a page, never a server error (the values and the crawl: `tests.hostile`).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dispatch.clock import ManualClock
from dispatch.storage import unit_of_work
from dispatch.web.links import issue_mediator_link
from tests.hostile import crawl, forms_on, server_errors
from tests.web.conftest import Person, sign_in


@pytest.mark.slow
def test_no_form_answers_a_hostile_value_with_a_server_error(
    web: TestClient,
    coord_person: Person,
    case_person: Person,
    place: object,
    add_mediator: Callable[..., int],
    file_request: Callable[..., object],
    engine: Engine,
    clock: ManualClock,
) -> None:
    mediator_ids = [add_mediator() for _ in range(2)]
    for _ in range(2):
        file_request(case_person)
    failures: list[str] = []
    reached = {}
    # The mediator's own link (their jobs, pause and resume) first: it needs no sign-in.
    with unit_of_work(engine) as session:
        link = issue_mediator_link(session, mediator_id=mediator_ids[0], now=clock.now())
    for form in forms_on(crawl(web, link)):
        failures += server_errors(web, form)
    # The caseworker first: the coordinator's forms may change the caseworker's account.
    for person in (case_person, coord_person):
        web.cookies.clear()
        assert sign_in(web, person).status_code == 303
        forms = forms_on(crawl(web))
        reached[person.email] = len(forms)
        for form in forms:
            failures += server_errors(web, form)
            if web.get("/").headers.get("location", "").startswith("/login"):
                # A form signed this person out (their own password, say): back in, and on.
                assert sign_in(web, person).status_code == 303, form
    assert not failures, "\n".join(failures)
    # Whatever the forms took is shown again without a server error: every page and export
    # (the crawl asserts it), as the coordinator reads them now.
    crawl(web)
    # The crawl reached the forms it should: the request form, the pool, the staff pages...
    assert reached[case_person.email] >= 5 and reached[coord_person.email] >= 30, reached
