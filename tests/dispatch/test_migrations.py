"""The schema is managed by migrations; upgrading keeps the data."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlmodel import Session, col, select

from config.settings import Settings
from dispatch.deadlines.models import Deadline
from dispatch.mediators.models import Mediator
from dispatch.offers import estimate
from dispatch.offers.models import Assignment, AssignmentSource, MediatorHabit, Offer, OfferStatus
from dispatch.requests.models import Mode, Request, RequestDeadlineKind
from dispatch.storage import alembic_config, current_revision, make_engine, migrate
from dispatch.users import service as users_service
from dispatch.users.models import Organisation, Role, User
from tests.conftest import drop_postgres_schema, fresh_postgres_schema_url, require_postgres


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    require_postgres()
    url, schema = fresh_postgres_schema_url()
    yield url
    drop_postgres_schema(schema)


def revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def test_empty_database_migrates_to_the_models(empty_database: str) -> None:
    migrate(empty_database)
    engine = make_engine(empty_database, poolclass=sa.pool.NullPool)
    assert current_revision(engine) == revisions()[-1]
    # alembic check raises when the models and the migrations disagree.
    command.check(alembic_config(empty_database))
    migrate(empty_database)  # a second run is a no-op
    engine.dispose()


def test_upgrade_from_every_older_revision_keeps_the_data(empty_database: str) -> None:
    older = revisions()[:-1]
    assert older, "there is at least one older revision to upgrade from"
    migrate(empty_database, older[0])
    engine = make_engine(empty_database, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO organisation (name, created_at)"
                " VALUES ('Jobcenter', '2026-11-01 09:00:00+00')"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO mediator (name, phone, travel_mode, qualifications, channels,"
                " message_locale, active, paused, created_at, updated_at)"
                " VALUES ('Helen Tekle', '+4915112340027', 'car', '[]', '[\"sms\"]',"
                " 'de', true, false, '2026-11-01 09:00:00+00', '2026-11-01 09:00:00+00')"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO mediator_language (mediator_id, language, level)"
                " VALUES (1, 'ti', 'native')"
            )
        )
    for revision in older[1:] + ["heads"]:
        migrate(empty_database, revision)
    with engine.connect() as connection:
        assert (
            connection.execute(sa.text("SELECT name FROM organisation")).scalar_one() == "Jobcenter"
        )
        assert connection.execute(sa.text("SELECT name, phone FROM mediator")).one() == (
            "Helen Tekle",
            "+4915112340027",
        )
        assert (
            connection.execute(sa.text("SELECT language FROM mediator_language")).scalar_one()
            == "ti"
        )
    assert current_revision(engine) == revisions()[-1]
    engine.dispose()


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pragmas.db'}"
    migrate(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO mediator_language (mediator_id, language, level)"
                " VALUES (999, 'ti', 'native')"
            )
        )
    engine.dispose()


def a_caseworker(session: Session, at: datetime) -> tuple[int, int]:
    """The ids of an organisation and its caseworker, written as rows of an older revision."""
    organisation = sa.insert(Organisation).values(name="Jobcenter", created_at=at)
    organisation_id = session.execute(organisation.returning(col(Organisation.id))).scalar_one()
    user_id = a_staff_row(session, organisation_id, "cw@example.org", Role.caseworker, at)
    return int(organisation_id), user_id


def a_staff_row(
    session: Session, organisation_id: int, email: str, role: Role, at: datetime
) -> int:
    """An account with only the columns every revision has (`email_key` came with 0013emailkey)."""
    user = sa.insert(User).values(
        organisation_id=organisation_id,
        email=email,
        name="Staff",
        role=role,
        locale="de",
        active=True,
        failed_logins=0,
        created_at=at,
    )
    return int(session.execute(user.returning(col(User.id))).scalar_one())


def test_requests_filed_before_the_erasure_deadline_get_one_on_upgrade(
    empty_database: str,
) -> None:
    """A request filed before 0009addr had no erasure deadline; upgrading gives it one."""
    migrate(empty_database, "0009series")  # the schema of the models, before the backfill
    engine = make_engine(empty_database, poolclass=sa.pool.NullPool)
    filed = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with Session(engine) as session:
        organisation_id, user_id = a_caseworker(session, filed)
        ends = [filed + timedelta(days=7, hours=1), filed + timedelta(days=9, hours=2)]
        requests = [
            Request(
                organisation_id=organisation_id,
                created_by_user_id=user_id,
                language="ti",
                start=end - timedelta(hours=1),
                end=end,
                mode=Mode.phone,
                contact_name="Frau A.",
                created_at=filed,
                updated_at=filed,
            )
            for end in ends
        ]
        session.add_all(requests)
        session.flush()
        # The second one already has its deadline (filed after 0009addr): it is left alone.
        kept_due = ends[1] + timedelta(days=30)
        session.add(
            Deadline(
                kind=RequestDeadlineKind.erase_data,
                subject_id=requests[1].id,
                due_at=kept_due,
                created_at=filed,
            )
        )
        session.commit()
        ids = [request.id for request in requests]

    migrate(empty_database)

    with Session(engine) as session:
        deadlines = {
            deadline.subject_id: deadline
            for deadline in session.exec(
                select(Deadline).where(Deadline.kind == RequestDeadlineKind.erase_data)
            )
        }
    assert set(deadlines) == set(ids)
    days = Settings().request_data_days
    assert deadlines[ids[0]].due_at == ends[0] + timedelta(days=days)
    assert deadlines[ids[0]].done_at is None
    assert deadlines[ids[1]].due_at == kept_due
    engine.dispose()


def test_the_answer_totals_are_filled_from_the_offers_on_upgrade(empty_database: str) -> None:
    """0011habits fills each mediator's running totals from the offers already on file."""
    migrate(empty_database, "0010serieskey")
    engine = make_engine(empty_database, poolclass=sa.pool.NullPool)
    sent = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday, 09:00 in Berlin: "day"
    with Session(engine) as session:
        organisation_id, user_id = a_caseworker(session, sent)
        # Only the columns every revision has (`monthly_limit` came with 0015monthly).
        kept, erased = (
            session.execute(
                sa.insert(Mediator)
                .values(
                    name=name,
                    travel_mode="car",
                    qualifications=[],
                    channels=["sms"],
                    message_locale="de",
                    active=True,
                    paused=False,
                    night_messages=False,
                    erased_at=erased_at,
                    created_at=sent,
                    updated_at=sent,
                )
                .returning(col(Mediator.id))
            ).scalar_one()
            for name, erased_at in (("A", None), ("", sent))
        )

        def offer(
            mediator_id: int,
            status: str,
            minutes: int | None,
            *,
            held: bool = False,
            wave: int = 1,
        ) -> None:
            """An offer on a request of its own, answered after `minutes`; `held`: a job too."""
            request = Request(
                organisation_id=organisation_id,
                created_by_user_id=user_id,
                language="ti",
                start=sent + timedelta(days=2),
                end=sent + timedelta(days=2, hours=1),
                mode=Mode.phone,
                created_at=sent,
                updated_at=sent,
            )
            session.add(request)
            session.flush()
            row = Offer(
                request_id=request.id,
                mediator_id=mediator_id,
                wave=wave,
                token_hash=f"{request.id}".ljust(64, "x"),
                short_code="1000",
                status=OfferStatus(status),
                created_at=sent,
                expires_at=sent + timedelta(hours=1),
                responded_at=sent + timedelta(minutes=minutes) if minutes is not None else None,
            )
            session.add(row)
            session.flush()
            if held:
                # Only the columns every revision has (`home_road_km` came with 0014homekm).
                session.execute(
                    sa.insert(Assignment).values(
                        request_id=request.id,
                        mediator_id=mediator_id,
                        source=AssignmentSource.offer,
                        offer_id=row.id,
                        created_at=sent,
                    )
                )

        offer(kept, "accepted", 10, held=True)
        offer(kept, "declined", 20)
        offer(kept, "expired", None)
        offer(kept, "withdrawn", 5, held=True)  # accepted, then the request was cancelled: a yes
        offer(kept, "withdrawn", 6)  # withdrawn while pending (someone else was quicker)
        offer(kept, "pending", None)  # still open: not counted (habits reads it live)
        offer(kept, "accepted", 3, held=True, wave=0)  # the coordinator assigned: nobody asked
        offer(erased, "declined", 4)
        session.commit()
        kept_id = kept

    migrate(empty_database)

    with Session(engine) as session:
        rows = list(session.exec(select(MediatorHabit)))
        tallies = estimate.record_tallies(session, tz=Settings().tz)
    assert [
        (h.mediator_id, h.slot, h.answered, h.unanswered, h.accepted, h.declined) for h in rows
    ] == [(kept_id, "day", 3, 1, 2, 1)]
    assert rows[0].log_minutes == pytest.approx(math.log(10) + math.log(20) + math.log(5))
    assert sum(t.answered for t in tallies) == 3 and sum(t.unanswered for t in tallies) == 1
    assert sum(t.log_minutes for t in tallies) == pytest.approx(rows[0].log_minutes)
    engine.dispose()


def at_0012_with_staff(url: str, *emails: str) -> sa.Engine:
    """The database at revision 0012offeridx (no `email_key` yet) with these accounts."""
    migrate(url, "0012offeridx")
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    with Session(engine) as session:
        organisation_id, _ = a_caseworker(session, at)
        for email in emails:
            a_staff_row(session, organisation_id, email, Role.coordinator, at)
        session.commit()
    return engine


def test_each_account_gets_its_address_lower_cased_as_its_key_on_upgrade(
    empty_database: str,
) -> None:
    engine = at_0012_with_staff(empty_database, "Petra.Schulte@Beckum.DE", "JÖRG.Müller@Beckum.de")

    migrate(empty_database)

    with engine.connect() as connection:
        keys = connection.execute(sa.text('SELECT email, email_key FROM "user" ORDER BY id'))
        assert keys.all() == [
            ("cw@example.org", "cw@example.org"),
            ("Petra.Schulte@Beckum.DE", "petra.schulte@beckum.de"),
            # Not SQLite's lower(), which folds only A-Z: the key the app looks up.
            ("JÖRG.Müller@Beckum.de", "jörg.müller@beckum.de"),
        ]
    with Session(engine) as session:
        found = users_service.user_by_email(session, "jörg.MÜLLER@beckum.de")
        assert found is not None and found.email == "JÖRG.Müller@Beckum.de"
    engine.dispose()


def test_an_address_held_twice_in_other_letters_stops_the_upgrade_and_is_named(
    empty_database: str,
) -> None:
    engine = at_0012_with_staff(empty_database, "Neu@Jobcenter.example", "neu@jobcenter.example")

    with pytest.raises(RuntimeError, match=r"different letters: neu@jobcenter\.example\."):
        migrate(empty_database)

    assert current_revision(engine) == "0012offeridx"
    engine.dispose()


def test_mediators_out_of_the_pool_before_the_erasure_deadline_get_one_on_upgrade(
    empty_database: str,
) -> None:
    """0019 gives a mediator taken out of the pool before 0018 the deadline leaving gives
    now (`MEDIATOR_DATA_DAYS` from their record's last change, at or after they left);
    one still in the pool, one erased and one with a deadline already are left alone."""
    from dispatch.mediators.models import MediatorDeadlineKind

    migrate(empty_database, "0018mediatorwait")
    engine = make_engine(empty_database, poolclass=sa.pool.NullPool)
    left = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with Session(engine) as session:
        ids = {
            name: session.execute(
                sa.insert(Mediator)
                .values(
                    name=name,
                    travel_mode="car",
                    qualifications=[],
                    channels=["sms"],
                    message_locale="de",
                    active=active,
                    paused=False,
                    night_messages=False,
                    erased_at=erased_at,
                    created_at=left - timedelta(days=400),
                    updated_at=left,
                )
                .returning(col(Mediator.id))
            ).scalar_one()
            for name, active, erased_at in (
                ("left", False, None),
                ("in the pool", True, None),
                ("erased", False, left),
                ("scheduled", False, None),
            )
        }
        kept_due = left + timedelta(days=30)
        session.add(
            Deadline(
                kind=MediatorDeadlineKind.erase_data,
                subject_id=ids["scheduled"],
                due_at=kept_due,
                created_at=left,
            )
        )
        session.commit()

    migrate(empty_database)

    with Session(engine) as session:
        deadlines = {
            deadline.subject_id: deadline
            for deadline in session.exec(
                select(Deadline).where(Deadline.kind == MediatorDeadlineKind.erase_data)
            )
        }
    assert set(deadlines) == {ids["left"], ids["scheduled"]}
    days = Settings().mediator_data_days
    assert deadlines[ids["left"]].due_at == left + timedelta(days=days)
    assert deadlines[ids["left"]].done_at is None
    assert deadlines[ids["scheduled"]].due_at == kept_due
    engine.dispose()
