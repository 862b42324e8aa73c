"""The audit log page: filter by record, person and period; errors beside the filter fields."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from dispatch.places.models import Place
from tests.web.conftest import Person, csrf_of


def test_the_page_shows_who_changed_a_place_and_filters(
    signed_in: Callable[[Person], TestClient], coord_person: Person, place: Place
) -> None:
    web = signed_in(coord_person)
    page = web.get(f"/dashboard/places/{place.id}")
    web.post(
        f"/dashboard/places/{place.id}/active",
        data={"csrf_token": csrf_of(page), "active": "false"},
    )
    log = web.get(f"/dashboard/audit?entity=place&entity_id={place.id}")
    assert log.status_code == 200
    assert "deaktiviert" in log.text and coord_person.user.name in log.text
    assert f'href="/dashboard/places/{place.id}"' in log.text
    assert "1 Ereignis" in log.text

    mine = web.get(f"/dashboard/audit?actor_id={coord_person.id}")
    assert "angemeldet" in mine.text  # the sign-in itself is in the log

    web.get("/lang/en")
    english = web.get(f"/dashboard/audit?entity=place&entity_id={place.id}")
    assert "deactivated" in english.text and "1 event" in english.text


def test_bad_filters_are_shown_beside_their_fields(
    signed_in: Callable[[Person], TestClient], coord_person: Person
) -> None:
    web = signed_in(coord_person)
    page = web.get("/dashboard/audit?entity=raumschiff&entity_id=abc&from=2026-13-01")
    assert page.status_code == 422
    for name in ("entity", "entity_id", "from"):
        assert f'id="{name}-error"' in page.text
    assert 'value="abc"' in page.text
    order = web.get("/dashboard/audit?from=2026-12-05&to=2026-12-01")
    assert order.status_code == 422 and 'id="to-error"' in order.text


def test_a_caseworker_may_not_read_the_log(
    signed_in: Callable[[Person], TestClient], case_person: Person
) -> None:
    assert signed_in(case_person).get("/dashboard/audit").status_code == 403
