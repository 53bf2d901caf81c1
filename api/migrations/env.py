"""Alembic environment: runs on the connection :func:`api.migrations.upgrade` passes."""

from __future__ import annotations

from alembic import context

from api.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached through plain `alembic`
    raise RuntimeError("Run migrations with `flask --app api init-db`.")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
