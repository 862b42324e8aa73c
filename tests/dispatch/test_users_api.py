"""Staff accounts over the API: invite by a sign-in link, a new link, deactivate."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dispatch.outbox.models import Message
from dispatch.web.models import AccessLink
from tests.conftest import Staff


def invitations(engine: Engine, email: str) -> list[Message]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(Message)
                .where(Message.recipient == email, Message.kind == "staff_invitation")
                .order_by(col(Message.id))
            )
        )


def link_in(message: Message) -> str:
    match = re.search(r"https://sprachpool\.test(/login/link/[\w-]+)", message.body)
    assert match, message.body
    return match[1]


def test_coordinator_invites_a_caseworker_who_gets_one_link_by_email(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    response = client.post(
        "/api/v1/users",
        json={
            "email": "Neu@Jobcenter.example",
            "name": "Nora Neu",
            "role": "caseworker",
            "organisation_id": caseworker.organisation_id,
            "locale": "en",
        },
        headers=coordinator.headers,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["has_password"] is False and created["active"] is True
    assert created["organisation_name"] == "Jobcenter Kreis Warendorf"
    assert created["last_invited_at"] is not None
    [mail] = invitations(engine, "Neu@Jobcenter.example")
    assert mail.channel == "email" and mail.locale == "en"
    assert mail.subject == "Your access to Sprachpool"
    assert "works once and for 48 hours" in mail.body
    assert "https://sprachpool.test/login" in mail.body
    token = link_in(mail).rsplit("/", 1)[1]
    with Session(engine) as session:
        stored = session.exec(select(AccessLink.token_hash)).all()
    assert token not in stored and len(stored) == 1  # only the hash is kept

    # The same address again, in other letters: refused beside the field.
    again = client.post(
        "/api/v1/users",
        json={"email": "neu@jobcenter.example", "name": "N", "role": "caseworker"},
        headers=coordinator.headers,
    )
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "email"

    listed = client.get("/api/v1/users", headers=coordinator.headers).json()
    assert {u["email"] for u in listed} >= {"Neu@Jobcenter.example"}


def test_a_new_link_replaces_the_old_one(
    client: TestClient, coordinator: Staff, engine: Engine
) -> None:
    created = client.post(
        "/api/v1/users",
        json={"email": "k@beckum.example", "name": "Kai", "role": "coordinator"},
        headers=coordinator.headers,
    ).json()
    assert created["organisation_id"] == coordinator.organisation_id
    response = client.post(f"/api/v1/users/{created['id']}/invite", headers=coordinator.headers)
    assert response.status_code == 200, response.text
    assert response.json()["email"] == "k@beckum.example"
    first, second = invitations(engine, "k@beckum.example")
    assert link_in(first) != link_in(second)
    assert client.get(link_in(first)).status_code == 410
    assert client.get(link_in(second)).status_code == 200


def test_deactivating_ends_tokens_and_refuses_oneself(
    client: TestClient, coordinator: Staff, caseworker: Staff
) -> None:
    assert client.get("/api/v1/places", headers=caseworker.headers).status_code == 200
    response = client.delete(f"/api/v1/users/{caseworker.user_id}", headers=coordinator.headers)
    assert response.status_code == 200
    assert response.json()["active"] is False
    assert client.get("/api/v1/places", headers=caseworker.headers).status_code == 401
    own = client.delete(f"/api/v1/users/{coordinator.user_id}", headers=coordinator.headers)
    assert own.status_code == 409
    assert client.delete("/api/v1/users/4711", headers=coordinator.headers).status_code == 404


def test_bad_accounts_are_refused_with_the_field(client: TestClient, coordinator: Staff) -> None:
    cases = [
        ({"email": "kein-at", "name": "X", "role": "caseworker"}, "email"),
        ({"email": "a@b.example", "name": "", "role": "caseworker"}, "name"),
        ({"email": "a@b.example", "name": "X", "role": "admin"}, "role"),
        ({"email": "a@b.example", "name": "X", "role": "caseworker", "locale": "fr"}, "locale"),
        (
            {"email": "a@b.example", "name": "X", "role": "caseworker", "organisation_id": 4711},
            "organisation_id",
        ),
    ]
    for body, field in cases:
        response = client.post("/api/v1/users", json=body, headers=coordinator.headers)
        assert response.status_code == 422, (body, response.text)
        assert field in {e["field"] for e in response.json()["errors"]}, response.text


def test_caseworkers_may_not_manage_staff(client: TestClient, caseworker: Staff) -> None:
    for method, path in (
        ("get", "/api/v1/users"),
        ("post", "/api/v1/users"),
        ("post", f"/api/v1/users/{caseworker.user_id}/invite"),
        ("delete", f"/api/v1/users/{caseworker.user_id}"),
    ):
        body = {"email": "x@y.example", "name": "X", "role": "coordinator"}
        response = client.request(method, path, json=body, headers=caseworker.headers)
        assert response.status_code == 403, (method, path)


def test_one_address_is_one_account_however_its_domain_is_spelled(
    client: TestClient, coordinator: Staff, caseworker: Staff
) -> None:
    """With umlauts, with decomposed umlauts (as some keyboards send them) or in the
    ASCII form mail goes to: the same mailbox, so the same account."""
    body = {"name": "Bäckerei", "role": "caseworker", "organisation_id": caseworker.organisation_id}
    first = client.post(
        "/api/v1/users",
        json={**body, "email": "info@bäckerei-müller.de"},
        headers=coordinator.headers,
    )
    assert first.status_code == 201, first.text
    for spelling in ("INFO@xn--bckerei-mller-bfb28a.de", "info@ba\u0308ckerei-mu\u0308ller.de"):
        again = client.post(
            "/api/v1/users", json={**body, "email": spelling}, headers=coordinator.headers
        )
        assert again.status_code == 409, (spelling, again.text)
