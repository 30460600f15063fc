"""Opening the store: engine, SQLite pragmas, schema migrations."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from kubesift.errors import ConfigError, StoreError

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # busy_timeout first: switching a new file to WAL needs a lock another process may hold.
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    # WAL + NORMAL survives a killed process (only power loss can drop the last commit).
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def create_store_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL and foreign keys, parent dirs are created."""
    try:
        if url.startswith("sqlite"):
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url)
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=True)
    except ArgumentError as exc:
        raise ConfigError(f"invalid database URL {url!r}: {exc}") from exc
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"the driver for {url.split(':', 1)[0]} is not installed ({exc.name}); "
            "for PostgreSQL install kubesift[postgres]"
        ) from exc


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


# Key of the advisory lock that serialises migrations on PostgreSQL: "ksmg".
_MIGRATION_LOCK = 0x6B736D67


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """An exclusive lock on ``<database>.migrate.lock`` while a SQLite file is migrated."""
    path = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    if not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_schema(engine: Engine) -> None:
    """Bring the database to the newest schema (no-op when it is already there)."""
    try:
        head = head_revision()
        if current_revision(engine) == head:
            return
        cfg = _alembic_config()
        with _sqlite_file_lock(engine), engine.begin() as conn:
            # Two processes opening a new SQLite file together: the second waits on the
            # file lock above, then finds the schema current.
            if (
                conn.dialect.name == "sqlite"
                and MigrationContext.configure(conn).get_current_revision() == head
            ):
                return
            if conn.dialect.name == "postgresql":
                # Replicas sharing one PostgreSQL database may start together: the first
                # migrates, the others wait here and then find the schema current. (The
                # lock ends with the transaction; SQLite stores are not shared that way.)
                conn.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
                if MigrationContext.configure(conn).get_current_revision() == head:
                    return
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except OperationalError as exc:
        raise StoreError(f"cannot open the store at {engine.url!r}: {exc.orig}") from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate the store: {exc}") from exc
