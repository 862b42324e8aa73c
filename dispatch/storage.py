"""Engine, sessions, column types and migrations.

SQLite is the embedded default (WAL, foreign keys, busy timeout); PostgreSQL
is reached through `DATABASE_URL` when several processes share one pool.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, SQLModel, create_engine

try:
    import fcntl
except ImportError:  # not on POSIX: writers of other processes meet SQLite's busy handler
    fcntl = None  # type: ignore[assignment]

MIGRATIONS = Path(__file__).parent / "migrations"

# Named constraints, so migrations can alter them on SQLite and PostgreSQL alike.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware datetimes on every backend.

    SQLite has no time zones, so values are normalised to UTC on the way in
    and come back as aware UTC datetimes; naive datetimes are refused, since
    a naive time in this domain is always a bug.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self,
        value: datetime | None,
        dialect: sa.Dialect,  # noqa: ARG002 (the interface)
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def normalise_url(url: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


#: Pooled connections to a SQLite file: as many as the server's thread pool has threads
#: (anyio's default, 40), which is how many requests can ask for one at a time.
#: SQLAlchemy's default of 5 (+10 overflow) closed and reopened connections under load,
#: each reopened one paying for its PRAGMAs; a SQLite connection costs a file handle.
SQLITE_POOL_SIZE = 40


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        database = sa.engine.make_url(url).database
        if "poolclass" not in kwargs and database and database != ":memory:":
            # A connection for each thread that may ask for one (see SQLITE_POOL_SIZE).
            kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
            kwargs.setdefault("max_overflow", 10)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; issue it ourselves
        # so that a write transaction takes the lock up front (BEGIN IMMEDIATE
        # where asked), which is what makes conditional updates race-free.
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "begin", _enter_writer_queue)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted and overwritten content is zeroed, not left in free pages of the file:
    # an erased mediator's name must not stay readable to whoever copies the file.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _sqlite_begin(connection: sa.Connection) -> None:
    _enter_writer_queue(connection)
    options = connection.get_execution_options()
    connection.exec_driver_sql(f"BEGIN {options.get('sqlite_begin', '')}".strip())


def _enter_writer_queue(connection: sa.Connection) -> None:
    """A writing unit of work's transaction begins: first its turn (`unit_of_work`)."""
    queue: _WriterQueue | None = connection.get_execution_options().get("sprachpool_writer_queue")
    if queue is not None:
        queue.enter()


#: `Session.info` key: the unit of work erased personal data (see `wipe_after_commit`).
WIPE_AFTER_COMMIT = "sprachpool.wipe_after_commit"


def wipe_after_commit(session: Session) -> None:
    """This unit of work erases personal data: once it commits, no copy may stay in the file.

    SQLite in WAL mode writes changed pages to the write-ahead log first; the
    old page images, with what was erased, stay in the log until a checkpoint
    and in the log file until it is overwritten. After an erasure commits, the
    unit of work checkpoints and truncates the log, and `secure_delete` has
    zeroed the freed space, so the database files hold no copy. PostgreSQL keeps
    dead rows until (auto)vacuum; that is the server's to schedule.
    """
    session.info[WIPE_AFTER_COMMIT] = True


def _wipe_log(engine: Engine) -> None:
    """Checkpoint SQLite's write-ahead log into the database and truncate it.

    Best effort: a reader still on an older snapshot keeps the pages it reads
    until it ends (the next checkpoint takes them). Runs on a raw connection so
    that no writer-queue bookkeeping of a transaction applies.
    """
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()


#: `Session.info` key of the rows a unit of work keeps (see `_keep_loaded`).
KEEP_LOADED = "sprachpool.keep_loaded"


@event.listens_for(Session, "loaded_as_persistent")
def _keep_loaded(session: Session, instance: object) -> None:
    """A unit of work holds on to every row it loaded, until it ends.

    The session's identity map holds rows weakly: a place, an organisation or
    a user that one step loaded and let go is gone by the next step, which
    asks the database again (intake read the request's organisation three
    times and its place twice). A unit of work is one request or one job,
    short and small, so keeping its rows costs little; `session.get` then
    answers from memory. Queries still go to the database, and rows are
    refreshed where the code asks for it (`populate_existing`, `refresh`).
    """
    kept = session.info.get(KEEP_LOADED)
    if kept is not None:
        kept.append(instance)


def keep(session: Session, instance: Any) -> Any:
    """A row read in another session joins this unit of work without being read again.

    The request's user is looked up before its unit of work begins (``deps.
    current_user``); a step that needs that row again (the caseworker's "nobody
    found" e-mail) then gets it from `session.get` instead of a SELECT. The row
    is taken as it was read moments before, not refreshed; one with changes
    not yet written, or in this session already, is left as it is.
    """
    state = sa.inspect(instance)
    if state.session is session or not state.detached or state.modified:
        return instance
    kept = session.merge(instance, load=False)
    rows = session.info.get(KEEP_LOADED)
    if rows is not None:
        rows.append(kept)
    return kept


Row = TypeVar("Row", bound=SQLModel)
_IMMUTABLE = (type(None), bool, int, float, str, bytes, Decimal, datetime, date, Enum)


@cache
def _defaults(model: type[SQLModel]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """A table model's field defaults: the immutable ones, and the names of the others.

    The others (a list, a dict, a factory) are made anew for every row, as the
    constructor makes them, so no two rows share one.
    """
    fixed: dict[str, Any] = {}
    fresh: list[str] = []
    for name, field in model.model_fields.items():
        if field.is_required():
            continue
        if field.default_factory is None and isinstance(field.default, _IMMUTABLE):
            fixed[name] = field.default
        else:
            fresh.append(name)
    return fixed, tuple(fresh)


def new_row(model: type[Row], **values: Any) -> Row:
    """A new row object as the model's constructor makes it (defaults, then `values`), cheaply.

    A table model's constructor sets every field through SQLModel's and the
    ORM's instrumented ``setattr``: about 80 us for a message and 180 us for a
    request, on every filing, for the request and each of its messages. Here
    the values go straight into the instance's dict, which is where the ORM
    reads them when it inserts the row, as it does for a row it loads. Table
    models are not validated by their constructor either, so nothing is
    skipped but the bookkeeping; the object is transient until it is added.
    """
    mapper = sa.inspect(model)
    if not mapper.configured:
        # What the ORM's first query would do; a fresh process may build a row before that.
        sa.orm.configure_mappers()
    instance: Row = mapper.class_manager.new_instance()
    fixed, fresh = _defaults(model)
    state = instance.__dict__
    state.update(fixed)
    for name in fresh:
        if name not in values:
            state[name] = model.model_fields[name].get_default(call_default_factory=True)
    state.update(values)
    object.__setattr__(instance, "__pydantic_fields_set__", set(values))
    return instance


def loaded_row(model: type[Row], **values: Any) -> Row:
    """A row read by a plain statement, as if the ORM had loaded it and its session had closed.

    `values` must hold every column (with the primary key); none is read
    later, since a detached row cannot load anything. `keep` (or
    ``session.add``) makes it part of a unit of work without reading it again.
    """
    instance = new_row(model, **values)
    make_transient_to_detached(instance)
    return instance


@cache
def _insert(model: type[SQLModel]) -> tuple[sa.Insert, str]:
    """The model's INSERT returning its new id, built once, and the id's name."""
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    [key] = table.primary_key.columns
    return sa.insert(table).returning(key), key.name


def insert_row(session: Session, instance: Row) -> Row:
    """Insert a new row object with one plain INSERT; it is the session's row from then on.

    For a row written once and then read or changed through the ORM (the
    request a filing creates; built with `new_row`): the ORM's flush of a new
    object costs several times the statement itself. Afterwards the object is
    as the ORM leaves one it flushed: it has its id, ``session.get`` finds it,
    and changes to it are flushed as UPDATEs; its values are the ones it was
    given, not read back.
    """
    statement, key = _insert(type(instance))
    [row] = _values(statement, key, [instance])
    instance.__dict__[key] = session.connection().execute(statement, row).scalar_one()
    _adopt(session, instance)
    return instance


def _values(statement: sa.Insert, key: str, instances: Sequence[SQLModel]) -> list[dict[str, Any]]:
    """Each new row object's column values as its INSERT takes them (without the id)."""
    columns = [column.key for column in statement.table.columns if column.key != key]
    return [{name: instance.__dict__[name] for name in columns} for instance in instances]


def _adopt(session: Session, instance: SQLModel) -> None:
    """A row just inserted by a plain statement (its id set) becomes the session's row,
    as the ORM leaves one it flushed, and is kept for the unit of work."""
    make_transient_to_detached(instance)
    session.add(instance)
    kept = session.info.get(KEEP_LOADED)
    if kept is not None:
        kept.append(instance)


def insert_rows(session: Session, instances: Sequence[SQLModel]) -> None:
    """Insert new row objects of one model with one plain INSERT run for all of them.

    For rows a unit of work writes and never reads back as objects (a
    wave's messages): the ORM's flush of new objects asks for each id back
    and keeps books on each, and on PostgreSQL it sends one long statement
    of every row's values that psycopg converts afresh each time; here the
    driver runs one short prepared INSERT for all rows. The objects stay
    transient and get no id; the table's constraints hold as for any insert.
    """
    if not instances:
        return
    statement, key = _insert(type(instances[0]))
    session.connection().execute(sa.insert(statement.table), _values(statement, key, instances))


#: `Session.info` key of the rows `insert_later` holds back, by table (see `rows_later`).
_LATER = "sprachpool.rows_later"
_Held = dict[sa.Insert, list[dict[str, Any]]]


def insert_later(session: Session, insert: sa.Insert, values: dict[str, Any]) -> None:
    """Run a plain INSERT of one row now, or at the end of the `rows_later` block around it.

    For append-only rows nothing in the block reads back (an audit event, a
    deadline); a reader of their table in the block calls `write_later` first.
    """
    pending: _Held | None = session.info.get(_LATER)
    connection = session.connection()  # the transaction begins: its rollback drops the row
    if pending is None:
        connection.execute(insert, values)
    else:
        pending.setdefault(insert, []).append(values)


def write_later(session: Session, insert: sa.Insert) -> None:
    """The rows held back for `insert` go in now: a step is about to read their table."""
    pending: _Held | None = session.info.get(_LATER)
    if pending and (rows := pending.pop(insert, None)):
        session.connection().execute(insert, rows)


@contextmanager
def rows_later(session: Session) -> Iterator[None]:
    """The rows `insert_later` is given inside are written when the block ends, one statement
    per table (the driver's executemany).

    Filing a request writes two audit events and three deadlines among its
    other statements; each INSERT of its own cost a round trip on PostgreSQL
    and SQLAlchemy's work per statement on both. Ends without writing when the
    block raises; a rollback inside drops what was held (`_drop_later`).
    """
    if _LATER in session.info:
        yield  # inside a block already: its end writes these too
        return
    pending: _Held = {}
    session.info[_LATER] = pending
    try:
        yield
    finally:
        del session.info[_LATER]
    for insert, rows in pending.items():
        session.connection().execute(insert, rows)


@event.listens_for(Session, "after_rollback")
def _drop_later(session: Session) -> None:
    """Rows held back in a transaction that was rolled back are not written after it."""
    pending = session.info.get(_LATER)
    if pending:
        pending.clear()


def insert_rows_with_ids(session: Session, instances: Sequence[Row], *, match: str) -> None:
    """Insert new row objects of one model in one statement; each gets its id, as `insert_row`.

    For rows the unit of work goes on using as objects (a wave's offers: their
    ids go into the messages). The ORM's flush asks for the ids back in the
    order the rows were given, which SQLite cannot promise for several rows at
    once, so it sent one INSERT per offer; here the ids come back in any order
    with `match`, a column whose value differs from row to row, and find their
    objects by it. Afterwards each object is the session's row, as after
    `insert_row`.
    """
    if not instances:
        return
    statement, key = _insert(type(instances[0]))
    rows = _values(statement, key, instances)
    by_match = {row[match]: instance for row, instance in zip(rows, instances, strict=True)}
    if len(by_match) != len(rows):
        raise ValueError(f"insert_rows_with_ids: {match} repeats, so the ids cannot be matched")
    table = statement.table
    returned = session.connection().execute(
        sa.insert(table).returning(table.c[key], table.c[match]), rows
    )
    for new_id, value in returned:
        instance = by_match[value]
        instance.__dict__[key] = new_id
        _adopt(session, instance)


@cache
def _by_id(model: type[SQLModel]) -> sa.Select[Any]:
    """The model's row by its id, every column, built once."""
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    [key] = table.primary_key.columns
    return sa.select(table).where(key == sa.bindparam("id"))


def get_row(session: Session, model: type[Row], ident: int) -> Row | None:
    """``session.get`` for a row a filing reads whole and only reads (its organisation, place).

    The session's own object when it has one; else one plain SELECT of the
    row's columns, taken into the session as if the ORM had loaded it (and
    kept for the unit of work, see `_keep_loaded`), so later ``session.get``
    calls answer from memory. The ORM's loading of a row cost about twice
    the statement.
    """
    mapper = sa.inspect(model)
    found = session.identity_map.get(mapper.identity_key_from_primary_key([ident]))
    if found is not None:
        return cast(Row, found)
    row = session.connection().execute(_by_id(model), {"id": ident}).first()
    if row is None:
        return None
    instance = loaded_row(model, **row._asdict())
    session.add(instance)
    kept = session.info.get(KEEP_LOADED)
    if kept is not None:
        kept.append(instance)
    return instance


#: How long a writer waits in this process's queue for its database (as SQLite's busy_timeout).
WRITER_WAIT_S = 30.0
#: Beside a database file `x.db`, the file `x.db-writers` whose lock queues writing processes.
WRITERS_FILE_SUFFIX = "-writers"


class HandOverLock:
    """A lock (of `slots` holders) that waiting threads get in the order they asked.

    `threading.Lock` wakes a waiter on release, but a thread arriving just
    then (or the releasing one, back for its next unit of work) takes the
    lock first, and the woken waiter waits again. Under load a few writers
    wait many turns while newcomers pass them: with it, the intake bench's
    slowest filings took 330-550 ms, here 230-300 ms. The holder hands the
    lock straight to the longest waiter instead; it is never free while
    anyone waits.
    """

    def __init__(self, slots: int = 1) -> None:
        self._guard = threading.Lock()
        self._free = slots
        self._waiters: deque[threading.Lock] = deque()

    def acquire(self, timeout: float = -1) -> bool:
        """Take the lock, waiting at most `timeout` seconds (-1: as long as it takes)."""
        with self._guard:
            if self._free > 0:  # only while nobody waits (a release hands a slot on)
                self._free -= 1
                return True
            waiter = threading.Lock()
            waiter.acquire()
            self._waiters.append(waiter)
        if waiter.acquire(timeout=timeout):
            return True
        with self._guard:
            try:
                self._waiters.remove(waiter)
            except ValueError:
                return True  # handed over between the timeout and here: it is ours
            return False

    def release(self) -> None:
        with self._guard:
            if self._waiters:
                self._waiters.popleft().release()  # the slot goes to the next in line
            else:
                self._free += 1

    def locked(self) -> bool:
        """Whether every slot is held (or being handed on)."""
        return self._free == 0

    def waiting(self) -> int:
        """How many threads wait for the lock."""
        return len(self._waiters)


class SqliteWriteLock:
    """The queue for writing to one SQLite database file: the process's threads, then its processes.

    SQLite lets one transaction write at a time. Writers that find the lock
    taken wait in SQLite's busy handler, which sleeps in growing steps (up to
    100 ms) and serves nobody in order: under load a few of them wait for
    seconds. Waiting here instead costs nothing while the database is free
    and hands it on without a sleep. A thread first takes the process's
    lock (so one thread per process goes on), then an exclusive `flock` on
    a file beside the database, which the kernel hands to the next waiting
    process the moment the writer before it lets go: several uvicorn workers
    (and the CLI) on one SQLite file queue like threads of one process. The
    file lock is released with the process, even when it is killed.
    """

    def __init__(self, database: str) -> None:
        self.threads = HandOverLock()
        self._database = database
        self._fd: int | None = None

    def acquire(self, timeout: float) -> bool:
        if not self.threads.acquire(timeout=timeout):
            return False
        try:
            fd = self._file()
            if fd is not None:
                # Blocks in the kernel, without polling; the holder is one thread of
                # another process, inside one short unit of work.
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            self.threads.release()
            raise
        return True

    def locked(self) -> bool:
        """Whether a thread of this process holds (or is taking) the queue."""
        return self.threads.locked()

    def release(self) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self.threads.release()

    def _file(self) -> int | None:
        """The lock file's descriptor, opened once per process (under the threads' lock)."""
        if self._fd is None and fcntl is not None and self._database not in ("", ":memory:"):
            path = Path(self._database).resolve()
            self._fd = os.open(f"{path}{WRITERS_FILE_SUFFIX}", os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd


_write_locks: dict[str, SqliteWriteLock] = {}
_write_locks_guard = threading.Lock()


def sqlite_write_lock(engine: Engine) -> SqliteWriteLock | None:
    """The queue for writing to this SQLite database (`SqliteWriteLock`); None on PostgreSQL.

    One per database file, shared by every engine on it in the process.
    """
    if engine.dialect.name != "sqlite":
        return None
    database = str(engine.url.database or ":memory:")
    key = database if database == ":memory:" else str(Path(database).resolve())
    with _write_locks_guard:
        lock = _write_locks.get(key)
        if lock is None:
            lock = _write_locks[key] = SqliteWriteLock(database)
        return lock


#: Units of work writing to one PostgreSQL database at once, per process (`postgres_writers`).
POSTGRES_WRITERS = 2

_postgres_writers: dict[str, HandOverLock] = {}


def postgres_writers(engine: Engine) -> HandOverLock | None:
    """The writing units of work's turns on this PostgreSQL database, in this process.

    PostgreSQL lets them all write at once, but a filing is mostly Python
    (the ranking, the messages), and twenty threads of one process running
    it at once take turns on the GIL at every statement: under the intake
    bench each filing cost 13-15 ms of CPU that way, 10-11 ms with one or
    two at a time, at more filings a second and a third less p99. The
    others wait here, before their first statement, holding no row lock.
    Several processes each have their own turns. None on SQLite.
    """
    if engine.dialect.name == "sqlite":
        return None
    key = engine.url.render_as_string(hide_password=False)
    with _write_locks_guard:
        slots = _postgres_writers.get(key)
        if slots is None:
            slots = _postgres_writers[key] = HandOverLock(POSTGRES_WRITERS)
        return slots


class _WriterQueue:
    """One unit of work's place in its database's writer queue (`sqlite_write_lock`,
    `postgres_writers`).

    Entered when the unit's first transaction begins, not when the unit
    opens: a request resolves its user and parses its body before it
    touches the database, and none of that should hold up other writers.
    Left when the unit ends; a rollback and a new BEGIN inside the unit
    (a lost race) keep the place.
    """

    def __init__(self, lock: SqliteWriteLock | HandOverLock) -> None:
        self.lock = lock
        self.held = False

    def enter(self) -> None:
        if self.held:
            return
        if not self.lock.acquire(timeout=WRITER_WAIT_S):
            raise sa.exc.OperationalError(
                "BEGIN",
                None,
                Exception(f"database is locked (waited {WRITER_WAIT_S:.0f} s for a writer)"),
            )
        self.held = True

    def leave(self) -> None:
        if self.held:
            self.held = False
            self.lock.release()


@contextmanager
def unit_of_work(engine: Engine, *, immediate: bool = False) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error.

    `immediate` takes SQLite's write lock at BEGIN, for jobs that read and
    then write (otherwise two of them can deadlock on the lock upgrade);
    just before that it queues for the database in this process
    (`sqlite_write_lock`), and it leaves the queue when the unit ended.
    On PostgreSQL it queues for one of the process's `postgres_writers`.
    The lock is a plain lock, not a thread's own: FastAPI may open the
    session on one worker thread and close it on another.
    """
    bind: Any = engine
    queue: _WriterQueue | None = None
    if immediate:
        if (lock := sqlite_write_lock(engine)) is not None:
            queue = _WriterQueue(lock)
            bind = engine.execution_options(sqlite_begin="IMMEDIATE", sprachpool_writer_queue=queue)
        elif (slots := postgres_writers(engine)) is not None:
            queue = _WriterQueue(slots)
            bind = engine.execution_options(sprachpool_writer_queue=queue)
    try:
        with Session(bind, expire_on_commit=False, info={KEEP_LOADED: []}) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            if session.info.get(WIPE_AFTER_COMMIT):
                _wipe_log(engine)
    finally:
        if queue is not None:
            queue.leave()


#: Rows SQLite's ANALYZE reads per index (``PRAGMA analysis_limit``): statistics close
#: enough for the planner at a bounded cost, whatever the size of the table.
ANALYSIS_LIMIT = 1000


def refresh_statistics(engine: Engine) -> bool:
    """Give SQLite's query planner statistics of the tables as they are now.

    Without them SQLite guesses that an equality on any indexed column is
    selective. A filing's queries of the offers ("this request's offers
    that were declined") then went through the (status, expires_at) index
    and read every declined offer on file: with half a year of offers, tens
    of milliseconds a filing. With statistics the planner knows that a
    status matches a quarter of the table and a request a handful of rows.
    Tables grow, so the scheduler runs this daily (and at start). PostgreSQL
    keeps its own statistics (autovacuum): nothing to do there. Returns
    whether anything ran.
    """
    if engine.dialect.name != "sqlite":
        return False
    # A writer like any other: in the process's queue, with the write lock from BEGIN.
    with unit_of_work(engine, immediate=True) as session:
        session.connection().exec_driver_sql(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        session.connection().exec_driver_sql("ANALYZE")
    return True


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def migrate(url: str, revision: str = "heads") -> None:
    """Bring the database schema to `revision` (default: every newest head)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
