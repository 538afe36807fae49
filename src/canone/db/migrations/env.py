"""Alembic environment, run by `Database.migrate()` with its own connection.

A new revision, from the difference between `canone.db.tables` and a database at head:
    with db.engine.begin() as c:
        alembic.command.revision(db.alembic_config(c), "what changed", autogenerate=True)
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext

from canone.db.tables import metadata
from canone.db.types import JSONText, UTCDateTime


def render_item(kind: str, item: Any, autogen: AutogenContext) -> str | Literal[False]:
    """Write canone's column types as the plain types they store, so a revision does not
    depend on code that may change later."""
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if kind == "type" and isinstance(item, JSONText):
        return "sa.Text()"
    return False


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through canone.db.database.Database.migrate()")

context.configure(connection=connection, target_metadata=metadata, compare_type=True,
                  render_as_batch=connection.dialect.name == "sqlite", render_item=render_item)
with context.begin_transaction():
    context.run_migrations()
