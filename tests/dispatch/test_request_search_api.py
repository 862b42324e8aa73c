"""Finding requests again through the API: search by case reference, filters, stable pages."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Staff, request_payload


@pytest.fixture
def filed(client: TestClient) -> Callable[..., int]:
    """File a request on day `day` of December at `hour` (no pool: it stays unfilled)."""

    def file(staff: Staff, *, day: int, hour: int = 9, **fields: object) -> int:
        response = client.post(
            "/api/v1/requests",
            json=request_payload(
                start=f"2026-12-{day:02d}T{hour:02d}:00:00+01:00",
                end=f"2026-12-{day:02d}T{hour:02d}:45:00+01:00",
                **fields,
            ),
            headers=staff.headers,
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    return file


def ids(client: TestClient, staff: Staff, query: str) -> list[int]:
    response = client.get(f"/api/v1/requests?{query}", headers=staff.headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_search_by_case_reference_finds_part_of_it_in_any_case(
    client: TestClient, caseworker: Staff, filed: Callable[..., int]
) -> None:
    first = filed(caseworker, day=2, client_ref="JC-2026_0417")
    filed(caseworker, day=3, client_ref="JC-2026-0999")
    second = filed(caseworker, day=4, client_ref="jc-2026_0417")
    filed(caseworker, day=5)

    assert ids(client, caseworker, "client_ref=2026_0417") == [first, second]
    # "_" is a character of the reference here, not a wildcard.
    assert ids(client, caseworker, "client_ref=2026X0417") == []


def test_filters_by_the_caseworker_who_filed_and_stay_in_the_organisation(
    client: TestClient,
    caseworker: Staff,
    make_staff: Callable[..., Staff],
    other_caseworker: Staff,
    filed: Callable[..., int],
) -> None:
    colleague = make_staff("caseworker", "Jobcenter Kreis Warendorf")
    mine = filed(caseworker, day=2)
    theirs = filed(colleague, day=3)
    filed(other_caseworker, day=4)

    assert ids(client, caseworker, f"created_by_user_id={caseworker.user_id}") == [mine]
    assert ids(client, caseworker, f"created_by_user_id={colleague.user_id}") == [theirs]
    # Another organisation's caseworker finds nothing of theirs, whatever they ask.
    assert ids(client, caseworker, f"created_by_user_id={other_caseworker.user_id}") == []


def test_pages_cover_the_whole_history_once_in_start_and_id_order(
    client: TestClient, caseworker: Staff, filed: Callable[..., int]
) -> None:
    # Two requests at the same start: the id decides, so no page repeats or skips one.
    made = [filed(caseworker, day=day, hour=hour) for day in (9, 2, 5) for hour in (9, 14)]
    seen: list[int] = []
    for offset in range(0, 6, 4):
        page = client.get(
            f"/api/v1/requests?limit=4&offset={offset}&status=unfilled&language=ti",
            headers=caseworker.headers,
        ).json()
        assert page["total"] == 6
        seen += [item["id"] for item in page["items"]]
    assert seen == [made[2], made[3], made[4], made[5], made[0], made[1]]
    period = "from=2026-12-05T00:00:00%2B01:00&to=2026-12-06T00:00:00%2B01:00"
    assert ids(client, caseworker, period) == [made[4], made[5]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("offset=-1", "offset"),
        ("status=lost", "status"),
        ("client_ref=M%C3%BCller%20Ali", "client_ref"),
        ("created_by_user_id=0", "created_by_user_id"),
        ("from=2026-12-05T00:00:00%2B01:00&to=2026-12-04T00:00:00%2B01:00", "to"),
        ("from=yesterday", "from"),
    ],
)
def test_bad_paging_or_filters_are_422_naming_the_field(
    client: TestClient, caseworker: Staff, query: str, field: str
) -> None:
    response = client.get(f"/api/v1/requests?{query}", headers=caseworker.headers)
    assert response.status_code == 422, response.text
    body = response.json()
    assert [error["field"] for error in body["errors"]] == [field]
    assert field in body["detail"] or body["detail"] == "to must be after from."
