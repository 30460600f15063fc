"""Alembic environment: migrations run on a connection handed in by kubesift.store."""

from alembic import context

from kubesift.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when alembic is run by hand
    raise RuntimeError("run migrations through `kubesift.store.ensure_schema`")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
