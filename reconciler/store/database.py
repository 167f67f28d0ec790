"""Opening the state store: engine, SQLite settings, and the schema brought to the latest version.

Alembic runs only when the recorded schema version is not the latest one (reading one row is all
a current store costs). A store written by a newer version of the reconciler is refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from pathlib import Path
from typing import Callable, Iterator

import sqlalchemy as sa

from reconciler.errors import StateError

HEAD_REVISION = "0001"
KNOWN_REVISIONS = ("0001",)
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Database:
    def __init__(self, engine: sa.Engine, url: str, clock: Clock = utc_now):
        self.engine = engine
        self.url = url
        self.clock = clock
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._write_lock = threading.RLock()  # SQLite allows one writer; serialise ours in-process

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """One atomic unit of writes (and reads that must see a consistent state)."""
        with self._write_lock if self.is_sqlite else contextlib.nullcontext():
            with self.engine.begin() as connection:
                yield connection

    @contextlib.contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as connection:
            yield connection

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.SQLAlchemyError:
            return False

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str, clock: Clock = utc_now, migrate: bool = True) -> Database:
    engine = _engine(url)
    database = Database(engine, url, clock)
    if migrate:
        _migrate(database)
    return database


def _engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return sa.create_engine(url, pool_pre_ping=True)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise StateError(f"cannot use state store {_safe(url)}: {exc}") from exc


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at each commit in WAL mode, without a fsync per write
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _safe(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<invalid URL>"


def current_revision(database: Database) -> str | None:
    try:
        with database.reading() as connection:
            return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return None  # no alembic_version table yet: an empty store


def _migrate(database: Database) -> None:
    try:
        revision = current_revision(database)
    except sa.exc.SQLAlchemyError as exc:
        raise StateError(f"cannot reach the state store {_safe(database.url)}: {exc}") from exc
    if revision == HEAD_REVISION:
        return
    if revision is not None and revision not in KNOWN_REVISIONS:
        raise StateError(f"the state store {_safe(database.url)} has schema version {revision}, newer than this "
                         f"reconciler knows ({HEAD_REVISION}); upgrade the reconciler")
    upgrade(database)


def upgrade(database: Database, target: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, target)
