"""The Einsatzbestätigung's pages: the requester's one-click link, their list, the coordinator's
approvals; on SQLite and PostgreSQL. A refused answer writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dispatch.jobs.models import ConfirmationLink, JobReport
from tests.jobs.conftest import Job, confirm_links
from tests.jobs.test_confirmation_api import report
from tests.offers.conftest import Outbox
from tests.web import conftest as web_fixtures
from tests.web.conftest import Person, csrf_of

web = web_fixtures.web
other_web = web_fixtures.other_web
make_person = web_fixtures.make_person
case_person = web_fixtures.case_person
coord_person = web_fixtures.coord_person
signed_in = web_fixtures.signed_in


def state(engine: Engine) -> str:
    with Session(engine) as session:
        return str(session.exec(select(JobReport)).one().state)


def test_the_link_confirms_once_with_one_click(
    client: TestClient, web: TestClient, job_over: Job, outbox: Outbox, engine: Engine
) -> None:
    assert report(client, job_over).status_code == 201
    [token] = confirm_links(outbox)
    page = web.get(f"/c/{token}")
    assert page.status_code == 200
    assert "Einsatz bestätigen" in page.text and "Mediator 1" in page.text
    assert state(engine) == "reported"  # opening the link changes nothing
    assert web.post(f"/c/{token}/confirm").status_code == 403  # no form token
    done = web.post(f"/c/{token}/confirm", data={"csrf_token": csrf_of(page)})
    assert done.status_code == 303 and done.headers["location"] == "/c/answered?state=confirmed"
    assert "Der Einsatz ist bestätigt" in web.get(done.headers["location"]).text
    assert state(engine) == "confirmed"
    again = web.get(f"/c/{token}")
    assert again.status_code == 410 and "Dieser Link gilt nicht mehr" in again.text
    second = web.post(f"/c/{token}/dispute", data={"csrf_token": csrf_of(page), "reason": "x"})
    assert second.status_code == 410
    assert state(engine) == "confirmed"
    with Session(engine) as session:
        link = session.exec(select(ConfirmationLink)).one()
        assert link.used_at is not None and link.token_hash != token  # only its hash is kept


def test_the_link_is_not_for_another_organisation_nor_forged(
    client: TestClient,
    web: TestClient,
    job_over: Job,
    outbox: Outbox,
    engine: Engine,
    make_person: Callable[..., Person],
    signed_in: Callable[[Person], TestClient],
) -> None:
    assert report(client, job_over).status_code == 201
    [token] = confirm_links(outbox)
    assert web.get("/c/forged-token").status_code == 404
    stranger = signed_in(make_person("caseworker", "Stadt Beckum – Sozialamt"))
    refused = stranger.get(f"/c/{token}")
    assert refused.status_code == 403
    assert state(engine) == "reported"


def test_disputing_by_link_needs_a_reason(
    client: TestClient, web: TestClient, job_over: Job, outbox: Outbox, engine: Engine
) -> None:
    assert report(client, job_over).status_code == 201
    [token] = confirm_links(outbox)
    page = web.get(f"/c/{token}")
    empty = web.post(f"/c/{token}/dispute", data={"csrf_token": csrf_of(page), "reason": " "})
    assert empty.status_code == 422 and "Bitte sagen Sie, was nicht stimmt." in empty.text
    assert state(engine) == "reported"
    disputed = web.post(
        f"/c/{token}/dispute", data={"csrf_token": csrf_of(page), "reason": "Ende 10:15"}
    )
    assert disputed.status_code == 303 and state(engine) == "disputed"


def test_the_caseworker_confirms_from_the_list(
    client: TestClient,
    job_over: Job,
    engine: Engine,
    case_person: Person,
    signed_in: Callable[[Person], TestClient],
) -> None:
    assert report(client, job_over).status_code == 201
    browser = signed_in(case_person)
    listed = browser.get("/confirmations")
    assert listed.status_code == 200 and "Zu bestätigende Einsätze" in listed.text
    assert f"job-{job_over.assignment_id}" in listed.text
    answered = browser.post(
        f"/confirmations/{job_over.assignment_id}",
        data={"csrf_token": csrf_of(listed), "decision": "confirm"},
    )
    assert answered.status_code == 303
    assert state(engine) == "confirmed"
    after = browser.get(answered.headers["location"])
    assert "Kein Einsatz wartet auf Ihre Bestätigung." in after.text


def test_disputing_from_the_list_without_a_reason_marks_that_job_s_field(
    client: TestClient,
    job_over: Job,
    engine: Engine,
    case_person: Person,
    signed_in: Callable[[Person], TestClient],
) -> None:
    """Blanks pass the browser's `required`; the list comes back, the job's field marked."""
    assert report(client, job_over).status_code == 201
    browser = signed_in(case_person)
    listed = browser.get("/confirmations")
    refused = browser.post(
        f"/confirmations/{job_over.assignment_id}",
        data={"csrf_token": csrf_of(listed), "decision": "dispute", "reason": "   "},
    )
    assert refused.status_code == 422
    assert (
        'aria-invalid="true"' in refused.text
        and "Bitte sagen Sie, was nicht stimmt." in refused.text
    )
    assert f"job-{job_over.assignment_id}" in refused.text  # still waiting, in the list
    assert state(engine) == "reported"


def test_the_coordinator_approves_singly_and_needs_a_reason_for_unconfirmed_jobs(
    client: TestClient,
    job_over: Job,
    engine: Engine,
    coord_person: Person,
    signed_in: Callable[[Person], TestClient],
) -> None:
    assert report(client, job_over).status_code == 201
    browser = signed_in(coord_person)
    page = browser.get("/dashboard/job-reports")
    assert page.status_code == 200 and "wartet auf Bestätigung" in page.text
    form = {"csrf_token": csrf_of(page), "assignment_id": str(job_over.assignment_id)}
    refused = browser.post("/dashboard/job-reports/approve", data=form)
    assert refused.status_code == 422 and "braucht eine Begründung" in refused.text
    assert state(engine) == "reported"
    nothing = browser.post(
        "/dashboard/job-reports/approve", data={"csrf_token": form["csrf_token"]}
    )
    assert nothing.status_code == 422
    for typed in ("²", "9" * 30):  # "²" passed isdigit() and broke int(): a server error before
        not_an_id = browser.post(
            "/dashboard/job-reports/approve", data={**form, "assignment_id": typed}
        )
        assert not_an_id.status_code == 422 and "mindestens einen Einsatz" in not_an_id.text
    done = browser.post(
        "/dashboard/job-reports/approve", data={**form, "reason": "Telefonisch bestätigt"}
    )
    assert done.status_code == 303 and state(engine) == "approved"
    decided = browser.get("/dashboard/job-reports?show=done")
    assert "Telefonisch bestätigt" in decided.text and "freigegeben" in decided.text


def test_approving_an_unconfirmed_job_without_a_reason_marks_the_rows_reason_field(
    client: TestClient,
    job_over: Job,
    engine: Engine,
    coord_person: Person,
    signed_in: Callable[[Person], TestClient],
) -> None:
    """The approvals page comes back with the message beside the row's reason, not the
    general error page."""
    assert report(client, job_over).status_code == 201
    browser = signed_in(coord_person)
    page = browser.get("/dashboard/job-reports")
    field = f"reason-{job_over.assignment_id}"
    refused = browser.post(
        "/dashboard/job-reports/approve",
        data={
            "csrf_token": csrf_of(page),
            "assignment_id": str(job_over.assignment_id),
            "single": "1",
            "reason": "  ",
        },
    )
    assert refused.status_code == 422
    assert f'id="job-{job_over.assignment_id}"' in refused.text  # the approvals, not an error page
    assert f'id="{field}-error"' in refused.text
    assert f'aria-describedby="{field}-error" aria-invalid="true"' in refused.text
    assert "braucht eine Begründung" in refused.text
    assert state(engine) == "reported"


def test_approving_the_chosen_jobs_without_a_reason_keeps_the_ticks(
    client: TestClient,
    job_over: Job,
    engine: Engine,
    coord_person: Person,
    signed_in: Callable[[Person], TestClient],
) -> None:
    assert report(client, job_over).status_code == 201
    browser = signed_in(coord_person)
    page = browser.get("/dashboard/job-reports")
    refused = browser.post(
        "/dashboard/job-reports/approve",
        data={"csrf_token": csrf_of(page), "assignment_id": str(job_over.assignment_id)},
    )
    assert refused.status_code == 422
    assert 'id="bulk-reason-error"' in refused.text
    assert f"Stelle hat Nr. {job_over.request_id} nicht bestätigt" in refused.text
    assert f'value="{job_over.assignment_id}" form="bulk"' in refused.text
    assert "checked" in refused.text.split(f'value="{job_over.assignment_id}" form="bulk"')[1][:80]
    nothing = browser.post("/dashboard/job-reports/approve", data={"csrf_token": csrf_of(page)})
    assert nothing.status_code == 422 and 'id="bulk-error"' in nothing.text
    assert state(engine) == "reported"
    browser.get("/lang/en")
    english = browser.post(
        "/dashboard/job-reports/approve",
        data={"csrf_token": csrf_of(page), "assignment_id": str(job_over.assignment_id)},
    )
    assert f"No. {job_over.request_id} is not confirmed by the requester" in english.text


def test_a_caseworker_may_not_open_the_approvals(
    web: TestClient, case_person: Person, signed_in: Callable[[Person], TestClient]
) -> None:
    assert signed_in(case_person).get("/dashboard/job-reports").status_code == 403


def test_the_report_form_reads_arabic_and_persian_digits(
    client: TestClient, job_over: Job, engine: Engine
) -> None:
    """A phone that writes Arabic types ١٢٫٥ for 12.5; the SMS codes were read so already."""
    done = client.post(
        f"/o/{job_over.report_token}/report",
        data={
            "actual_start": "٠٩:٠٠",
            "actual_end": "۱۰:۳۵",  # Persian digits
            "waiting_minutes": "٥",
            "travel_km": "١٢٫٥",
            "outcome": "done",
        },
        follow_redirects=False,
    )

    assert done.status_code == 303, done.text
    with Session(engine) as session:
        stored = session.exec(select(JobReport)).one()
    assert (stored.waiting_minutes, stored.travel_km) == (5, Decimal("12.5"))


def test_the_report_form_reads_a_time_typed_without_a_time_picker(
    client: TestClient, job_over: Job, engine: Engine
) -> None:
    """A data-saving or older phone browser shows the time fields as text boxes: 9.05 and
    10.45 as people write them. Read as ISO, 10.45 was 10:00 (and 0.45 seconds), the job
    three quarters of an hour shorter than worked, and 9.05 was refused."""
    done = client.post(
        f"/o/{job_over.report_token}/report",
        data={"actual_start": "9.05", "actual_end": "10.45", "outcome": "done"},
        follow_redirects=False,
    )

    assert done.status_code == 303, done.text
    with Session(engine) as session:
        stored = session.exec(select(JobReport)).one()
    assert stored.actual_end - stored.actual_start == timedelta(minutes=100)
