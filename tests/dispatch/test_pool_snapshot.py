"""The pool snapshot for one language is the whole pool's snapshot, cut to that language's speakers.

A varied pool goes in through the API (several languages and levels, slots,
absences, a paused, an inactive and an erased speaker, a tag stored in upper
case as an old import might have left it) with jobs held in the week, in the
fairness window and cancelled; then `pool_snapshot(language=...)` must give
exactly the engine's mediators that the unfiltered snapshot gives for that
language, and dispatch and the candidates page must answer as before.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

import locales
import matching
from config.settings import Settings
from dispatch.offers import service as offers
from dispatch.offers.models import Assignment, AssignmentSource
from dispatch.planning import service as planning
from dispatch.requests.models import Request, RequestStatus
from tests.conftest import BERLIN, NOW, Staff, mediator_payload, request_payload

WEEKDAYS = [
    {"weekday": day, "start": "08:00", "end": "16:00"}
    for day in ("mon", "tue", "wed", "thu", "fri")
]
#: Tuesday 09:00-10:30, the conftest's request; a whole day; two weeks (the cap counts both).
PERIODS = [
    (datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN), datetime(2026, 12, 1, 10, 30, tzinfo=BERLIN)),
    (datetime(2026, 12, 1, 0, 0, tzinfo=BERLIN), datetime(2026, 12, 2, 0, 0, tzinfo=BERLIN)),
    (datetime(2026, 11, 30, 0, 0, tzinfo=BERLIN), datetime(2026, 12, 14, 0, 0, tzinfo=BERLIN)),
]
LANGUAGES = ["ti", "TI", "ar", "fa", "uk", "de", "vi"]


def add(
    client: TestClient,
    coordinator: Staff,
    name: str,
    phone: str,
    languages: dict[str, str],
    **overrides: object,
) -> int:
    body = mediator_payload(
        name=name,
        phone=phone,
        email=None,
        channels=["sms"],
        languages=[{"language": tag, "level": level} for tag, level in languages.items()],
        **{"availability": WEEKDAYS, **overrides},
    )
    response = client.post("/api/v1/mediators", json=body, headers=coordinator.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def file(client: TestClient, caseworker: Staff, **overrides: object) -> int:
    response = client.post(
        "/api/v1/requests", json=request_payload(**overrides), headers=caseworker.headers
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def hold(
    engine: Engine,
    request_id: int,
    mediator_id: int,
    *,
    status: RequestStatus = RequestStatus.assigned,
    moved_to: tuple[datetime, datetime] | None = None,
    cancelled: bool = False,
) -> None:
    """Give a request to a mediator in the database, optionally moved in time (past: work done)."""
    with Session(engine) as session:
        request = session.get(Request, request_id)
        assert request is not None
        if moved_to:
            request.start, request.end = moved_to
        request.status = status
        session.add(request)
        session.add(
            Assignment(
                request_id=request_id,
                mediator_id=mediator_id,
                source=AssignmentSource.coordinator,
                created_at=NOW,
                cancelled_at=NOW if cancelled else None,
            )
        )
        session.commit()


@pytest.fixture
def pool(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine, place_id: int
) -> dict[str, int]:
    ids = {
        "helen": add(
            client,
            coordinator,
            "Helen Tekle",
            "+4915112340001",
            {"ti": "native", "de": "fluent"},
            absences=[
                {"start": "2026-12-01T12:00:00+01:00", "end": "2026-12-01T13:00:00+01:00"},
                {"start": "2026-12-09T00:00:00+01:00", "end": "2026-12-11T00:00:00+01:00"},
            ],
        ),
        "yonas": add(
            client,
            coordinator,
            "Yonas Habte",
            "+4915112340002",
            {"ti": "fluent", "ar": "basic"},
            home=None,
            travel_mode="car",
            max_hours_per_week=None,
            gender="m",
            qualifications=[],
            availability=[
                {"weekday": "tue", "start": "06:00", "end": "24:00"},
                {"weekday": "tue", "start": "06:00", "end": "10:00"},
                {"weekday": "sat", "start": "10:00", "end": "14:00"},
            ],
        ),
        "tesfay": add(
            client, coordinator, "Tesfay G.", "+4915112340003", {"ti": "basic"}, availability=[]
        ),
        "amina": add(
            client, coordinator, "Amina Haddad", "+4915112340004", {"ar": "native", "de": "fluent"}
        ),
        "dawit": add(
            client,
            coordinator,
            "Dawit Old Import",
            "+4915112340005",
            {"ti": "native", "fa": "fluent"},
            gender="m",
            max_hours_per_week=2,
        ),
        "olena": add(
            client,
            coordinator,
            "Olena K.",
            "+4915112340006",
            {"uk": "native", "fa": "basic"},
            travel_mode="transit",
            max_travel_km=20,
        ),
        "paused": add(client, coordinator, "Paused Speaker", "+4915112340007", {"ti": "native"}),
        "inactive": add(
            client, coordinator, "Inactive Speaker", "+4915112340008", {"ti": "native"}
        ),
        "erased": add(client, coordinator, "Erased Speaker", "+4915112340009", {"ti": "native"}),
    }
    for name, change in (("paused", {"paused": True}), ("inactive", {"active": False})):
        response = client.patch(
            f"/api/v1/mediators/{ids[name]}", json=change, headers=coordinator.headers
        )
        assert response.status_code == 200, response.text
    assert (
        client.delete(f"/api/v1/mediators/{ids['erased']}", headers=coordinator.headers).status_code
        == 200
    )
    with engine.begin() as connection:  # a tag as an old import may have stored it
        connection.execute(
            sa.text(
                "UPDATE mediator_language SET language = 'TI' WHERE mediator_id = :m"
                " AND language = 'ti'"
            ),
            {"m": ids["dawit"]},
        )

    # Jobs held: in person just before the period, later in the week, done in the fairness window,
    # one given back (cancelled), and jobs of a non-speaker and of the paused speaker.
    early = file(
        client,
        caseworker,
        mode="in_person",
        place_id=place_id,
        start="2026-12-01T08:00:00+01:00",
        end="2026-12-01T09:15:00+01:00",
        client_ref="JC-1",
    )
    hold(engine, early, ids["helen"])
    ids["early job"] = early
    hold(
        engine,
        file(
            client, caseworker, start="2026-12-03T10:00:00+01:00", end="2026-12-03T12:00:00+01:00"
        ),
        ids["helen"],
    )
    hold(
        engine,
        file(
            client, caseworker, start="2026-12-02T10:00:00+01:00", end="2026-12-02T11:00:00+01:00"
        ),
        ids["yonas"],
        status=RequestStatus.completed,
        moved_to=(NOW - timedelta(days=10), NOW - timedelta(days=10) + timedelta(hours=3)),
    )
    hold(
        engine,
        file(
            client, caseworker, start="2026-12-01T09:00:00+01:00", end="2026-12-01T10:00:00+01:00"
        ),
        ids["yonas"],
        cancelled=True,
    )
    hold(
        engine,
        file(
            client,
            caseworker,
            language="ar",
            start="2026-12-01T09:30:00+01:00",
            end="2026-12-01T11:00:00+01:00",
        ),
        ids["amina"],
    )
    hold(
        engine,
        file(
            client, caseworker, start="2026-12-08T09:00:00+01:00", end="2026-12-08T10:00:00+01:00"
        ),
        ids["dawit"],
    )
    hold(
        engine,
        file(
            client, caseworker, start="2026-12-04T09:00:00+01:00", end="2026-12-04T10:00:00+01:00"
        ),
        ids["paused"],
    )
    return ids


def speakers(snapshot: planning.PoolSnapshot, language: str) -> list[matching.Mediator]:
    return [m for m in snapshot.mediators if m.level(language) is not None]


def test_a_language_snapshot_is_the_whole_snapshot_cut_to_its_speakers(
    engine: Engine, pool: dict[str, int]
) -> None:
    with Session(engine) as session:
        for start, end in PERIODS:
            for skip in (
                frozenset(),
                frozenset({pool["early job"]}),
            ):  # placing Helen's early job again
                whole = planning.pool_snapshot(
                    session, start=start, end=end, tz=BERLIN, skip_request_ids=skip
                )
                assert (
                    len(whole.mediators) == 6
                )  # the paused, inactive and erased are never in the pool
                for language in LANGUAGES:
                    cut = planning.pool_snapshot(
                        session,
                        start=start,
                        end=end,
                        tz=BERLIN,
                        skip_request_ids=skip,
                        language=language,
                    )
                    assert cut.mediators == speakers(whole, language), (language, start, end, skip)
                    assert cut.names == {m.id: whole.names[m.id] for m in cut.mediators}


def test_rows_read_once_for_a_longer_period_give_each_period_its_own_snapshot(
    engine: Engine, pool: dict[str, int]
) -> None:
    """Scarcity reads a language's absences and jobs once for the requests around a job."""
    longest_start, longest_end = PERIODS[2]
    with Session(engine) as session:
        for language in ("ti", "TI", "fa", "vi"):
            rows = planning.period_rows(
                session, start=longest_start, end=longest_end, tz=BERLIN, language=language
            )
            for start, end in PERIODS:
                for skip in (frozenset(), frozenset({pool["early job"]})):
                    own = planning.pool_snapshot(
                        session,
                        start=start,
                        end=end,
                        tz=BERLIN,
                        skip_request_ids=skip,
                        language=language,
                    )
                    shared = planning.pool_snapshot(
                        session,
                        start=start,
                        end=end,
                        tz=BERLIN,
                        skip_request_ids=skip,
                        language=language,
                        rows=rows,
                    )
                    assert shared.mediators == own.mediators, (language, start, end, skip)
                    assert shared.booked == own.booked
        # Rows of another language, or of a shorter period, are refused.
        rows = planning.period_rows(
            session, start=PERIODS[0][0], end=PERIODS[0][1], tz=BERLIN, language="ti"
        )
        for language, (start, end) in (("fa", PERIODS[0]), ("ti", PERIODS[1])):
            with pytest.raises(ValueError):
                planning.pool_snapshot(
                    session, start=start, end=end, tz=BERLIN, language=language, rows=rows
                )


def test_the_snapshot_carries_jobs_absences_cap_and_load(
    engine: Engine, pool: dict[str, int]
) -> None:
    """The details the comparison above relies on are there (not equal because both are empty)."""
    start, end = PERIODS[1]
    with Session(engine) as session:
        found = {
            m.id: m
            for m in planning.pool_snapshot(
                session, start=start, end=end, tz=BERLIN, language="ti"
            ).mediators
        }
    assert set(found) == {str(pool[name]) for name in ("helen", "yonas", "tesfay", "dawit")}
    helen, yonas, dawit = (
        found[str(pool["helen"])],
        found[str(pool["yonas"])],
        found[str(pool["dawit"])],
    )
    assert [(b.start.hour, b.end.hour, b.label) for b in helen.busy] == [
        (8, 9, "Jobcenter Beckum"),  # its place: reasons say "busy ... at Jobcenter Beckum"
        (12, 13, None),
    ]
    assert helen.busy[0].location is not None and helen.busy[1].location is None
    assert helen.committed_minutes == 75 + 120 and helen.max_minutes == 600
    assert yonas.load_minutes == 180 and yonas.busy == ()  # the cancelled job is no busy block
    # The whole week's slots (Tuesday's two and Saturday's), so one kept index serves
    # every request of the week; a job is never inside another day's slot.
    assert yonas.home is None
    assert [(s.start.weekday(), s.start.hour, s.end.hour) for s in yonas.availability] == [
        (1, 6, 0),
        (1, 6, 10),
        (5, 10, 14),
    ]
    assert dawit.languages == {
        "ti": "native",
        "fa": "fluent",
    }  # stored as 'TI', compared in lower case
    assert dawit.committed_minutes == 0  # his job is next week


def test_a_snapshot_of_given_members_reads_only_their_rows_and_matches_the_pools(
    engine: Engine, pool: dict[str, int]
) -> None:
    """A paused holder is read alone (`serve_exclusions`): their own absences and jobs, as the
    whole pool's snapshot has them, and no one else's."""
    start, end = PERIODS[1]
    helen = pool["helen"]
    with Session(engine) as session:
        rows = planning.period_rows(
            session, start=start, end=end, tz=BERLIN, language=None, mediator_ids=[helen]
        )
        assert {row[0] for row in rows.absences} | {row[0] for row in rows.jobs} == {helen}
        whole = planning.pool_snapshot(session, start=start, end=end, tz=BERLIN, language="ti")
        alone = planning.pool_snapshot(
            session,
            start=start,
            end=end,
            tz=BERLIN,
            members=tuple(
                m for m in planning.pool_members(session, language="ti") if m.id == helen
            ),
        )
    [read_alone] = alone.mediators
    assert read_alone == next(m for m in whole.mediators if m.id == str(helen))


def test_paused_inactive_and_erased_speakers_are_left_out(
    engine: Engine, pool: dict[str, int]
) -> None:
    start, end = PERIODS[0]
    with Session(engine) as session:
        cut = planning.pool_snapshot(session, start=start, end=end, tz=BERLIN, language="ti")
    left_out = {str(pool[name]) for name in ("paused", "inactive", "erased")}
    assert left_out.isdisjoint(m.id for m in cut.mediators)
    assert left_out.isdisjoint(cut.names)


def test_nobody_speaks_it_gives_an_empty_snapshot(engine: Engine, pool: dict[str, int]) -> None:
    start, end = PERIODS[0]
    with Session(engine) as session:
        cut = planning.pool_snapshot(session, start=start, end=end, tz=BERLIN, language="vi")
    assert cut.mediators == [] and cut.names == {}


def test_dispatch_order_is_the_whole_pool_order(
    client: TestClient, caseworker: Staff, engine: Engine, pool: dict[str, int], settings: Settings
) -> None:
    """ranked_candidates loads speakers only and still offers in the order the whole pool gives."""
    filed = {}
    for overrides in (
        {},
        {"min_level": "basic"},
        {"client_ref": "JC-1", "min_level": "basic"},
        {"language": "ar", "min_level": "basic"},
        {"language": "fa", "min_level": "basic"},
        {"language": "vi"},
    ):
        request_id = filed[overrides.get("client_ref")] = file(
            client,
            caseworker,
            start="2026-12-01T10:00:00+01:00",
            end="2026-12-01T11:00:00+01:00",
            **overrides,
        )
        with Session(engine) as session:
            request = session.get(Request, request_id)
            assert request is not None
            whole = planning.pool_snapshot(
                session,
                start=request.start,
                end=request.end,
                tz=BERLIN,
                skip_request_ids=frozenset({request_id}),
            )
            wanted = planning.engine_request(session, request, tz=BERLIN)
            order = [
                c.mediator_id for c in matching.rank(wanted, whole.mediators, now=NOW).candidates
            ]
            first = [m for m in wanted.preferred_mediators if m in order]
            expected = [int(m) for m in first + [m for m in order if m not in first]]
            assert (
                offers.ranked_candidates(session, request, now=NOW, settings=settings) == expected
            ), overrides
    # The continuity request puts Helen (who served JC-1) first among several candidates.
    with Session(engine) as session:
        request = session.get(Request, filed["JC-1"])
        assert request is not None
        ranked = offers.ranked_candidates(session, request, now=NOW, settings=settings)
    assert ranked[0] == pool["helen"] and len(ranked) > 1


def test_candidates_page_counts_the_whole_pool(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine, pool: dict[str, int]
) -> None:
    for language in ("ti", "ar", "uk", "vi"):
        request_id = file(client, caseworker, language=language, min_level="basic")
        body = client.get(
            f"/api/v1/requests/{request_id}/candidates", headers=coordinator.headers
        ).json()
        with Session(engine) as session:
            request = session.get(Request, request_id)
            assert request is not None
            whole = planning.pool_snapshot(
                session,
                start=request.start,
                end=request.end,
                tz=BERLIN,
                skip_request_ids=frozenset({request_id}),
            )
            ranking = matching.rank(
                planning.engine_request(session, request, tz=BERLIN), whole.mediators, now=NOW
            )
        assert body["summary"] == planning.summary(ranking, language, t=locales.translator("en")), (
            language
        )
        assert body["not_speaking"] == ranking.not_speaking == 6 - len(speakers(whole, language))
        assert [c["mediator_id"] for c in body["candidates"]] == [
            int(c.mediator_id) for c in ranking.candidates
        ]
        assert [e["mediator_id"] for e in body["excluded"]] == sorted(
            int(m) for m in ranking.excluded_codes
        )


def test_a_job_held_just_before_the_period_is_a_busy_block_with_its_place(
    engine: Engine, pool: dict[str, int]
) -> None:
    """Not only overlapping jobs: one that ends shortly before may leave no time to travel."""
    start = datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN)  # Helen's early job ended at 09:15
    with Session(engine) as session:
        cut = planning.pool_snapshot(
            session, start=start, end=start + timedelta(hours=1), tz=BERLIN, language="ti"
        )
    helen = next(m for m in cut.mediators if m.id == str(pool["helen"]))
    held = [b for b in helen.busy if b.label == "Jobcenter Beckum"]  # labelled by its place
    assert [(b.start.hour, b.end.minute) for b in held] == [(8, 15)]
    assert held[0].location is not None  # so the engine checks the way from there
    # Her job on Thursday is more than a day away: no busy block for Tuesday.
    assert all(b.start.day == 1 for b in helen.busy)


def test_one_kept_index_serves_every_day_of_a_week_and_ranks_as_one_day_s(
    engine: Engine, pool: dict[str, int]
) -> None:
    """The idle index is kept per language and week; the other days' slots change no ranking."""
    monday = datetime(2026, 11, 30, tzinfo=BERLIN)
    jobs = [
        (monday + timedelta(days=day, hours=hour), monday + timedelta(days=day, hours=hour + 2))
        for day in (1, 3, 5)  # Tuesday, Thursday, Saturday
        for hour in (5, 7, 9, 11, 15, 22)
    ]
    with Session(engine) as session:
        snapshots = [
            planning.pool_snapshot(session, start=start, end=end, tz=BERLIN, language="ti")
            for start, end in jobs
        ]
        next_week = planning.pool_snapshot(
            session,
            start=jobs[0][0] + timedelta(days=7),
            end=jobs[0][1] + timedelta(days=7),
            tz=BERLIN,
            language="ti",
        )
    assert all(s.idle is snapshots[0].idle for s in snapshots)  # built once for the week
    assert next_week.idle is not snapshots[0].idle
    for (start, end), snapshot in zip(jobs, snapshots, strict=True):
        job = matching.Request(id="r", language="ti", start=start, end=end, mode="phone")
        day_only = [
            dataclasses.replace(
                m,
                availability=tuple(
                    slot for slot in m.availability if slot.start.date() == start.date()
                ),
            )
            for m in snapshot.mediators
        ]
        week = matching.rank(job, snapshot.engine_pool(), now=NOW)
        day = matching.rank(job, matching.Pool(day_only), now=NOW)
        assert [c.mediator_id for c in week.candidates] == [c.mediator_id for c in day.candidates]
        assert week.excluded_codes == day.excluded_codes, (start, end)
