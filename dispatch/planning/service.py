"""The bridge between the database and the matching engine.

`matching/` knows nothing of tables; this module turns the pool, its weekly
availability, absences and existing assignments into the engine's
dataclasses, and the engine's answers back into names a coordinator reads.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import Any, Generic, TypeVar, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

import locales
import matching
from dispatch.errors import InvalidInput, NotFound
from dispatch.mediators.models import (
    Absence,
    AvailabilitySlot,
    Mediator,
    MediatorLanguage,
    pool_version,
)
from dispatch.offers.models import Assignment, Offer, OfferStatus
from dispatch.places.models import Place
from dispatch.planning.limits import NO_LIMITS, LimitsReached
from dispatch.planning.reasons import describe
from dispatch.requests import conflicts
from dispatch.requests.models import Mode, Request, RequestStatus
from dispatch.series import service as series
from dispatch.users.models import OrganisationMediator
from matching.feasibility import (
    rule_annual_limit,
    rule_busy,
    rule_monthly_limit,
    rule_reach_in_time,
    rule_travel_radius,
)

#: Recent work that counts for fairness ("who has had little lately").
LOAD_WINDOW = timedelta(days=28)
#: Held jobs this close before or after a period are given to the engine as busy
#: blocks: not only an overlap, also a job that ends too near the start (or starts
#: too soon after the end) to travel between the two places rules a mediator out.
#: A day's travel covers any distance within a town's pool at every travel mode.
TRAVEL_HORIZON = timedelta(hours=24)
LIVE = (RequestStatus.assigned, RequestStatus.completed)


def _minutes(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 60)


def _week_bounds(moment: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    local = moment.astimezone(tz).date()
    monday = local - timedelta(days=local.weekday())
    start = datetime.combine(monday, time(0), tzinfo=tz)
    return start, datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz)


@lru_cache(maxsize=4096)
def _slot_intervals(
    slots: tuple[tuple[int, int, int], ...], first: date, last: date, tz: ZoneInfo
) -> tuple[matching.Interval, ...]:
    """Weekly local-time slots as concrete intervals on each day of [first, last].

    A slot is (weekday, start minute, end minute), weekday 0 = Monday. Kept
    (the intervals are immutable): a pool shares a few weekly patterns, and
    requests share days.
    """
    intervals = []
    day = first
    while day <= last:
        for weekday, start_minute, end_minute in slots:
            if weekday == day.weekday():
                midnight = datetime.combine(day, time(0), tzinfo=tz)
                # Local wall-clock minutes, so a slot keeps its hours across DST changes.
                start = datetime.combine(
                    day, time(start_minute // 60, start_minute % 60), tzinfo=tz
                )
                end = (
                    (midnight + timedelta(days=1))
                    if end_minute >= 24 * 60
                    else datetime.combine(day, time(end_minute // 60, end_minute % 60), tzinfo=tz)
                )
                intervals.append(matching.Interval(start, end))
        day += timedelta(days=1)
    return tuple(sorted(intervals, key=lambda i: i.start))


def _location(request: Request) -> matching.Location | None:
    if request.location_lat is None or request.location_lon is None:
        return None
    return matching.Location(request.location_lat, request.location_lon)


#: The columns of a held job that make its busy block (see `_busy_block`).
_HELD_JOB_COLUMNS = (
    col(Request.start),
    col(Request.end),
    col(Request.mode),
    col(Request.location_lat),
    col(Request.location_lon),
    col(Place.name),
)


def _busy_block(job: Sequence[Any], tz: ZoneInfo) -> matching.Busy:
    """A held job (`_HELD_JOB_COLUMNS`) as the engine's busy block.

    Located when in person, so that the engine checks the travel to and from it.
    """
    start, end, mode, lat, lon, place_name = job
    return matching.Busy(
        start.astimezone(tz),
        end.astimezone(tz),
        matching.Location(lat, lon)
        if mode == Mode.in_person and lat is not None and lon is not None
        else None,
        place_name,  # a job elsewhere is labelled by its place (reasons say "busy ... at" it)
    )


@dataclass
class PoolSnapshot:
    mediators: list[matching.Mediator]
    names: dict[str, str]
    idle: IdleMediators | None = None
    """The kept mediators with nothing booked that `mediators` were made from."""
    booked: dict[int, matching.Mediator] = dataclasses.field(default_factory=dict)
    """Positions in `mediators` that differ from `idle` (jobs, absences, load, limit)."""

    def engine_pool(self) -> matching.Pool:
        """The engine's index of `mediators`, for ranking.

        Made from the kept index of the idle mediators with the booked few
        changed (`matching.Pool.booked`), so a ranking does not index every
        speaker's availability again.
        """
        if self.idle is None:
            return matching.Pool(self.mediators)
        return self.idle.pool.booked(self.booked)


class IdleMediators:
    """The engine's mediators of a period with nothing booked, and their index, kept.

    The index (`matching.Pool`) is built on first use: the optimiser's
    snapshots of a whole period never rank.
    """

    def __init__(self, mediators: tuple[matching.Mediator, ...], names: dict[str, str]) -> None:
        self.mediators = mediators
        self.names = names
        self._pool: matching.Pool | None = None
        self._lock = threading.Lock()

    @property
    def pool(self) -> matching.Pool:
        with self._lock:
            if self._pool is None:
                self._pool = matching.Pool(self.mediators)
            return self._pool


def _in_pool(language: str | None = None) -> list[sa.ColumnElement[bool]]:
    """Who may get work: active, not paused, not erased; with `language`, speaking it.

    Language tags compare case-insensitively, as in the engine.
    """
    where: list[sa.ColumnElement[bool]] = [
        col(Mediator.active).is_(True),
        col(Mediator.paused).is_(False),
        col(Mediator.erased_at).is_(None),
    ]
    if language is not None:
        where.append(
            col(Mediator.id).in_(
                select(MediatorLanguage.mediator_id).where(
                    sa.func.lower(col(MediatorLanguage.language)) == language.lower()
                )
            )
        )
    return where


@dataclass(frozen=True, slots=True)
class PoolMember:
    """What the ranking reads of one mediator that changes only with the pool's token.

    Absences and jobs change all the time and are read per snapshot.
    """

    id: int
    name: str
    home: matching.Location | None
    travel_mode: str
    max_travel_km: float | None
    max_minutes: int | None
    qualifications: frozenset[str]
    gender: str | None
    languages: dict[str, str]
    slots: tuple[tuple[int, int, int], ...]
    clearance: matching.Clearance


_K = TypeVar("_K")
_V = TypeVar("_V")


class _Kept(Generic[_K, _V]):
    """What one process keeps under the pool's token: at most `size` entries, the least
    recently used dropped first, safe across the thread pool's threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[_K, _V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _K) -> _V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: _K, value: _V) -> None:
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


#: Languages times a few tokens alive at once (a change while requests are ranked).
MEMBERS_KEPT = 256
#: Pool members by (pool token, language or None for everyone).
_members: _Kept[tuple[str, str | None], tuple[PoolMember, ...]] = _Kept(MEMBERS_KEPT)


def pool_members(session: Session, *, language: str | None = None) -> tuple[PoolMember, ...]:
    """The active pool (with `language`: its speakers), by id; kept under the pool's token.

    Every change to a mediator, a language or a weekly slot gives the pool a
    new token in its own transaction (``dispatch.mediators.models``), so what
    is kept under a token is what any transaction that reads that token would
    load; on several processes each keeps its own. Without a token (an
    emptied table) the members are loaded each time.
    """
    token = pool_version(session)
    key = (token or "", language.lower() if language is not None else None)
    if token is not None and (found := _members.get(key)) is not None:
        return found
    members = _load_members(session, language)
    if token is not None:
        _members.put(key, members)
    return members


def _load_members(
    session: Session, language: str | None, *, where: list[sa.ColumnElement[bool]] | None = None
) -> tuple[PoolMember, ...]:
    """The pool's members as `pool_members` gives them; `where` instead of "in the pool"
    (`_in_pool`) loads others the same way (a holder who is paused)."""
    in_pool = where if where is not None else _in_pool(language)
    rows = session.execute(
        sa.select(
            col(Mediator.id),
            col(Mediator.name),
            col(Mediator.home_lat),
            col(Mediator.home_lon),
            col(Mediator.travel_mode),
            col(Mediator.max_travel_km),
            col(Mediator.max_hours_per_week),
            col(Mediator.qualifications),
            col(Mediator.gender),
            col(Mediator.trained_on),
            col(Mediator.pledge_signed_on),
            col(Mediator.police_certificate_seen_on),
            col(Mediator.listed_until),
        )
        .where(*in_pool)
        .order_by(col(Mediator.id))
    ).all()
    if not rows:
        return ()
    ids = select(Mediator.id).where(*in_pool)  # their details only, without a list of ids to send
    languages: dict[int, dict[str, str]] = defaultdict(dict)
    for mediator_id, tag, level in session.execute(
        sa.select(
            col(MediatorLanguage.mediator_id),
            col(MediatorLanguage.language),
            col(MediatorLanguage.level),
        )
        .where(col(MediatorLanguage.mediator_id).in_(ids))
        .order_by(col(MediatorLanguage.id))
    ):
        languages[mediator_id][tag] = level
    slots: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for mediator_id, weekday, start_minute, end_minute in session.execute(
        sa.select(
            col(AvailabilitySlot.mediator_id),
            col(AvailabilitySlot.weekday),
            col(AvailabilitySlot.start_minute),
            col(AvailabilitySlot.end_minute),
        )
        .where(col(AvailabilitySlot.mediator_id).in_(ids))
        .order_by(
            col(AvailabilitySlot.weekday),
            col(AvailabilitySlot.start_minute),
            col(AvailabilitySlot.id),
        )
    ):
        slots[mediator_id].append((weekday, start_minute, end_minute))
    return tuple(
        PoolMember(
            id=mediator_id,
            name=name,
            home=matching.Location(home_lat, home_lon)
            if home_lat is not None and home_lon is not None
            else None,
            travel_mode=travel_mode,
            max_travel_km=max_travel_km,
            max_minutes=int(max_hours * 60) if max_hours else None,
            qualifications=frozenset(qualifications or []),
            gender=gender,
            languages=languages.get(mediator_id, {}),
            slots=tuple(slots.get(mediator_id, [])),
            clearance=matching.Clearance(*clearance_dates),  # columns in CLEARANCE_ITEMS order
        )
        for (
            mediator_id,
            name,
            home_lat,
            home_lon,
            travel_mode,
            max_travel_km,
            max_hours,
            qualifications,
            gender,
            *clearance_dates,
        ) in rows
    )


class _ArrayText(sa.types.UserDefinedType[str]):
    """A PostgreSQL array parameter sent as its text (``{1,2,3}``), parsed once.

    The parameter is cast where it is bound (``$1::INTEGER[]``), so the server
    reads the array once per execution. The earlier spelling, text cast to an
    array (``CAST($1::VARCHAR AS INTEGER[])``), is an I/O conversion PostgreSQL
    does not fold: it parsed the array again for every row it tested, 4 ms a
    statement over the 2,850 language rows of a pool of 1,000.
    """

    cache_ok = True
    render_bind_cast = True

    def __init__(self, spec: str) -> None:
        self.spec = spec

    def get_col_spec(self, **_kw: Any) -> str:
        return self.spec

    def bind_processor(self, dialect: sa.Dialect) -> None:  # noqa: ARG002 (the interface)
        return None  # the text goes as it is: psycopg's adapting of a list costs ms


def among_ids(column: Any, dialect: str, name: str = "ids") -> sa.ColumnElement[bool]:
    """`column` is one of the ids given as the one parameter `name` (see `ids_parameter`).

    One parameter for the whole list, not one per id: SQLAlchemy expands an
    IN list anew on every execution, which cost more than the query. SQLite
    reads the list from a JSON array, PostgreSQL from an integer array
    written as text (``{1,2,3}``, see `_ArrayText`): psycopg adapts a Python
    list element by element in Python, 0.7 ms for a few hundred ids, 3 ms of
    a filing's 11 ms of CPU.
    """
    return _among(column, dialect, name, "INTEGER[]")


def among_texts(column: Any, dialect: str, name: str) -> sa.ColumnElement[bool]:
    """`column` is one of the strings given as the one parameter `name` (`texts_parameter`)."""
    return _among(column, dialect, name, "TEXT[]")


def _among(column: Any, dialect: str, name: str, spec: str) -> sa.ColumnElement[bool]:
    if dialect == "postgresql":
        return cast(
            sa.ColumnElement[bool], column == sa.any_(sa.bindparam(name, type_=_ArrayText(spec)))
        )
    listed: Any = sa.select(sa.column("value")).select_from(
        sa.func.json_each(sa.bindparam(name, type_=sa.String))
    )
    return cast(sa.ColumnElement[bool], column.in_(listed))


def ids_parameter(ids: list[int], dialect: str) -> str:
    """`ids` as `among_ids` reads them: a PostgreSQL array's text, or a JSON array."""
    if dialect == "postgresql":
        return "{" + ",".join(map(str, ids)) + "}"
    return json.dumps(ids)


def texts_parameter(texts: Iterable[str], dialect: str) -> str:
    """`texts` as `among_texts` reads them: a PostgreSQL array's text, or a JSON array."""
    if dialect == "postgresql":
        quoted = ('"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"' for t in texts)
        return "{" + ",".join(quoted) + "}"
    return json.dumps(list(texts))


@cache
def _period_queries(*, speakers: bool, dialect: str) -> tuple[sa.Executable, sa.Executable]:
    """The absences and the held jobs in a period of the pool (or its speakers), built once.

    Parameters: `start`, `end` (absences), `jobs_from`, `jobs_to` (jobs) and,
    for `speakers`, `ids`: the speakers' ids, known from the kept members (see
    `among_ids`). Building a statement costs more than running it on a small
    pool. The speakers go as a list, not as a sub-select of the pool and its
    languages: SQLite builds such a sub-select (every language row, lower-cased,
    and every mediator) before it looks at the period, 3 ms per statement on a
    pool of 1,000 with no absence or job at all, where the list takes a
    twentieth of that. The whole pool goes as a sub-select (no language rows).
    """
    pool = select(Mediator.id).where(*_in_pool())

    def among(column: Any) -> sa.ColumnElement[bool]:
        return among_ids(column, dialect) if speakers else cast(Any, column).in_(pool)

    absences = (
        sa.select(col(Absence.mediator_id), col(Absence.start), col(Absence.end))
        .where(
            among(col(Absence.mediator_id)),
            col(Absence.end) > sa.bindparam("start"),
            col(Absence.start) < sa.bindparam("end"),
        )
        .order_by(col(Absence.start), col(Absence.id))
    )
    jobs = (
        sa.select(col(Assignment.mediator_id), col(Request.id), *_HELD_JOB_COLUMNS)
        .join(Request, col(Request.id) == col(Assignment.request_id))
        .outerjoin(Place, col(Place.id) == col(Request.place_id))
        .where(
            among(col(Assignment.mediator_id)),
            col(Assignment.cancelled_at).is_(None),
            col(Request.status).in_(LIVE),
            col(Request.end) > sa.bindparam("jobs_from"),
            col(Request.start) < sa.bindparam("jobs_to"),
        )
        .order_by(col(Request.start), col(Assignment.id))
    )
    return absences, jobs


@dataclass(frozen=True, slots=True)
class PeriodRows:
    """The absences and held jobs a snapshot of any period within [start, end) reads."""

    language: str | None
    """Lower case; None for the whole pool."""
    start: datetime
    end: datetime
    absences: list[Any]
    """(mediator id, start, end) overlapping [start, end)."""
    jobs: list[Any]
    """(mediator id, request id, *`_HELD_JOB_COLUMNS`) from the load window before the
    first week to the travel horizon after the last."""


def period_rows(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    language: str | None,
    mediator_ids: list[int] | None = None,
) -> PeriodRows:
    """The absences and held jobs of the pool (or `language`'s speakers) around [start, end).

    Two statements. Read once for the union of several periods, they serve a
    `pool_snapshot` of each (scarcity ranks up to eight requests near one job).
    `mediator_ids`: only these mediators' instead, whatever they speak (a snapshot of
    given members, such as a paused holder read alone).
    """
    tag = language.lower() if language is not None else None
    ids: list[int] | None = mediator_ids
    if ids is None:
        members = pool_members(session, language=language)
        if not members:
            return PeriodRows(tag, start, end, [], [])
        ids = [m.id for m in members] if language is not None else None
    elif not ids:
        return PeriodRows(tag, start, end, [], [])
    week_start, _ = _week_bounds(start, tz)
    _, week_end = _week_bounds(end - timedelta(seconds=1), tz)
    dialect = session.get_bind().dialect.name
    absences_query, jobs_query = _period_queries(speakers=ids is not None, dialect=dialect)
    params: dict[str, Any] = {"ids": ids_parameter(ids, dialect)} if ids is not None else {}
    absences = list(session.execute(absences_query, {**params, "start": start, "end": end}))
    jobs = list(
        session.execute(
            jobs_query,
            {
                **params,
                "jobs_from": min(week_start - LOAD_WINDOW, start - TRAVEL_HORIZON),
                "jobs_to": max(week_end, end + TRAVEL_HORIZON),
            },
        )
    )
    return PeriodRows(tag, start, end, absences, jobs)


def pool_snapshot(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    skip_request_ids: frozenset[int] = frozenset(),
    language: str | None = None,
    limit_reached: LimitsReached = NO_LIMITS,
    rows: PeriodRows | None = None,
    most_cents: int | None = None,
    members: tuple[PoolMember, ...] | None = None,
) -> PoolSnapshot:
    """Active mediators as the engine sees them for jobs in [start, end).

    Their weekly cap is counted over the week(s) the period touches; jobs they
    already hold within `TRAVEL_HORIZON` of the period become busy blocks (with
    the place, so the engine checks the travel between two jobs, not only an
    overlap), absences become busy blocks without a place; recent work over
    `LOAD_WINDOW` before `start` is their load. Jobs of `skip_request_ids`
    count for nothing (the request being placed again).

    With `language`, only the active mediators who speak it (any level) are
    loaded, and only their details and jobs: each of them comes out exactly
    as in the whole pool's snapshot. Plain rows throughout, no ORM objects.
    The members themselves come from `pool_members` (kept under the pool's
    token); their absences and jobs are read each time. Their availability covers
    every day of the weeks the period touches (Monday to Sunday).
    `limit_reached`: what is left of each mediator's annual allowance limit per year,
    and their own monthly limits with what each month counts against them.
    `most_cents`: the most the jobs to place pay together (None: unknown); an annual
    limit with more left than that in every year cannot bind and is not given, so the
    kept index of idle mediators serves most of them.
    `rows`: their absences and jobs already read (`period_rows`) for a period
    that holds this one, for several snapshots of one language around one job.
    `members`: these instead of the pool's (`language` then only says which jobs and
    absences to read); nothing of them is kept.
    """
    week_start, _ = _week_bounds(start, tz)
    _, week_end = _week_bounds(end - timedelta(seconds=1), tz)
    given = members is not None
    if members is None:
        members = pool_members(session, language=language)
    if not members:
        return PoolSnapshot(mediators=[], names={})
    if rows is None:
        # Given members: only their rows (a paused holder alone reads no one else's jobs).
        only = [m.id for m in members] if given else None
        rows = period_rows(
            session, start=start, end=end, tz=tz, language=language, mediator_ids=only
        )
    elif rows.language != (language.lower() if language is not None else None) or not (
        rows.start <= start and end <= rows.end
    ):
        raise ValueError("pool_snapshot: the rows read cover another language or period")
    busy: dict[int, list[matching.Busy]] = defaultdict(list)
    for mediator_id, absence_start, absence_end in rows.absences:
        if absence_end > start and absence_start < end:
            busy[mediator_id].append(
                matching.Busy(absence_start.astimezone(tz), absence_end.astimezone(tz))
            )
    committed: dict[int, int] = defaultdict(int)
    load: dict[int, int] = defaultdict(int)
    busy_from, busy_to = start - TRAVEL_HORIZON, end + TRAVEL_HORIZON
    # Every test below lies within the period the jobs were read for (`period_rows`),
    # so rows read for a longer period give the same snapshot.
    for mediator_id, request_id, *job in rows.jobs:
        if request_id in skip_request_ids:
            continue
        job_start, job_end = job[0], job[1]
        if job_end > busy_from and job_start < busy_to:
            busy[mediator_id].append(_busy_block(job, tz))
        if week_start <= job_start < week_end:
            committed[mediator_id] += _minutes(job_start, job_end)
        if start - LOAD_WINDOW <= job_start < start:
            load[mediator_id] += _minutes(job_start, job_end)
    first, last = start.astimezone(tz).date(), (end - timedelta(seconds=1)).astimezone(tz).date()
    # Availability for the whole weeks the period touches: a job lies within one day's
    # slot, so the other days' slots change nothing for it, and the kept index of a
    # language's week then serves every request of that week (built once, not per day).
    first -= timedelta(days=first.weekday())
    last += timedelta(days=6 - last.weekday())
    idle = _idle_mediators(session, members, language, first, last, tz, keep=not given)
    mediators = list(idle.mediators)
    booked: dict[int, matching.Mediator] = {}
    limited = limit_reached.tracked(most_cents)
    for position, m in enumerate(members):
        tracked = m.id in limited
        if m.id in busy or m.id in committed or m.id in load or tracked:
            mediators[position] = booked[position] = dataclasses.replace(
                mediators[position],
                busy=tuple(sorted(busy[m.id], key=lambda b: b.start)) if m.id in busy else (),
                committed_minutes=committed.get(m.id, 0),
                load_minutes=load.get(m.id, 0),
                annual_left_cents=limit_reached.annual_left_without(m.id, skip_request_ids)
                if tracked
                else {},
                monthly_limit_cents=limit_reached.monthly_limits.get(m.id),
                monthly_counted_cents=limit_reached.counted_without(m.id, skip_request_ids),
            )
    return PoolSnapshot(mediators=mediators, names=idle.names, idle=idle, booked=booked)


#: Weeks times languages (a language's week of a pool of 1,000 is a few hundred KB).
IDLE_KEPT = 256
#: The engine's mediators for whole weeks, before their jobs and absences: by (pool
#: token, language, first day, last day, zone).
_idle: _Kept[tuple[Any, ...], IdleMediators] = _Kept(IDLE_KEPT)


def _idle_mediators(
    session: Session,
    members: tuple[PoolMember, ...],
    language: str | None,
    first: date,
    last: date,
    tz: ZoneInfo,
    *,
    keep: bool = True,
) -> IdleMediators:
    """`members` as the engine's mediators for the days [first, last], with nothing booked.

    Kept under the pool's token like the members (the engine's mediators are
    immutable), so a ranking builds only those with a job, an absence, recent
    work or the annual limit: intake ranks the new request and the open ones
    around it, mostly on the same few days and languages.
    """
    token = pool_version(session) if keep else None
    key = (token, language.lower() if language is not None else None, first, last, tz)
    if token is not None and (found := _idle.get(key)) is not None:
        return found
    built = IdleMediators(
        tuple(
            matching.Mediator(
                id=str(m.id),
                languages=m.languages,
                home=m.home,
                travel_mode=m.travel_mode,
                max_travel_km=m.max_travel_km,
                max_minutes=m.max_minutes,
                qualifications=m.qualifications,
                gender=m.gender,
                availability=_slot_intervals(m.slots, first, last, tz),
                clearance=m.clearance,
            )
            for m in members
        ),
        {str(m.id): m.name for m in members},
    )
    if token is not None:
        _idle.put(key, built)
    return built


def _held_jobs_as_busy(
    session: Session, *, mediator_ids: Sequence[int], request: Request, tz: ZoneInfo
) -> dict[int, list[matching.Busy]]:
    """The jobs each mediator holds within `TRAVEL_HORIZON` of `request` (not it), as the
    engine's busy blocks, in order of their start."""
    busy: dict[int, list[matching.Busy]] = defaultdict(list)
    for mediator_id, *job in session.execute(
        sa.select(col(Assignment.mediator_id), *_HELD_JOB_COLUMNS)
        .join(Request, col(Request.id) == col(Assignment.request_id))
        .outerjoin(Place, col(Place.id) == col(Request.place_id))
        .where(
            col(Assignment.mediator_id).in_(mediator_ids),
            col(Assignment.cancelled_at).is_(None),
            col(Request.status).in_(LIVE),
            col(Request.id) != request.id,
            col(Request.end) > request.start - TRAVEL_HORIZON,
            col(Request.start) < request.end + TRAVEL_HORIZON,
        )
        .order_by(col(Request.start))
    ):
        busy[mediator_id].append(_busy_block(job, tz))
    return busy


def _engine_job(request: Request, tz: ZoneInfo) -> matching.Request:
    """The request as the engine sees it for the rules of time and place alone."""
    return matching.Request(
        id=str(request.id),
        language=request.language,
        start=request.start.astimezone(tz),
        end=request.end.astimezone(tz),
        mode=request.mode,
        location=_location(request) if request.mode == Mode.in_person else None,
    )


def held_job_clash(
    session: Session, *, mediator_id: int, request: Request, tz: ZoneInfo
) -> matching.Exclusion | None:
    """Why a job the mediator already holds rules out `request`, by the engine's busy rule.

    None when it does not: no held job overlaps it, and between it and every
    held in-person job near it there is time to travel. The exclusion's
    params give the held job's times and, for a travel clash, the minutes.
    """
    busy = _held_jobs_as_busy(session, mediator_ids=[mediator_id], request=request, tz=tz)
    if not busy:
        return None
    travel_mode = session.exec(
        select(Mediator.travel_mode).where(Mediator.id == mediator_id)
    ).first()
    mediator = matching.Mediator(
        id=str(mediator_id),
        languages={},
        travel_mode=travel_mode or "car",
        busy=tuple(busy[mediator_id]),
    )
    return rule_busy(_engine_job(request, tz), mediator)


def limit_clash(
    *, mediator_id: int, request: Request, tz: ZoneInfo, limit_reached: LimitsReached
) -> matching.Exclusion | None:
    """Why the mediator's allowance limits leave no room for `request`, by the engine's
    limit rules (the month's own limit first, then the year's); None: room enough, or
    the job pays nothing under the rules.

    Asked at the offer's button as `held_job_clash` is: each of two offers may fit
    what is left under a monthly limit when sent, but not both once one is taken.
    Held jobs count at their estimate; the request's own, if held, is given back.
    """
    job_cents = expected_cents(limit_reached, request)
    if job_cents <= 0 or mediator_id not in limit_reached.tracked(job_cents):
        return None
    given_back = frozenset({request.id})
    mediator = matching.Mediator(
        id=str(mediator_id),
        languages={},
        monthly_limit_cents=limit_reached.monthly_limits.get(mediator_id),
        monthly_counted_cents=limit_reached.counted_without(mediator_id, given_back),
        annual_left_cents=limit_reached.annual_left_without(mediator_id, given_back),
    )
    job = dataclasses.replace(_engine_job(request, tz), expected_allowance_cents=job_cents)
    return rule_monthly_limit(job, mediator) or rule_annual_limit(job, mediator)


#: The engine's rules about one pair that the job's point decides: the mediator's
#: longest way, the travel between it and the jobs they hold, getting there from home.
RULES_OF_THE_POINT = (rule_travel_radius, rule_busy)


def point_exclusions(
    session: Session,
    *,
    request: Request,
    mediator_ids: Sequence[int],
    now: datetime,
    tz: ZoneInfo,
) -> dict[int, list[matching.Exclusion]]:
    """Why each mediator could not take `request` where it is now, by the engine's rules
    its point decides (`RULES_OF_THE_POINT`, and `too_late` asked at `now`); empty: none.

    Their jobs held around it are busy blocks as in the engine's snapshot, absences are
    not (they block the time wherever the job is). Read from the mediator's record, so
    it holds for anyone on file, in the pool or paused.
    """
    if not mediator_ids:
        return {}
    busy = _held_jobs_as_busy(session, mediator_ids=mediator_ids, request=request, tz=tz)
    job = _engine_job(request, tz)
    found: dict[int, list[matching.Exclusion]] = {}
    for mediator_id, home_lat, home_lon, travel_mode, max_travel_km in session.execute(
        sa.select(
            col(Mediator.id),
            col(Mediator.home_lat),
            col(Mediator.home_lon),
            col(Mediator.travel_mode),
            col(Mediator.max_travel_km),
        ).where(col(Mediator.id).in_(mediator_ids))
    ):
        mediator = matching.Mediator(
            id=str(mediator_id),
            languages={},
            home=matching.Location(home_lat, home_lon)
            if home_lat is not None and home_lon is not None
            else None,
            travel_mode=travel_mode or "car",
            max_travel_km=max_travel_km,
            busy=tuple(busy.get(mediator_id, ())),
        )
        reasons = [r for rule in RULES_OF_THE_POINT if (r := rule(job, mediator)) is not None]
        if (late := rule_reach_in_time(job, mediator, now)) is not None:
            reasons.append(late)
        found[mediator_id] = reasons
    return found


def serve_exclusions(
    session: Session,
    *,
    request: Request,
    mediator_id: int,
    now: datetime,
    tz: ZoneInfo,
    limit_reached: LimitsReached = NO_LIMITS,
) -> list[matching.Exclusion]:
    """Why this one mediator could not take `request` as it stands now (empty: they can).

    The engine's own rules, with the mediator's other jobs and absences; the
    request's own assignment counts for nothing. One out of the pool (paused, or
    taken out, and kept their jobs) is read as the engine would read them in it: being
    out of the pool is no reason to lose a job they were let keep. Only an erased
    mediator has nothing to be read by.
    `limit_reached`: the allowance limits (none by default); a job they hold is
    given back from the totals first, as for any request placed again.
    """
    most_cents = expected_cents(limit_reached, request)
    snapshot = pool_snapshot(
        session,
        start=request.start,
        end=request.end,
        tz=tz,
        skip_request_ids=frozenset({request.id}),
        language=request.language,
        limit_reached=limit_reached,
        most_cents=most_cents,
    )
    found = next((m for m in snapshot.mediators if m.id == str(mediator_id)), None)
    if found is None:
        holder = _load_members(
            session,
            None,
            where=[col(Mediator.id) == mediator_id, col(Mediator.erased_at).is_(None)],
        )
        if holder:
            [found] = pool_snapshot(
                session,
                start=request.start,
                end=request.end,
                tz=tz,
                skip_request_ids=frozenset({request.id}),
                members=holder,
                limit_reached=limit_reached,
                most_cents=most_cents,
            ).mediators
    if found is None:
        return [matching.Exclusion(str(mediator_id), "language", {"language": request.language})]
    engine = engine_request(session, request, tz=tz, limits=limit_reached)
    return matching.exclusions(engine, found, now=now)


@cache
def _engine_request_queries() -> tuple[sa.Executable, sa.Executable]:
    """Who served a client before, and an organisation's lists: built once, as statements.

    Parameters: `client_ref`, `organisation_id`, `request_id` (served before);
    `organisation_id` (lists). Every ranking asks both (intake ranks the new
    request and the open ones around it), and building a statement costs
    more than running it.
    """
    served_before = (
        sa.select(col(Assignment.mediator_id))
        .join(Request, col(Request.id) == col(Assignment.request_id))
        .where(
            col(Request.client_ref) == sa.bindparam("client_ref"),
            col(Request.organisation_id) == sa.bindparam("organisation_id"),
            col(Request.id) != sa.bindparam("request_id"),
            col(Request.status).in_(LIVE),
            col(Assignment.cancelled_at).is_(None),
        )
        .order_by(col(Request.start).desc())
    )
    lists = (
        sa.select(col(OrganisationMediator.mediator_id), col(OrganisationMediator.kind))
        .where(col(OrganisationMediator.organisation_id) == sa.bindparam("organisation_id"))
        .order_by(col(OrganisationMediator.id))
    )
    return served_before, lists


def engine_request(
    session: Session,
    request: Request,
    *,
    tz: ZoneInfo,
    lists_read: dict[int, list[Any]] | None = None,
    ordering: bool = True,
    not_for_client: tuple[str, ...] | None = None,
    limits: LimitsReached = NO_LIMITS,
) -> matching.Request:
    """A request as the engine sees it, with continuity and the organisation's lists.

    Times are given in the town's zone, the hours people use. `lists_read`:
    the organisations' lists already read in this step, by organisation (one
    wave run ranks its request and up to eight others around it, mostly of
    the same organisation; nothing changes the lists in between).
    `ordering=False` leaves out what only orders the candidates (whoever holds
    the series or served the client before, the organisation's preferred),
    two statements a request, for a caller who wants whom, not in what order
    (``matching.feasible_ids``). `not_for_client`: the client's marks, when
    the caller read them already (``conflicts.not_for_clients``).
    `limits`: the allowance limits the pool was built with; the job's expected
    allowance (for the monthly limits' headroom) comes from their rules.
    """
    served_before, lists_query = _engine_request_queries()
    # Continuity in a series first: whoever holds another occurrence of it.
    preferred: list[str] = [str(m) for m in series.holders(session, request)] if ordering else []
    if request.client_ref and ordering:
        # Continuity: whoever served this client before (most recent first).
        for (mediator_id,) in session.execute(
            served_before,
            {
                "client_ref": request.client_ref,
                "organisation_id": request.organisation_id,
                "request_id": request.id,
            },
        ):
            if str(mediator_id) not in preferred:
                preferred.append(str(mediator_id))
    lists = lists_read.get(request.organisation_id) if lists_read is not None else None
    if lists is None:
        lists = list(session.execute(lists_query, {"organisation_id": request.organisation_id}))
        if lists_read is not None:
            lists_read[request.organisation_id] = lists
    if ordering:
        preferred += [
            str(mediator_id)
            for mediator_id, kind in lists
            if kind == "preferred" and str(mediator_id) not in preferred
        ]
    return matching.Request(
        id=str(request.id),
        language=request.language,
        min_level=request.min_level,
        start=request.start.astimezone(tz),
        end=request.end.astimezone(tz),
        mode=request.mode,
        location=_location(request) if request.mode == Mode.in_person else None,
        qualification=request.qualification,
        gender=matching.GenderPreference(
            request.gender_value,
            "required" if request.gender_strength == "required" else "preferred",
        )
        if request.gender_value
        else None,
        priority=request.priority,
        client_ref=request.client_ref,
        preferred_mediators=tuple(preferred),
        excluded_mediators=tuple(
            str(mediator_id) for mediator_id, kind in lists if kind == "excluded"
        ),
        not_for_client=conflicts.not_for_client(session, request)
        if not_for_client is None
        else not_for_client,
        expected_allowance_cents=expected_cents(limits, request),
    )


def summary(ranking: matching.Ranking, language: str, *, t: locales.Translator) -> str:
    """ "2 candidates, 1 excluded, 37 do not speak Tigrinya", in `t`'s language."""
    return ", ".join(
        (
            t.ngettext("%(num)s candidate", "%(num)s candidates", len(ranking.candidates)),
            t.ngettext("%(num)s excluded", "%(num)s excluded", len(ranking.excluded_codes)),
            t.ngettext(
                "%(num)s does not speak %(language)s",
                "%(num)s do not speak %(language)s",
                ranking.not_speaking,
                language=t.language(language),
            ),
        )
    )


def expected_cents(limits: LimitsReached, request: Request) -> int:
    """What `request` is expected to pay its mediator, in cents, by the limits' rules."""
    return limits.expected_cents(
        minutes=_minutes(request.start, request.end), in_person=request.mode == Mode.in_person
    )


def candidates(
    session: Session,
    *,
    request: Request,
    now: datetime,
    tz: ZoneInfo,
    limit_reached: LimitsReached = NO_LIMITS,
) -> dict[str, Any]:
    """Ranked candidates with their score parts, and why the others are out.

    Only the language's speakers are loaded; the rest of the active pool is
    counted, so `not_speaking` and the summary speak of the whole pool.
    """
    snapshot = pool_snapshot(
        session,
        start=request.start,
        end=request.end,
        tz=tz,
        skip_request_ids=frozenset({request.id}),
        language=request.language,
        limit_reached=limit_reached,
        most_cents=expected_cents(limit_reached, request),
    )
    ranking = matching.rank(
        engine_request(session, request, tz=tz, limits=limit_reached),
        snapshot.engine_pool(),
        now=now,
    )
    pool_size = session.exec(select(sa.func.count()).select_from(Mediator).where(*_in_pool())).one()
    # The engine saw speakers only; its summary reads this count.
    ranking.not_speaking += pool_size - len(snapshot.mediators)
    english = locales.translator("en")
    reasons: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for exclusion in ranking.excluded:
        reasons[exclusion.mediator_id].append(
            {
                "code": exclusion.code,
                "params": dict(exclusion.params),
                "message": describe(exclusion.code, exclusion.params, t=english, tz=tz),
            }
        )
    # Whoever had this job and lost it is not proposed for it again.
    for mediator_id, code in _taken_off(session, request_id=request.id).items():
        if mediator_id in snapshot.names:
            reasons[mediator_id].append(
                {"code": code, "params": {}, "message": describe(code, {}, t=english, tz=tz)}
            )
    return {
        "request_id": request.id,
        "summary": summary(ranking, request.language, t=english),
        "candidates": [
            {
                "mediator_id": int(c.mediator_id),
                "name": snapshot.names[c.mediator_id],
                "score": round(c.score, 3),
                "parts": {k: round(v, 3) for k, v in c.parts.items()},
                "travel_km": round(c.travel_km, 2),
                "travel_minutes": round(c.travel_minutes, 1),
            }
            for c in ranking.candidates
            if c.mediator_id not in reasons
        ],
        "excluded": [
            {"mediator_id": int(mid), "name": snapshot.names[mid], "reasons": found}
            for mid, found in sorted(reasons.items(), key=lambda item: int(item[0]))
        ],
        "not_speaking": ranking.not_speaking,
    }


def _taken_off(session: Session, *, request_id: int) -> dict[str, str]:
    """Mediators who held this request and lost it, by engine id: the reason's code
    (`taken_back` by the coordinator, or `gave_back` themselves)."""
    found: dict[str, str] = {}
    for mediator_id, status in session.exec(
        select(Offer.mediator_id, Offer.status).where(
            Offer.request_id == request_id,
            col(Offer.status).in_((OfferStatus.revoked, OfferStatus.returned)),
        )
    ):
        found[str(mediator_id)] = "taken_back" if status == OfferStatus.revoked else "gave_back"
    return found


MAX_PERIOD = timedelta(days=14)
#: Requests without a mediator yet: new, with offers out, or given up on.
UNASSIGNED = (RequestStatus.open, RequestStatus.offered, RequestStatus.unfilled)


def plan_period(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    time_limit_s: float,
    seed: int = 0,
    previous: Iterable[tuple[int, int]] = (),
    limit_reached: LimitsReached = NO_LIMITS,
) -> dict[str, Any]:
    """A proposal for every open request starting in [start, end), for review.

    Nothing is written: the coordinator looks at the plan first. Requests that
    are already assigned stay with their mediator (they are busy blocks).
    `previous` ((request id, mediator id) pairs of an earlier plan) is kept
    where only travel, fairness or level would gain by a change; pairs for
    requests no longer open, or mediators no longer in the pool, are dropped,
    and of two pairs for one request the first counts.
    """
    if end <= start:
        raise InvalidInput("to must be after from", field="to", reason="period_order")
    if end - start > MAX_PERIOD:
        raise InvalidInput(
            f"a plan covers at most {MAX_PERIOD.days} days",
            field="to",
            reason="period_too_long",
            params={"days": MAX_PERIOD.days},
        )
    open_requests = list(
        session.exec(
            select(Request)
            .where(
                col(Request.status).in_(UNASSIGNED),
                col(Request.start) >= start,
                col(Request.start) < end,
            )
            .order_by(col(Request.start), col(Request.id))
        )
    )
    if not open_requests:
        raise NotFound("There are no open requests in this period.")
    horizon_end = max(r.end for r in open_requests)
    snapshot = pool_snapshot(
        session,
        start=start,
        end=horizon_end,
        tz=tz,
        limit_reached=limit_reached,
        most_cents=sum(expected_cents(limit_reached, r) for r in open_requests),
    )
    open_ids = {r.id for r in open_requests}
    pool_ids = {m.id for m in snapshot.mediators}
    kept_proposals: dict[str, str] = {}
    for request_id, mediator_id in previous:
        if request_id in open_ids and str(mediator_id) in pool_ids:
            kept_proposals.setdefault(str(request_id), str(mediator_id))
    problem = matching.Problem(
        mediators=tuple(snapshot.mediators),
        requests=tuple(
            engine_request(session, r, tz=tz, limits=limit_reached) for r in open_requests
        ),
        time_limit_s=time_limit_s,
        previous=kept_proposals,
    )
    solution = matching.optimize(problem, time_limit_s=time_limit_s, seed=seed)
    by_id = {str(r.id): r for r in open_requests}
    return {
        "from": start,
        "to": end,
        "status": solution.status,
        "requests": len(open_requests),
        "filled": len(solution.assignments),
        "filled_priority": solution.filled_priority,
        "filled_priority_bound": solution.filled_priority_bound,
        "objective": solution.objective,
        "bound": solution.bound,
        "solve_seconds": round(solution.solve_seconds, 3),
        "assignments": [
            {
                "request_id": int(a.request),
                "mediator_id": int(a.mediator),
                "mediator_name": snapshot.names[a.mediator],
                "language": by_id[a.request].language,
                "start": by_id[a.request].start,
            }
            for a in solution.assignments
        ],
        "unassigned": [int(r) for r in solution.unassigned],
    }
