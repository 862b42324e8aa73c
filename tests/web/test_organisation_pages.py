"""The coordinator's organisation pages: add, kind, mediator lists, own dispatch rules."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dispatch.organisations import service
from dispatch.users.models import Organisation, OrganisationKind
from tests.web.conftest import Person, csrf_of


def organisation_named(engine: Engine, name: str) -> Organisation | None:
    with Session(engine) as session:
        return session.exec(select(Organisation).where(Organisation.name == name)).first()


def test_coordinator_adds_an_organisation_with_lists_and_rules(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    amina = add_mediator(name="Amina Haddad")
    yonas = add_mediator(name="Yonas Habte")
    web = signed_in(coord_person)
    page = web.get("/dashboard/organisations/new")
    assert page.status_code == 200
    assert "Amina Haddad" in page.text and "Yonas Habte" in page.text
    response = web.post(
        "/dashboard/organisations/new",
        data={
            "csrf_token": csrf_of(page),
            "name": "Caritas Beckum",
            "kind": "non_profit",
            "broadcast_offer_minutes": "20",
            f"list-{amina}": "preferred",
            f"list-{yonas}": "excluded",
        },
    )
    assert response.status_code == 303, response.text
    saved = organisation_named(engine, "Caritas Beckum")
    assert saved is not None
    assert saved.kind == OrganisationKind.non_profit
    assert saved.policy == {"broadcast_offer_minutes": 20}
    with Session(engine) as session:
        lists = service.mediator_lists(session, organisation_id=saved.id)
    assert lists == {"preferred": [amina], "excluded": [yonas]}
    listing = web.get("/dashboard/organisations")
    assert "Caritas Beckum" in listing.text and "gemeinnützig" in listing.text

    edit = web.get(f"/dashboard/organisations/{saved.id}")
    assert f'name="list-{amina}" value="preferred" checked' in edit.text
    response = web.post(
        f"/dashboard/organisations/{saved.id}",
        data={
            "csrf_token": csrf_of(edit),
            "name": "Caritas Beckum",
            "kind": "non_profit",
            f"list-{amina}": "",
            f"list-{yonas}": "preferred",
        },
    )
    assert response.status_code == 303
    with Session(engine) as session:
        lists = service.mediator_lists(session, organisation_id=saved.id)
        assert lists == {"preferred": [yonas], "excluded": []}
        refreshed = session.get(Organisation, saved.id)
        assert refreshed is not None and refreshed.policy is None


def test_bad_input_is_shown_beside_the_fields_and_kept(
    signed_in: Callable[[Person], TestClient], coord_person: Person, engine: Engine
) -> None:
    web = signed_in(coord_person)
    page = web.get("/dashboard/organisations/new")
    response = web.post(
        "/dashboard/organisations/new",
        data={
            "csrf_token": csrf_of(page),
            "name": "",
            "kind": "private",
            "latest_offer_before_start_minutes": "viel",
            "reconfirm_deadline_hours": "500",
        },
    )
    assert response.status_code == 422
    text = response.text
    assert 'id="name-error"' in text and 'id="kind-error"' in text
    assert 'id="latest_offer_before_start_minutes-error"' in text
    assert "Bitte geben Sie eine ganze Zahl an." in text
    assert "höchstens 72" in text
    assert 'value="viel"' in text and 'value="500"' in text

    response = web.post(
        "/dashboard/organisations/new",
        data={"csrf_token": csrf_of(page), "name": coord_person.user.name, "kind": "public"},
    )
    assert response.status_code == 303
    response = web.post(
        "/dashboard/organisations/new",
        data={"csrf_token": csrf_of(page), "name": coord_person.user.name, "kind": "public"},
    )
    assert response.status_code == 409
    assert "Dieser Name ist schon vergeben" in response.text


def test_a_caseworker_may_not_open_the_organisation_pages(
    signed_in: Callable[[Person], TestClient], case_person: Person
) -> None:
    web = signed_in(case_person)
    assert web.get("/dashboard/organisations").status_code == 403
    assert web.get(f"/dashboard/organisations/{case_person.organisation_id}").status_code == 403


def test_a_list_entry_that_names_no_mediator_id_is_left_out(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    amina = add_mediator(name="Amina Haddad")
    web = signed_in(coord_person)
    page = web.get("/dashboard/organisations/new")
    response = web.post(
        "/dashboard/organisations/new",
        data={
            "csrf_token": csrf_of(page),
            "name": "Caritas Beckum",
            "kind": "non_profit",
            f"list-{amina}": "preferred",
            # "²" passed isdigit() and broke int(): a server error before.
            "list-²": "preferred",
            "list-" + "9" * 30: "excluded",
        },
    )
    assert response.status_code == 303, response.text
    saved = organisation_named(engine, "Caritas Beckum")
    assert saved is not None
    with Session(engine) as session:
        lists = service.mediator_lists(session, organisation_id=saved.id)
    assert lists == {"preferred": [amina], "excluded": []}
