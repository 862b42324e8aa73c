"""The request page after the job: record a no-show, give feedback on the mediator's report
(confirm or dispute), mark "not again for this client"; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dispatch.jobs.models import JobReport
from dispatch.offers.models import Assignment
from dispatch.requests.models import ClientExclusion, Request
from tests.jobs.conftest import CLIENT_REF, Job
from tests.jobs.test_confirmation_api import report
from tests.web import conftest as web_fixtures
from tests.web.conftest import Person, csrf_of
from tests.web.test_sure import asks_first, say_yes

web = web_fixtures.web
make_person = web_fixtures.make_person
case_person = web_fixtures.case_person
signed_in = web_fixtures.signed_in


def test_a_no_show_is_recorded_from_the_request_page(
    job_over: Job, signed_in: Callable[[Person], TestClient], case_person: Person, engine: Engine
) -> None:
    web = signed_in(case_person)
    page = web.get(f"/requests/{job_over.request_id}")
    assert page.status_code == 200 and 'id="after-the-job"' in page.text
    assert f'action="/requests/{job_over.request_id}/no-show"' in page.text

    done = web.post(
        f"/requests/{job_over.request_id}/no-show",
        data={"csrf_token": csrf_of(page), "sure": "yes"},
    )

    assert done.status_code == 303
    assert done.headers["location"].endswith("?done=no_show#after-the-job")
    with Session(engine) as session:
        assert session.get(Assignment, job_over.assignment_id).no_show  # type: ignore[union-attr]
    after = web.get(done.headers["location"])
    assert "Das Nichterscheinen ist vermerkt." in after.text
    assert "/no-show" not in after.text  # recorded once


def test_feedback_disputes_the_report_with_the_reason_beside_the_field(
    client: TestClient,
    job_over: Job,
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    engine: Engine,
) -> None:
    web = signed_in(case_person)
    before = web.get(f"/requests/{job_over.request_id}")
    assert "noch nicht gemeldet" in before.text  # feedback waits for the report
    assert report(client, job_over).status_code == 201
    page = web.get(f"/requests/{job_over.request_id}")
    assert f'action="/requests/{job_over.request_id}/feedback"' in page.text
    token = csrf_of(page)

    refused = web.post(
        f"/requests/{job_over.request_id}/feedback",
        data={"csrf_token": token, "decision": "dispute", "reason": "  "},
    )
    assert refused.status_code == 422
    assert 'id="feedback-reason-error"' in refused.text
    assert "Bitte sagen Sie, was nicht stimmt." in refused.text
    with Session(engine) as session:
        assert session.exec(select(JobReport)).one().state == "reported"

    done = web.post(
        f"/requests/{job_over.request_id}/feedback",
        data={"csrf_token": token, "decision": "dispute", "reason": "ended at 10:15"},
    )
    assert done.status_code == 303 and "done=disputed" in done.headers["location"]
    with Session(engine) as session:
        disputed = session.exec(select(JobReport)).one()
        assert (disputed.state, disputed.dispute_reason) == ("disputed", "ended at 10:15")


def test_not_again_for_this_client_from_the_request_page(
    job_over: Job, signed_in: Callable[[Person], TestClient], case_person: Person, engine: Engine
) -> None:
    web = signed_in(case_person)
    page = web.get(f"/requests/{job_over.request_id}")

    done = web.post(
        f"/requests/{job_over.request_id}/not-for-client",
        data={"csrf_token": csrf_of(page), "sure": "yes"},
    )

    assert done.status_code == 303
    with Session(engine) as session:
        mark = session.exec(select(ClientExclusion)).one()
        assert (mark.mediator_id, mark.marked_by) == (job_over.mediator_id, "caseworker")
    after = web.get(done.headers["location"])
    assert f'action="/requests/{job_over.request_id}/not-for-client"' not in after.text
    assert "nicht mehr für diese Person angefragt" in after.text


def test_a_client_reference_is_erased_from_the_request_page(
    job_over: Job, signed_in: Callable[[Person], TestClient], case_person: Person, engine: Engine
) -> None:
    """The client asked to be forgotten: one button on the page where the reference is seen."""
    web = signed_in(case_person)
    web.post(
        f"/requests/{job_over.request_id}/not-for-client",
        data={"csrf_token": csrf_of(web.get(f"/requests/{job_over.request_id}")), "sure": "yes"},
    )
    page = web.get(f"/requests/{job_over.request_id}")
    assert CLIENT_REF in page.text and 'id="erase-client"' in page.text

    done = web.post(
        f"/requests/{job_over.request_id}/erase-client",
        data={"csrf_token": csrf_of(page), "sure": "yes"},
    )

    assert done.status_code == 303
    with Session(engine) as session:
        assert session.get(Request, job_over.request_id).client_ref is None  # type: ignore[union-attr]
        assert session.exec(select(ClientExclusion)).all() == []
    after = web.get(done.headers["location"])
    assert CLIENT_REF not in after.text and 'id="erase-client"' not in after.text
    assert "Die Referenz ist aus allen Anfragen der Organisation" in after.text


def test_another_organisations_caseworker_cannot_erase_the_reference(
    job_over: Job,
    signed_in: Callable[[Person], TestClient],
    make_person: Callable[..., Person],
    engine: Engine,
) -> None:
    stranger = signed_in(make_person("caseworker", organisation="Stadt Ahlen"))
    form = stranger.get("/requests")
    answer = stranger.post(
        f"/requests/{job_over.request_id}/erase-client",
        data={"csrf_token": csrf_of(form), "sure": "yes"},
    )
    assert answer.status_code == 404
    with Session(engine) as session:
        assert session.get(Request, job_over.request_id).client_ref == CLIENT_REF  # type: ignore[union-attr]


def test_a_no_show_and_not_again_for_this_client_are_recorded_only_after_a_yes(
    job_over: Job, signed_in: Callable[[Person], TestClient], case_person: Person, engine: Engine
) -> None:
    """Without a script the page asks first; "No" goes back to "After the job"."""
    web = signed_in(case_person)
    page = web.get(f"/requests/{job_over.request_id}")
    no_show = f"/requests/{job_over.request_id}/no-show"
    not_for_client = f"/requests/{job_over.request_id}/not-for-client"

    asked_no_show = asks_first(web, page, no_show)
    asked_client = asks_first(web, page, not_for_client)

    with Session(engine) as session:
        assert not session.get(Assignment, job_over.assignment_id).no_show  # type: ignore[union-attr]
        assert session.exec(select(ClientExclusion)).all() == []
    back = f'href="/requests/{job_over.request_id}#after-the-job"'
    assert back in asked_no_show.text and back in asked_client.text
    assert "?done=no_show" in say_yes(web, asked_no_show, no_show).headers["location"]
    assert "?done=not_for_client" in say_yes(web, asked_client, not_for_client).headers["location"]
    with Session(engine) as session:
        assert session.get(Assignment, job_over.assignment_id).no_show  # type: ignore[union-attr]
        assert len(session.exec(select(ClientExclusion)).all()) == 1


def test_a_client_reference_is_erased_only_after_a_yes(
    job_over: Job, signed_in: Callable[[Person], TestClient], case_person: Person, engine: Engine
) -> None:
    """GDPR erasure cannot be undone: without a script the page asks, naming the reference."""
    web = signed_in(case_person)
    erase = f"/requests/{job_over.request_id}/erase-client"

    asked = asks_first(web, web.get(f"/requests/{job_over.request_id}"), erase)

    assert CLIENT_REF in asked.text
    with Session(engine) as session:
        assert session.get(Request, job_over.request_id).client_ref == CLIENT_REF  # type: ignore[union-attr]
    done = say_yes(web, asked, erase)
    assert done.headers["location"] == f"/requests/{job_over.request_id}?done=client_erased"
    with Session(engine) as session:
        assert session.get(Request, job_over.request_id).client_ref is None  # type: ignore[union-attr]
