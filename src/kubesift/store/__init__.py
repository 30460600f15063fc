"""The store: SQLAlchemy Core tables, migrations and the queries other parts need."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from kubesift.config import Settings
from kubesift.store.db import create_store_engine, ensure_schema


def open_store(settings: Settings) -> Engine:
    """Open (creating and migrating if needed) the store the settings point to."""
    engine = create_store_engine(settings.database_url)
    ensure_schema(engine)
    return engine


__all__ = ["create_store_engine", "ensure_schema", "open_store"]
